package users

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/port21/port21/internal/datadir"
)

// PostgresSchemaVersion is the version of the PostgreSQL schema this package
// writes, kept in the one-row table schema_version. It counts separately
// from SchemaVersion (SQLite's): the PostgreSQL store started at the schema
// SQLite reached in version 2.
const PostgresSchemaVersion = 1

// postgresMigrations()[i] takes a PostgreSQL database from schema version i
// to i+1; released entries are never edited. Every text column is COLLATE
// "C": names and prefixes sort byte-wise as on SQLite and in Go, and times,
// kept as the same sortable UTC text as on SQLite (formatTime), compare in
// time order whatever the database's locale.
func postgresMigrations() []string {
	return []string{
		// 0 -> 1: what SQLite has at its version 2.
		`CREATE TABLE users (
			name               TEXT COLLATE "C" NOT NULL PRIMARY KEY,
			home               TEXT COLLATE "C" NOT NULL DEFAULT '',
			hash               TEXT COLLATE "C" NOT NULL,
			read_only          BOOLEAN NOT NULL DEFAULT FALSE,
			allow_cleartext    BOOLEAN NOT NULL DEFAULT FALSE,
			tls_reuse_optional BOOLEAN NOT NULL DEFAULT FALSE,
			created            TEXT COLLATE "C" NOT NULL,
			updated            TEXT COLLATE "C" NOT NULL,
			perms              TEXT COLLATE "C" NOT NULL DEFAULT '',
			expires            TEXT COLLATE "C" NOT NULL DEFAULT '',
			disabled           BOOLEAN NOT NULL DEFAULT FALSE,
			quota_bytes        BIGINT  NOT NULL DEFAULT 0 CHECK (quota_bytes >= 0),
			quota_files        BIGINT  NOT NULL DEFAULT 0 CHECK (quota_files >= 0),
			rate_up            BIGINT  NOT NULL DEFAULT 0 CHECK (rate_up >= 0),
			rate_down          BIGINT  NOT NULL DEFAULT 0 CHECK (rate_down >= 0),
			max_sessions       BIGINT  NOT NULL DEFAULT 0 CHECK (max_sessions >= 0)
		);
		CREATE TABLE user_allow (
			"user" TEXT COLLATE "C" NOT NULL REFERENCES users (name) ON DELETE CASCADE ON UPDATE CASCADE,
			pos    INTEGER NOT NULL,
			prefix TEXT COLLATE "C" NOT NULL,
			PRIMARY KEY ("user", pos)
		);
		CREATE TABLE bans (
			prefix   TEXT COLLATE "C" NOT NULL PRIMARY KEY,
			until    TEXT COLLATE "C" NOT NULL,
			offences INTEGER NOT NULL DEFAULT 1,
			reason   TEXT NOT NULL DEFAULT '',
			created  TEXT COLLATE "C" NOT NULL
		);
		CREATE TABLE meta (
			key   TEXT COLLATE "C" NOT NULL PRIMARY KEY,
			value BIGINT NOT NULL
		);
		INSERT INTO meta (key, value) VALUES ('bans_version', 0);`,
	}
}

// migrationLock is the key of the advisory lock held while the schema is
// read and migrated: two nodes starting at once take turns, and the second
// finds the schema already up to date. ("port21" in ASCII.)
const migrationLock int64 = 0x706f72743231

// connectTimeout bounds a connection attempt when the URL sets no
// connect_timeout: a server that is down fails start-up instead of hanging.
const connectTimeout = 10 * time.Second

// IsPostgres reports whether store (the config key) names a PostgreSQL
// database rather than the embedded SQLite file.
func IsPostgres(store string) bool {
	return strings.HasPrefix(store, "postgres://") || strings.HasPrefix(store, "postgresql://")
}

// Open opens the store the "store" configuration key names: "" for the
// SQLite file users.db in dataDir (which must exist), or a postgres:// URL
// for a PostgreSQL database that several port21 nodes share.
func Open(ctx context.Context, store, dataDir string) (*Store, error) {
	switch {
	case store == "":
		return OpenStore(ctx, datadir.Dir(dataDir).Store())
	case IsPostgres(store):
		return OpenPostgres(ctx, store)
	}
	return nil, errors.New(`users: open store: want "" (SQLite in the data directory) or a postgres:// URL`)
}

// OpenPostgres opens the PostgreSQL database at the URL dsn (libpq's
// postgres:// form; PGPASSWORD, PGPASSFILE and ~/.pgpass are honoured),
// creating or migrating its schema. Several Stores, in one process or on
// many machines, may use one database at once.
//
// The password never appears in an error: errors name the URL with its
// password masked, and any error text that would carry it is scrubbed.
//
// It uses pgx through database/sql (package stdlib) rather than pgx's own
// interface, so that every query of the SQLite store serves PostgreSQL too,
// rewritten only for its $1 placeholders.
func OpenPostgres(ctx context.Context, dsn string) (*Store, error) {
	name, secrets := redactDSN(dsn)
	fail := func(err error) error {
		return fmt.Errorf("users: open store %s: %w", name, &scrubbed{err: err, secrets: secrets})
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		// pgx masks the password in its message only on a best-effort
		// basis, and this one may hold the whole URL: say less.
		return nil, fmt.Errorf("users: open store %s: not a valid PostgreSQL URL", name)
	}
	if cfg.Password != "" {
		secrets = append(secrets, cfg.Password) // from PGPASSWORD, say
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = connectTimeout
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)
	s := &Store{db: db, now: time.Now, dollar: true,
		readOpts: &sql.TxOptions{ReadOnly: true, Isolation: sql.LevelRepeatableRead}, lostConn: pgLostConn}
	if err := s.migratePostgres(ctx); err != nil {
		db.Close()
		return nil, fail(err)
	}
	return s, nil
}

