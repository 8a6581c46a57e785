//go:build unix

package users

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/port21/port21/internal/testpg"
)

// pgOpener opens Stores on the PostgreSQL database at dbURL.
func pgOpener(dbURL string) opener {
	return func(t *testing.T) *Store {
		t.Helper()
		s, err := OpenPostgres(context.Background(), dbURL)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
}

// TestPostgres runs the store suite, and what only a shared server can
// show, against a real PostgreSQL server (one for the whole test, a new
// database per subtest).
func TestPostgres(t *testing.T) {
	srv := testpg.Start(t)
	newDB := func(t *testing.T) opener { return pgOpener(srv.NewDatabase(t)) }
	for _, tc := range storeSuite {
		t.Run(tc.name, func(t *testing.T) { tc.f(t, newDB) })
	}
	t.Run("TwoNodesShareUsers", func(t *testing.T) { testPGTwoNodesShareUsers(t, newDB(t)) })
	t.Run("BanSeenByOtherNodesPoll", func(t *testing.T) { testPGBanSeenByPoll(t, newDB(t)) })
	t.Run("ConcurrentMigrations", func(t *testing.T) { testPGConcurrentMigrations(t, srv.NewDatabase(t)) })
	t.Run("SchemaTooNew", func(t *testing.T) { testPGSchemaTooNew(t, srv.NewDatabase(t)) })
	t.Run("PasswordNeverInErrors", func(t *testing.T) { testPGPasswordNeverInErrors(t, srv) })
	t.Run("CopyFromSQLite", func(t *testing.T) { testPGCopyFromSQLite(t, newDB(t)) })
	t.Run("Open", func(t *testing.T) {
		s, err := Open(context.Background(), srv.NewDatabase(t), "/nonexistent")
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
	})
	// Last: it restarts the server under every other subtest's stores.
	t.Run("SurvivesServerRestart", func(t *testing.T) { testPGSurvivesRestart(t, srv, newDB(t)) })
}

// A user added on one node is seen, changed and deleted on the other.
func testPGTwoNodesShareUsers(t *testing.T, open opener) {
	ctx := context.Background()
	a, b := open(t), open(t)
	if err := a.Add(ctx, User{Name: "carol", Hash: hashA, Allow: prefixes("192.0.2.0/24")}); err != nil {
		t.Fatal(err)
	}
	u, err := b.Get(ctx, "carol")
	if err != nil || u.Hash != hashA || len(u.Allow) != 1 {
		t.Fatalf("node B: %+v, %v", u, err)
	}
	if err := b.Add(ctx, User{Name: "carol", Hash: hashB}); !errors.Is(err, ErrExists) {
		t.Fatalf("node B adds carol again: %v, want ErrExists", err)
	}
	if err := b.SetHash(ctx, "carol", hashB); err != nil {
		t.Fatal(err)
	}
	if u, _ := a.Get(ctx, "carol"); u.Hash != hashB {
		t.Fatalf("node A sees hash %q after node B's change", u.Hash)
	}
	if err := a.Delete(ctx, "carol"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Get(ctx, "carol"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("node B after delete on A: %v", err)
	}
	// Both add the same name at once: exactly one wins, the other gets
	// ErrExists, not a constraint error.
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, s := range []*Store{a, b} {
		wg.Go(func() { errs[i] = s.Add(ctx, User{Name: "race", Hash: hashA}) })
	}
	wg.Wait()
	if (errs[0] == nil) == (errs[1] == nil) || !errors.Is(errors.Join(errs...), ErrExists) {
		t.Fatalf("concurrent Adds of one name: %v", errs)
	}
}

// A ban put on node A changes the version node B polls, and B reads it,
// well within 2 s, as the server's poll (once a second) does.
func testPGBanSeenByPoll(t *testing.T, open opener) {
	ctx := context.Background()
	a, b := open(t), open(t)
	v0, err := b.BansVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p := netip.MustParsePrefix("198.51.100.9/32")
	start := time.Now()
	if err := a.PutBan(ctx, Ban{Prefix: p, Until: time.Now().Add(time.Hour), Reason: "test"}); err != nil {
		t.Fatal(err)
	}
	for {
		v, err := b.BansVersion(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if v != v0 {
			break
		}
		if time.Since(start) > 2*time.Second {
			t.Fatal("node B's bans version did not change within 2 s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	bs, err := b.Bans(ctx)
	if err != nil || len(bs) != 1 || bs[0].Prefix != p || bs[0].Reason != "test" {
		t.Fatalf("node B bans: %+v, %v", bs, err)
	}
	t.Logf("ban seen by the other store after %v", time.Since(start))
}

// Many nodes opening a new database at once: one migrates, the others
// wait for it and find the schema up to date; none fails.
func testPGConcurrentMigrations(t *testing.T, dbURL string) {
	ctx := context.Background()
	const n = 6
	var wg sync.WaitGroup
	errs := make(chan error, n)
	stores := make(chan *Store, n)
	for range n {
		wg.Go(func() {
			s, err := OpenPostgres(ctx, dbURL)
			if err != nil {
				errs <- err
				return
			}
			stores <- s
		})
	}
	wg.Wait()
	close(errs)
	close(stores)
	for err := range errs {
		t.Error(err)
	}
	for s := range stores {
		t.Cleanup(func() { s.Close() })
		if _, err := s.Count(ctx); err != nil {
			t.Error(err)
		}
	}
	var v, rows int
	s := pgOpener(dbURL)(t)
	if err := s.db.QueryRowContext(ctx, "SELECT MAX(version), COUNT(*) FROM schema_version").Scan(&v, &rows); err != nil ||
		v != PostgresSchemaVersion || rows != 1 {
		t.Fatalf("schema_version: %d in %d rows (%v), want %d in 1", v, rows, err, PostgresSchemaVersion)
	}
	var meta int
	if err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM meta").Scan(&meta); err != nil || meta != 1 {
		t.Fatalf("meta has %d rows (%v): migrated twice?", meta, err)
	}
}

// A database migrated by a newer port21 is refused, as on SQLite.
func testPGSchemaTooNew(t *testing.T, dbURL string) {
	ctx := context.Background()
	s := pgOpener(dbURL)(t)
	s.Close()
	testpg.Exec(t, dbURL, fmt.Sprintf("UPDATE schema_version SET version = %d", PostgresSchemaVersion+1))
	if s, err := OpenPostgres(ctx, dbURL); !errors.Is(err, ErrSchemaTooNew) {
		if s != nil {
			s.Close()
		}
		t.Fatalf("OpenPostgres of a newer schema: %v, want ErrSchemaTooNew", err)
	}
}

// Whatever goes wrong, the error names the database without its password.
func testPGPasswordNeverInErrors(t *testing.T, srv *testpg.Server) {
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	const wrong = "Wr0ngSecretPassw0rd"
	bad := *u
	bad.User = url.UserPassword(u.User.Username(), wrong)
	noDB := *u
	noDB.Path = "/nosuchdb"
	closed := *u
	closed.Host = "127.0.0.1:1"
	for name, tc := range map[string]struct{ dsn, secret string }{
		"wrong password": {bad.String(), wrong},
		"no database":    {noDB.String(), srv.Password},
		"nothing there":  {closed.String(), srv.Password},
		"bad port":       {"postgres://u:" + wrong + "@127.0.0.1:99999/db", wrong},
		"bad option":     {"postgres://u:" + wrong + "@127.0.0.1/db?sslmode=nonsense", wrong},
		"broken URL":     {"postgres://u:" + wrong + "@[::1/db", wrong},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		s, err := OpenPostgres(ctx, tc.dsn)
		cancel()
		if err == nil {
			s.Close()
			t.Errorf("%s: opened", name)
			continue
		}
		if strings.Contains(err.Error(), tc.secret) {
			t.Errorf("%s: error shows the password: %v", name, err)
		}
		if !strings.Contains(err.Error(), "users: open store postgres") {
			t.Errorf("%s: error does not name the store: %v", name, err)
		}
		t.Logf("%s: %v", name, err)
	}
}

// Copy moves a SQLite store's accounts and bans to PostgreSQL unchanged,
// and a second run copies nothing twice.
func testPGCopyFromSQLite(t *testing.T, open opener) {
	ctx := context.Background()
	src, dst := sqliteOpener(t)(t), open(t)
	exp := time.Date(2031, 2, 3, 4, 5, 6, 7, time.UTC)
	want := []User{
		{Name: "alice", Hash: hashA, Home: "/srv/ftp/alice", Allow: prefixes("192.0.2.0/24", "2001:db8::/32"), ReadOnly: true,
			Perms: PermList | PermDownload, Expires: exp, QuotaBytes: 1 << 30, QuotaFiles: 9, RateUp: 1, RateDown: 2, MaxSessions: 3},
		{Name: "bob", Hash: hashB, AllowCleartext: true, TLSReuseOptional: true, Disabled: true},
	}
	for _, u := range want {
		if err := src.Add(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	ban := Ban{Prefix: netip.MustParsePrefix("203.0.113.0/24"), Until: exp, Offences: 3, Reason: "copied"}
	if err := src.PutBan(ctx, ban); err != nil {
		t.Fatal(err)
	}
	r, err := Copy(ctx, dst, src)
	if err != nil || r != (CopyResult{Users: 2, Bans: 1}) {
		t.Fatalf("Copy = %+v, %v", r, err)
	}
	got, err := dst.List(ctx)
	srcList, _ := src.List(ctx)
	if err != nil || !reflect.DeepEqual(got, srcList) {
		t.Fatalf("copied accounts\n%+v (%v)\nwant\n%+v", got, err, srcList)
	}
	srcBans, _ := src.Bans(ctx)
	if bs, err := dst.Bans(ctx); err != nil || !reflect.DeepEqual(bs, srcBans) {
		t.Fatalf("copied bans %+v (%v), want %+v", bs, err, srcBans)
	}
	if r, err := Copy(ctx, dst, src); err != nil || r != (CopyResult{UsersSkipped: 2, BansSkipped: 1}) {
		t.Fatalf("second Copy = %+v, %v", r, err)
	}
}

// A store outlives a restart of the database server: its pooled
// connections are dead, and it opens new ones without being reopened.
func testPGSurvivesRestart(t *testing.T, srv *testpg.Server, open opener) {
	ctx := context.Background()
	s := open(t)
	if err := s.Add(ctx, User{Name: "alice", Hash: hashA}); err != nil {
		t.Fatal(err)
	}
	srv.Restart(t)
	// Every call must work: database/sql retries a dead pooled connection
	// on a new one (pgx reports it as driver.ErrBadConn).
	for i := range 3 {
		if _, err := s.Get(ctx, "alice"); err != nil {
			t.Fatalf("Get %d after the restart: %v", i, err)
		}
	}
	if err := s.PutBan(ctx, Ban{Prefix: netip.MustParsePrefix("192.0.2.1/32"), Until: time.Now().Add(time.Hour)}); err != nil {
		t.Fatalf("PutBan after the restart: %v", err)
	}
	if v, err := s.BansVersion(ctx); err != nil || v == 0 {
		t.Fatalf("BansVersion after the restart: %d, %v", v, err)
	}
}

func TestPostgresCleartext(t *testing.T) {
	for dsn, want := range map[string]string{
		"postgres://u@db.example.com/x":                     "db.example.com", // prefer: falls back to clear text
		"postgres://u@db.example.com/x?sslmode=disable":     "db.example.com",
		"postgres://u@db.example.com/x?sslmode=allow":       "db.example.com",
		"postgres://u@db.example.com/x?sslmode=require":     "",
		"postgres://u@db.example.com/x?sslmode=verify-full": "",
		"postgres://u@127.0.0.1/x?sslmode=disable":          "",
		"postgres://u@[::1]:5433/x?sslmode=disable":         "",
		"postgres://u@localhost/x":                          "",
		"postgres:///x?host=/run/postgresql":                "",
		"postgres://u@127.0.0.1,10.0.0.7/x?sslmode=disable": "10.0.0.7",
		"postgres://u:pw@[::1/x":                            "",
	} {
		if got := PostgresCleartext(dsn); got != want {
			t.Errorf("PostgresCleartext(%q) = %q, want %q", dsn, got, want)
		}
	}
}
