package users

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// SchemaVersion is the version of the database schema this package writes,
// kept in SQLite's PRAGMA user_version. OpenStore migrates older databases up
// to it and refuses newer ones, which a later port21 wrote and this one
// cannot understand.
const SchemaVersion = 2

// ErrSchemaTooNew reports a database written by a newer port21.
var ErrSchemaTooNew = errors.New("user database was written by a newer port21")

// busyTimeout is how long a statement waits for another process's write
// lock (the CLI's while the server runs, or the other way round) before
// failing with "database is locked".
const busyTimeout = 5 * time.Second

// migrations()[i] takes a database from schema version i to i+1. Entries are
// never edited once released; a schema change is a new entry.
func migrations() []string {
	return []string{
		// 0 -> 1: accounts and their allow lists.
		`CREATE TABLE users (
			name               TEXT    NOT NULL PRIMARY KEY,
			home               TEXT    NOT NULL DEFAULT '',
			hash               TEXT    NOT NULL,
			read_only          INTEGER NOT NULL DEFAULT 0 CHECK (read_only IN (0, 1)),
			allow_cleartext    INTEGER NOT NULL DEFAULT 0 CHECK (allow_cleartext IN (0, 1)),
			tls_reuse_optional INTEGER NOT NULL DEFAULT 0 CHECK (tls_reuse_optional IN (0, 1)),
			created            TEXT    NOT NULL,
			updated            TEXT    NOT NULL
		) STRICT;
		CREATE TABLE user_allow (
			user   TEXT    NOT NULL REFERENCES users (name) ON DELETE CASCADE ON UPDATE CASCADE,
			pos    INTEGER NOT NULL,
			prefix TEXT    NOT NULL,
			PRIMARY KEY (user, pos)
		) STRICT;`,
		// 1 -> 2: account expiry, disabling, permissions, quotas, rates and
		// session caps (issue 8); bans shared by serve and `port21 ban`,
		// with a version serve polls to notice the CLI's changes.
		`ALTER TABLE users ADD COLUMN perms TEXT NOT NULL DEFAULT '';
		ALTER TABLE users ADD COLUMN expires TEXT NOT NULL DEFAULT '';
		ALTER TABLE users ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1));
		ALTER TABLE users ADD COLUMN quota_bytes INTEGER NOT NULL DEFAULT 0 CHECK (quota_bytes >= 0);
		ALTER TABLE users ADD COLUMN quota_files INTEGER NOT NULL DEFAULT 0 CHECK (quota_files >= 0);
		ALTER TABLE users ADD COLUMN rate_up INTEGER NOT NULL DEFAULT 0 CHECK (rate_up >= 0);
		ALTER TABLE users ADD COLUMN rate_down INTEGER NOT NULL DEFAULT 0 CHECK (rate_down >= 0);
		ALTER TABLE users ADD COLUMN max_sessions INTEGER NOT NULL DEFAULT 0 CHECK (max_sessions >= 0);
		CREATE TABLE bans (
			prefix   TEXT    NOT NULL PRIMARY KEY,
			until    TEXT    NOT NULL,
			offences INTEGER NOT NULL DEFAULT 1,
			reason   TEXT    NOT NULL DEFAULT '',
			created  TEXT    NOT NULL
		) STRICT;
		CREATE TABLE meta (
			key   TEXT    NOT NULL PRIMARY KEY,
			value INTEGER NOT NULL
		) STRICT;
		INSERT INTO meta (key, value) VALUES ('bans_version', 0);`,
	}
}