// PostgresCleartext reports, for serve to warn about, whether the
// connection to the database at dsn may go without TLS to a host that is
// neither loopback nor a Unix socket: sslmode=disable, or libpq's default
// "prefer" (and "allow"), which fall back to clear text, so that whoever is
// on the path reads the password hashes, or downgrades the connection. It
// returns that host, or "" when there is none (or dsn does not parse:
// OpenPostgres reports that).
func PostgresCleartext(dsn string) string {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return ""
	}
	type route struct {
		host string
		tls  bool
	}
	routes := []route{{cfg.Host, cfg.TLSConfig != nil}}
	for _, f := range cfg.Fallbacks {
		routes = append(routes, route{f.Host, f.TLSConfig != nil})
	}
	for _, r := range routes {
		if r.tls || strings.HasPrefix(r.host, "/") || r.host == "localhost" {
			continue
		}
		if a, err := netip.ParseAddr(r.host); err == nil && a.IsLoopback() {
			continue
		}
		return r.host
	}
	return ""
}

// migratePostgres brings the schema up to PostgresSchemaVersion in one
// transaction under an advisory lock. PostgreSQL's DDL is transactional, so
// a failed migration leaves the schema as it was.
func (s *Store) migratePostgres(ctx context.Context) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", migrationLock); err != nil {
			return fmt.Errorf("lock schema: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
			one     BOOLEAN NOT NULL PRIMARY KEY DEFAULT TRUE CHECK (one),
			version INTEGER NOT NULL)`); err != nil {
			return fmt.Errorf("create schema_version: %w", err)
		}
		var v int
		switch err := tx.QueryRowContext(ctx, "SELECT version FROM schema_version").Scan(&v); {
		case errors.Is(err, sql.ErrNoRows):
			if _, err := tx.ExecContext(ctx, "INSERT INTO schema_version (version) VALUES (0)"); err != nil {
				return fmt.Errorf("create schema_version: %w", err)
			}
		case err != nil:
			return fmt.Errorf("read schema version: %w", err)
		}
		m := postgresMigrations()
		if v > len(m) {
			return fmt.Errorf("%w (schema version %d; this one knows up to %d)", ErrSchemaTooNew, v, len(m))
		}
		for ; v < len(m); v++ {
			if _, err := tx.ExecContext(ctx, m[v]); err != nil {
				return fmt.Errorf("migrate schema to version %d: %w", v+1, err)
			}
			if _, err := tx.ExecContext(ctx, "UPDATE schema_version SET version = $1", v+1); err != nil {
				return fmt.Errorf("migrate schema to version %d: %w", v+1, err)
			}
		}
		return nil
	})
}

// redactDSN returns dsn with its password masked, for errors and logs, and
// the secrets to scrub from error text. A URL that does not parse is named
// by its scheme alone: its password cannot be found to mask it.
func redactDSN(dsn string) (name string, secrets []string) {
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme == "" {
		scheme, _, _ := strings.Cut(dsn, "://")
		if !IsPostgres(dsn) {
			scheme = "store"
		}
		return scheme + "://(unparsable URL)", nil
	}
	if pw, ok := u.User.Password(); ok && pw != "" {
		secrets = append(secrets, pw, url.QueryEscape(pw), url.PathEscape(pw))
	}
	q := u.Query()
	if pw := q.Get("password"); pw != "" {
		secrets = append(secrets, pw, url.QueryEscape(pw))
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted(), secrets
}

// scrubbed is an error whose text has every secret masked. Unwrap still
// gives the original, for errors.Is.
type scrubbed struct {
	err     error
	secrets []string
}

func (e *scrubbed) Error() string {
	s := e.err.Error()
	for _, p := range e.secrets {
		if p != "" {
			s = strings.ReplaceAll(s, p, "xxxxx")
		}
	}
	return s
}

func (e *scrubbed) Unwrap() error { return e.err }

// pgLostConn reports errors of a connection the server ended: an
// administrator's or a shutdown's termination (SQLSTATE class 57P), a
// connection exception (class 08), or a connection closed under the query.
// database/sql retries only driver.ErrBadConn, and pgx reports a pooled
// connection that a restarted server terminated as the server's FATAL error
// on its first query instead.
func pgLostConn(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return strings.HasPrefix(pgErr.Code, "57P") || strings.HasPrefix(pgErr.Code, "08")
	}
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, net.ErrClosed)
}