// Store is the account database: a SQLite file (OpenStore), or a PostgreSQL
// database (OpenPostgres) that several nodes share; both hold the same
// tables and run the same queries. Several Stores, in one process or
// several, may use the same database at once: the server reads it while
// `port21 user` changes it. A SQLite file is in WAL mode so readers never
// block the writer, and a writer waits up to 5 s for another writer instead
// of failing.
//
// A Store is safe for concurrent use.
type Store struct {
	db  *sql.DB
	now func() time.Time
	// dollar says the driver wants PostgreSQL's $1, $2 placeholders
	// instead of SQLite's ?: every query goes through q.
	dollar bool
	// readOpts are the options of read transactions (see readTx).
	readOpts *sql.TxOptions
	// lostConn, when set, reports an error that means the server dropped
	// the connection before the transaction committed (a PostgreSQL
	// restart): the transaction is tried once more on a new connection.
	lostConn func(error) bool
	// getStmt is Get's statement, prepared on first use: parsing it anew
	// was most of the cost of Get, which runs before every command of a
	// session (BenchmarkGet). database/sql prepares it again on each
	// connection of the pool as needed.
	getStmt atomic.Pointer[sql.Stmt]
	stmtMu  sync.Mutex
	// watch, on SQLite, lets Get answer from the accounts it read since the
	// last commit (see changeWatch); nil on PostgreSQL.
	watch *changeWatch
}

// OpenStore opens the account database at path, creating the file (mode
// 0600: it holds password hashes) and its schema if needed, and migrating an
// older schema. An existing file readable by group or others is tightened to
// 0600. The directory must exist.
func OpenStore(ctx context.Context, path string) (*Store, error) {
	if path == "" {
		return nil, errors.New("users: open store: empty path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("users: open store %q: %w", path, err)
	}
	if err := createPrivate(abs); err != nil {
		return nil, fmt.Errorf("users: open store: %w", err)
	}
	db, err := sql.Open("sqlite", dsn(abs))
	if err != nil {
		return nil, fmt.Errorf("users: open store %q: %w", path, err)
	}
	// A bounded pool: SQLite gains little from more connections, and its
	// unix VFS keeps a closed connection's descriptor open while any other
	// connection holds the file (closing it would drop their POSIX locks),
	// so an unbounded pool under a burst of sessions keeps a descriptor per
	// peak connection for good.
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)
	s := &Store{db: db, now: time.Now, readOpts: &sql.TxOptions{ReadOnly: true}}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("users: open store %q: %w", path, err)
	}
	if s.watch, err = newChangeWatch(ctx, db, abs); err != nil {
		db.Close()
		return nil, fmt.Errorf("users: open store %q: %w", path, err)
	}
	return s, nil
}

// maxConns bounds the store's open database connections.
const maxConns = 8

// createPrivate creates the database file with mode 0600 before SQLite sees
// it (SQLite would create it with 0644), and tightens an existing one. SQLite
// gives the -wal and -shm files the main file's mode.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%q is not a regular file", path)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		if err := f.Chmod(0o600); err != nil {
			return fmt.Errorf("make %q private: %w", path, err)
		}
	}
	return nil
}

// dsn builds the modernc.org/sqlite data source name for an absolute path:
// a file: URI, so that characters such as '?' and '#' in the path cannot be
// read as URI syntax, with the pragmas every connection needs. _txlock makes
// every transaction BEGIN IMMEDIATE: it takes the write lock up front, so
// two processes' read-then-write transactions queue on busy_timeout instead
// of deadlocking. cache_size is pageCacheKiB.
func dsn(abs string) string {
	r := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23")
	return "file:" + r.Replace(filepath.ToSlash(abs)) +
		fmt.Sprintf("?_pragma=busy_timeout(%d)", busyTimeout.Milliseconds()) +
		fmt.Sprintf("&_pragma=cache_size(-%d)", pageCacheKiB) +
		"&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_txlock=immediate"
}

// pageCacheKiB bounds each connection's page cache. SQLite's default (2 MiB)
// copies the pages it reads into every connection of the pool, and the
// allocator under modernc.org/sqlite rounds each 4 KiB page up to an 8 KiB
// slot and keeps freed slots committed: with 1,200 accounts the pool held
// ~6 MB for good after a burst of logins, more than 200 idle sessions take.
// A lookup reads a handful of pages (the b-tree's root and inner pages stay
// in this cache; a leaf comes from the kernel's page cache with one pread),
// and Get mostly answers from changeWatch without SQLite at all.
const pageCacheKiB = 64

// migrate brings the schema up to SchemaVersion in one transaction, so that
// two processes opening a new file at once cannot both create it.
func (s *Store) migrate(ctx context.Context) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		var v int
		if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
			return fmt.Errorf("read schema version: %w", err)
		}
		m := migrations()
		if v > len(m) {
			return fmt.Errorf("%w (schema version %d; this one knows up to %d)", ErrSchemaTooNew, v, len(m))
		}
		for ; v < len(m); v++ {
			if _, err := tx.ExecContext(ctx, m[v]); err != nil {
				return fmt.Errorf("migrate schema to version %d: %w", v+1, err)
			}
			// PRAGMA takes no bound parameters; v+1 is an int we control.
			if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", v+1)); err != nil {
				return fmt.Errorf("migrate schema to version %d: %w", v+1, err)
			}
		}
		return nil
	})
}

// Close closes the database.
func (s *Store) Close() error {
	if s.watch != nil {
		s.watch.close()
	}
	if st := s.getStmt.Load(); st != nil {
		st.Close()
	}
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("users: close store: %w", err)
	}
	return nil
}

// tx runs f in a transaction, committing if f returns nil.
func (s *Store) tx(ctx context.Context, f func(*sql.Tx) error) error {
	err := s.tx1(ctx, f)
	var uncommitted *beforeCommit
	if errors.As(err, &uncommitted) {
		if s.lostConn != nil && s.lostConn(uncommitted.err) {
			err = s.tx1(ctx, f)
		}
		if errors.As(err, &uncommitted) {
			return uncommitted.err
		}
	}
	return err
}

// beforeCommit marks an error of a transaction that never reached its
// commit, so trying it again cannot apply it twice.
type beforeCommit struct{ err error }

func (e *beforeCommit) Error() string { return e.err.Error() }

func (s *Store) tx1(ctx context.Context, f func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return &beforeCommit{err}
	}
	if err := f(tx); err != nil {
		tx.Rollback()
		return &beforeCommit{err}
	}
	return tx.Commit()
}

// timeFormat stores times as sortable UTC text, readable in the sqlite3 shell.
const timeFormat = "2006-01-02T15:04:05.000000000Z"

func formatTime(t time.Time) string { return t.UTC().Format(timeFormat) }

// check validates u's fields other than Hash.
func check(u User) error {
	if err := ValidateName(u.Name); err != nil {
		return err
	}
	if u.Home != "" && !filepath.IsAbs(u.Home) {
		return fmt.Errorf("home %q is not an absolute path", u.Home)
	}
	if strings.ContainsRune(u.Home, 0) {
		return errors.New("home contains a NUL byte")
	}
	for _, p := range u.Allow {
		if !p.IsValid() {
			return fmt.Errorf("allow list has an invalid prefix %q", p)
		}
	}
	if u.Perms&^PermAll != 0 {
		return fmt.Errorf("%w bits %#x", ErrBadPerm, uint16(u.Perms&^PermAll))
	}
	if u.QuotaBytes < 0 || u.QuotaFiles < 0 || u.RateUp < 0 || u.RateDown < 0 || u.MaxSessions < 0 {
		return errors.New("quotas, rates and max sessions must be 0 (no limit) or more")
	}
	return nil
}

// permsText stores Perms: "" for zero (every permission), else the names.
func permsText(p Perm) string {
	if p == 0 {
		return ""
	}
	return p.String()
}

func expiresText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return formatTime(t)
}

// Add creates the account u. It sets Created and Updated to now unless they
// are set. It fails with ErrExists if the name is taken and with ErrBadName,
// ErrBadHash or another validation error if u is not acceptable.
func (s *Store) Add(ctx context.Context, u User) error {
	if err := check(u); err != nil {
		return fmt.Errorf("users: add %q: %w", u.Name, err)
	}
	if err := ValidateHash(u.Hash); err != nil {
		return fmt.Errorf("users: add %q: %w", u.Name, err)
	}
	now := s.now()
	if u.Created.IsZero() {
		u.Created = now
	}
	if u.Updated.IsZero() {
		u.Updated = u.Created
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		// ON CONFLICT rather than a SELECT first: on PostgreSQL another
		// node may add the same name between the two.
		res, err := tx.ExecContext(ctx, s.q(
			`INSERT INTO users (name, home, hash, read_only, allow_cleartext, tls_reuse_optional, created, updated,
			 perms, expires, disabled, quota_bytes, quota_files, rate_up, rate_down, max_sessions)
			 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			 ON CONFLICT (name) DO NOTHING`),
			u.Name, u.Home, u.Hash, u.ReadOnly, u.AllowCleartext, u.TLSReuseOptional,
			formatTime(u.Created), formatTime(u.Updated),
			permsText(u.Perms), expiresText(u.Expires), u.Disabled, u.QuotaBytes, u.QuotaFiles,
			u.RateUp, u.RateDown, u.MaxSessions)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return ErrExists
		}
		return s.insertAllow(ctx, tx, u.Name, u.Allow)
	})
	if err != nil {
		return fmt.Errorf("users: add %q: %w", u.Name, err)
	}
	return nil
}

func (s *Store) insertAllow(ctx context.Context, tx *sql.Tx, name string, allow []netip.Prefix) error {
	for i, p := range allow {
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO user_allow ("user", pos, prefix) VALUES (?, ?, ?)`),
			name, i, p.String()); err != nil {
			return err
		}
	}
	return nil
}

// Get returns the account called name. It fails with ErrNotFound if there is
// none; a name that ValidateName rejects cannot exist, so it fails with an
// error that matches both ErrNotFound and ErrBadName, and the caller need not
// validate names taken from the network first.
func (s *Store) Get(ctx context.Context, name string) (User, error) {
	if err := ValidateName(name); err != nil {
		return User{}, fmt.Errorf("users: get: %w: %w", ErrNotFound, err)
	}
	if s.watch != nil {
		return s.getWatched(ctx, name)
	}
	u, err := s.get(ctx, name)
	if err != nil && s.lostConn != nil && s.lostConn(err) {
		u, err = s.get(ctx, name) // a read is safe to repeat
	}
	if err != nil {
		return User{}, fmt.Errorf("users: get %q: %w", name, err)
	}
	return u, nil
}

// getWatched is Get on SQLite: the version first, then the account, kept
// under that version.
func (s *Store) getWatched(ctx context.Context, name string) (User, error) {
	v, verr := s.watch.current(ctx)
	if verr == nil {
		if u, ok := s.watch.lookup(name, v); ok {
			return u, nil
		}
	}
	u, err := s.get(ctx, name)
	if err != nil {
		return User{}, fmt.Errorf("users: get %q: %w", name, err)
	}
	if verr == nil {
		s.watch.keep(v, u)
	}
	return u, nil
}

// get reads one account and its allow list in a single statement, which
// sees one snapshot on SQLite and PostgreSQL alike: the server calls Get
// before every command of a session, and a read transaction of two queries
// cost four round trips to the driver.
func (s *Store) get(ctx context.Context, name string) (User, error) {
	st, err := s.getStatement(ctx)
	if err != nil {
		return User{}, err
	}
	rows, err := st.QueryContext(ctx, name)
	if err != nil {
		return User{}, err
	}
	defer rows.Close()
	var u User
	found := false
	for rows.Next() {
		var prefix sql.NullString
		row, err := scanUser(rows, &prefix)
		if err != nil {
			return User{}, err
		}
		if !found {
			u, found = row, true
		}
		if prefix.Valid {
			p, err := netip.ParsePrefix(prefix.String)
			if err != nil {
				return User{}, fmt.Errorf("user %q: allow list: %w", name, err)
			}
			u.Allow = append(u.Allow, p)
		}
	}
	if err := rows.Err(); err != nil {
		return User{}, err
	}
	if !found {
		return User{}, ErrNotFound
	}
	return u, nil
}

// List returns every account, sorted by name (byte-wise, as Go sorts
// strings).
func (s *Store) List(ctx context.Context) ([]User, error) {
	us, err := s.query(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("users: list: %w", err)
	}
	return us, nil
}

// getStatement returns Get's prepared statement, preparing it the first
// time. A failure is not kept: the next call tries again.
func (s *Store) getStatement(ctx context.Context) (*sql.Stmt, error) {
	if st := s.getStmt.Load(); st != nil {
		return st, nil
	}
	s.stmtMu.Lock()
	defer s.stmtMu.Unlock()
	if st := s.getStmt.Load(); st != nil {
		return st, nil
	}
	st, err := s.db.PrepareContext(ctx, s.q(`SELECT `+userColumns+`, a.prefix
		FROM users LEFT JOIN user_allow a ON a."user" = users.name
		WHERE users.name = ? ORDER BY a.pos`))
	if err != nil {
		return nil, err
	}
	s.getStmt.Store(st)
	return st, nil
}

// userColumns are the users table's columns in the order scanUser reads
// them.
const userColumns = `name, home, hash, read_only, allow_cleartext, tls_reuse_optional, created, updated,
	perms, expires, disabled, quota_bytes, quota_files, rate_up, rate_down, max_sessions`

// scanUser reads one row of userColumns, then extra, into a User.
func scanUser(rows *sql.Rows, extra ...any) (User, error) {
	var (
		u                                User
		created, updated, perms, expires string
	)
	dst := append([]any{&u.Name, &u.Home, &u.Hash, &u.ReadOnly, &u.AllowCleartext, &u.TLSReuseOptional,
		&created, &updated, &perms, &expires, &u.Disabled, &u.QuotaBytes, &u.QuotaFiles,
		&u.RateUp, &u.RateDown, &u.MaxSessions}, extra...)
	if err := rows.Scan(dst...); err != nil {
		return User{}, err
	}
	var err error
	if perms != "" {
		if u.Perms, err = ParsePerms(perms); err != nil {
			return User{}, fmt.Errorf("user %q: perms: %w", u.Name, err)
		}
	}
	if expires != "" {
		if u.Expires, err = time.Parse(timeFormat, expires); err != nil {
			return User{}, fmt.Errorf("user %q: expires: %w", u.Name, err)
		}
	}
	if u.Created, err = time.Parse(timeFormat, created); err != nil {
		return User{}, fmt.Errorf("user %q: created: %w", u.Name, err)
	}
	if u.Updated, err = time.Parse(timeFormat, updated); err != nil {
		return User{}, fmt.Errorf("user %q: updated: %w", u.Name, err)
	}
	return u, nil
}

// query reads the accounts selected by where (a WHERE clause on the users
// table, or "") with their allow lists, in one read transaction so the two
// tables agree.
func (s *Store) query(ctx context.Context, where string, args ...any) ([]User, error) {
	var us []User
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, s.q(`SELECT `+userColumns+` FROM users `+where+` ORDER BY name`), args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		index := map[string]int{}
		for rows.Next() {
			u, err := scanUser(rows)
			if err != nil {
				return err
			}
			index[u.Name] = len(us)
			us = append(us, u)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if len(us) == 0 {
			return nil
		}
		awhere := ""
		if where != "" {
			awhere = `WHERE "user" IN (SELECT name FROM users ` + where + ")"
		}
		arows, err := tx.QueryContext(ctx, s.q(`SELECT "user", prefix FROM user_allow `+awhere+` ORDER BY "user", pos`), args...)
		if err != nil {
			return err
		}
		defer arows.Close()
		for arows.Next() {
			var name, prefix string
			if err := arows.Scan(&name, &prefix); err != nil {
				return err
			}
			p, err := netip.ParsePrefix(prefix)
			if err != nil {
				return fmt.Errorf("user %q: allow list: %w", name, err)
			}
			if i, ok := index[name]; ok {
				us[i].Allow = append(us[i].Allow, p)
			}
		}
		return arows.Err()
	})
	return us, err
}

// readTx runs f in a read-only transaction. It takes no write lock, unlike
// tx, so reads never wait for a writer; on PostgreSQL it is REPEATABLE READ,
// so that its statements see one snapshot, as on SQLite.
func (s *Store) readTx(ctx context.Context, f func(*sql.Tx) error) error {
	err := s.readTx1(ctx, f)
	if err != nil && s.lostConn != nil && s.lostConn(err) {
		err = s.readTx1(ctx, f) // a read is safe to repeat
	}
	return err
}

func (s *Store) readTx1(ctx context.Context, f func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, s.readOpts)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	return f(tx)
}

// Delete removes the account called name, and its allow list. It does not
// touch the account's home directory. It fails with ErrNotFound if there is
// no such account.
func (s *Store) Delete(ctx context.Context, name string) error {
	if err := ValidateName(name); err != nil {
		return fmt.Errorf("users: delete: %w: %w", ErrNotFound, err)
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q("DELETE FROM users WHERE name = ?"), name)
		if err != nil {
			return err
		}
		return mustAffect(res)
	})
	if err != nil {
		return fmt.Errorf("users: delete %q: %w", name, err)
	}
	return nil
}

func mustAffect(res sql.Result) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// Update replaces every field of the account called u.Name with u's, and
// sets Updated to now; Created is kept. An empty u.Hash keeps the stored
// hash, so a caller changing other fields (the CLI's `user mod`) cannot undo
// a rehash the server made meanwhile. It fails with ErrNotFound if there is
// no such account.
func (s *Store) Update(ctx context.Context, u User) error {
	if err := check(u); err != nil {
		return fmt.Errorf("users: update %q: %w", u.Name, err)
	}
	if u.Hash != "" {
		if err := ValidateHash(u.Hash); err != nil {
			return fmt.Errorf("users: update %q: %w", u.Name, err)
		}
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(
			`UPDATE users SET home = ?, hash = CASE WHEN ? = '' THEN hash ELSE ? END,
			 read_only = ?, allow_cleartext = ?, tls_reuse_optional = ?, updated = ?,
			 perms = ?, expires = ?, disabled = ?, quota_bytes = ?, quota_files = ?, rate_up = ?, rate_down = ?,
			 max_sessions = ?
			 WHERE name = ?`),
			u.Home, u.Hash, u.Hash, u.ReadOnly, u.AllowCleartext, u.TLSReuseOptional, formatTime(s.now()),
			permsText(u.Perms), expiresText(u.Expires), u.Disabled, u.QuotaBytes, u.QuotaFiles, u.RateUp, u.RateDown,
			u.MaxSessions, u.Name)
		if err != nil {
			return err
		}
		if err := mustAffect(res); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM user_allow WHERE "user" = ?`), u.Name); err != nil {
			return err
		}
		return s.insertAllow(ctx, tx, u.Name, u.Allow)
	})
	if err != nil {
		return fmt.Errorf("users: update %q: %w", u.Name, err)
	}
	return nil
}

// SetHash replaces the password hash of the account called name, as after a
// password change or a rehash at login. It fails with ErrNotFound if there is
// no such account and with ErrBadHash if ValidateHash rejects hash.
func (s *Store) SetHash(ctx context.Context, name, hash string) error {
	if err := ValidateName(name); err != nil {
		return fmt.Errorf("users: set hash: %w: %w", ErrNotFound, err)
	}
	if err := ValidateHash(hash); err != nil {
		return fmt.Errorf("users: set hash of %q: %w", name, err)
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q("UPDATE users SET hash = ?, updated = ? WHERE name = ?"),
			hash, formatTime(s.now()), name)
		if err != nil {
			return err
		}
		return mustAffect(res)
	})
	if err != nil {
		return fmt.Errorf("users: set hash of %q: %w", name, err)
	}
	return nil
}

// ReplaceHash replaces the password hash of the account called name with
// hash, but only if it is still old: the server rehashes a legacy hash after
// a login, and an unconditional write could undo a `port21 user passwd` made
// between the verification and the write, bringing the old password back
// (issue 7). It fails with ErrHashChanged when the stored hash is not old,
// and with ErrNotFound when there is no such account.
func (s *Store) ReplaceHash(ctx context.Context, name, old, hash string) error {
	if err := ValidateName(name); err != nil {
		return fmt.Errorf("users: replace hash: %w: %w", ErrNotFound, err)
	}
	if err := ValidateHash(hash); err != nil {
		return fmt.Errorf("users: replace hash of %q: %w", name, err)
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q("UPDATE users SET hash = ?, updated = ? WHERE name = ? AND hash = ?"),
			hash, formatTime(s.now()), name, old)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n > 0 {
			return err
		}
		var one int
		switch err := tx.QueryRowContext(ctx, s.q("SELECT 1 FROM users WHERE name = ?"), name).Scan(&one); {
		case errors.Is(err, sql.ErrNoRows):
			return ErrNotFound
		case err != nil:
			return err
		}
		return ErrHashChanged
	})
	if err != nil {
		return fmt.Errorf("users: replace hash of %q: %w", name, err)
	}
	return nil
}

// CleartextFrom reports whether any account may log in in clear text from
// addr (see User.CleartextAllowedFrom). The server answers USER before AUTH
// TLS by this, not by the account named, so the reply reveals no names.
//
// Anyone who connects can send USER in clear, so this must not cost work
// in proportion to the accounts: it reads a summary of them (cleartextRule)
// with two queries, and on SQLite keeps it until the next commit (see
// changeWatch), as Get keeps accounts. Loading every cleartext account
// instead cost 5.7 ms of CPU per USER with 600 of them.
func (s *Store) CleartextFrom(ctx context.Context, addr netip.Addr) (bool, error) {
	if s.watch == nil {
		r, err := s.cleartextRule(ctx)
		if err != nil && s.lostConn != nil && s.lostConn(err) {
			r, err = s.cleartextRule(ctx) // a read is safe to repeat
		}
		if err != nil {
			return false, fmt.Errorf("users: cleartext accounts: %w", err)
		}
		return r.from(addr), nil
	}
	v, verr := s.watch.current(ctx)
	if verr == nil {
		if r, ok := s.watch.cleartext(v); ok {
			return r.from(addr), nil
		}
	}
	r, err := s.cleartextRule(ctx)
	if err != nil {
		return false, fmt.Errorf("users: cleartext accounts: %w", err)
	}
	if verr == nil {
		s.watch.keepCleartext(v, r)
	}
	return r.from(addr), nil
}

// cleartextRule is what CleartextFrom needs to know of the accounts that
// may log in in clear: whether one of them has no allow list (it may log in
// from loopback), and the prefixes of the allow lists of the others.
type cleartextRule struct {
	loopback bool
	allow    []netip.Prefix
}

// from is User.CleartextAllowedFrom over all the accounts at once.
func (r cleartextRule) from(addr netip.Addr) bool {
	return (r.loopback && addr.Unmap().IsLoopback()) || anyContains(r.allow, addr)
}

// cleartextRule reads the rule in one read transaction.
func (s *Store) cleartextRule(ctx context.Context) (cleartextRule, error) {
	var r cleartextRule
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		r = cleartextRule{}
		err := tx.QueryRowContext(ctx, s.q(`SELECT EXISTS (SELECT 1 FROM users WHERE allow_cleartext = ?
			AND NOT EXISTS (SELECT 1 FROM user_allow WHERE "user" = users.name))`), true).Scan(&r.loopback)
		if err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, s.q(`SELECT DISTINCT prefix FROM user_allow
			WHERE "user" IN (SELECT name FROM users WHERE allow_cleartext = ?)`), true)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var prefix string
			if err := rows.Scan(&prefix); err != nil {
				return err
			}
			p, err := netip.ParsePrefix(prefix)
			if err != nil {
				return fmt.Errorf("allow list: %w", err)
			}
			r.allow = append(r.allow, p)
		}
		return rows.Err()
	})
	return r, err
}

// q rewrites query's ? placeholders as $1, $2... for PostgreSQL. The
// queries of this package have no ? inside literals or identifiers.
func (s *Store) q(query string) string {
	if !s.dollar {
		return query
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] != '?' {
			b.WriteByte(query[i])
			continue
		}
		n++
		b.WriteString("$" + strconv.Itoa(n))
	}
	return b.String()
}

// Count returns the number of accounts. The server uses it to warn at start
// when there are none.
func (s *Store) Count(ctx context.Context) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM users").Scan(&n); err != nil {
		return 0, fmt.Errorf("users: count: %w", err)
	}
	return n, nil
}
