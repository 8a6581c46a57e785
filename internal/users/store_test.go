package users

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"
)

// Valid hashes for store tests (the store checks them but never computes).
var (
	hashA = "$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$RMnlO2yJjUzUJ1vqMJdgdgriWoTT+H4XFqGo/gwMfPA"
	hashB = "$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1"
)

func openTestStore(t *testing.T, path string) *Store {
	t.Helper()
	s, err := OpenStore(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// opener opens a new handle on one test database, as another process (the
// CLI, or another node) would; the handle is closed when the test ends.
type opener func(t *testing.T) *Store

// backend makes a new empty database and returns its opener.
type backend func(t *testing.T) opener

// sqliteOpener is the SQLite backend: a new file.
func sqliteOpener(t *testing.T) opener {
	path := filepath.Join(t.TempDir(), "users.db")
	return func(t *testing.T) *Store { return openTestStore(t, path) }
}

// storeSuite are the tests that every backend must pass: TestPostgres runs
// them against PostgreSQL, and each has a Test function of its own for
// SQLite.
var storeSuite = []struct {
	name string
	f    func(*testing.T, backend)
}{
	{"CRUD", testStoreCRUD},
	{"Validation", testStoreValidation},
	{"TwoHandles", testStoreTwoHandles},
	{"GetSeesOtherHandlesAtOnce", testGetSeesOtherHandlesAtOnce},
	{"AccessFieldsRoundTrip", testAccessFieldsRoundTrip},
	{"BansSharedAndVersioned", testBansSharedAndVersioned},
	{"ReplaceHashIsConditional", testReplaceHashIsConditional},
	{"CleartextFrom", testCleartextFrom},
	{"ImportShadow", testImportShadow},
}

// fakeClock returns a clock for Store.now that advances a second per call.
func fakeClock() func() time.Time {
	var mu sync.Mutex
	t := time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC)
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(time.Second)
		return t
	}
}

func TestStoreCRUD(t *testing.T) { testStoreCRUD(t, sqliteOpener) }

func testStoreCRUD(t *testing.T, newDB backend) {
	open := newDB(t)
	ctx := context.Background()
	s := open(t)
	s.now = fakeClock()

	if n, err := s.Count(ctx); err != nil || n != 0 {
		t.Fatalf("Count of a new store = %d, %v", n, err)
	}
	if us, err := s.List(ctx); err != nil || len(us) != 0 {
		t.Fatalf("List of a new store = %v, %v", us, err)
	}
	bob := User{
		Name:             "bob",
		Hash:             hashA,
		ReadOnly:         true,
		Allow:            prefixes("192.0.2.0/24", "2001:db8::/32", "10.0.0.0/8"),
		AllowCleartext:   true,
		TLSReuseOptional: true,
	}
	if err := s.Add(ctx, bob); err != nil {
		t.Fatal(err)
	}
	alice := User{Name: "alice", Home: "/srv/ftp/alice", Hash: hashB}
	if err := s.Add(ctx, alice); err != nil {
		t.Fatal(err)
	}
	if err := s.Add(ctx, User{Name: "bob", Hash: hashB}); !errors.Is(err, ErrExists) {
		t.Fatalf("Add duplicate error = %v, want ErrExists", err)
	}

	got, err := s.Get(ctx, "bob")
	if err != nil {
		t.Fatal(err)
	}
	if got.Created.IsZero() || !got.Created.Equal(got.Updated) {
		t.Errorf("Created %v, Updated %v: want both set and equal", got.Created, got.Updated)
	}
	want := bob
	want.Created, want.Updated = got.Created, got.Updated
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Get = %+v\nwant  %+v", got, want)
	}

	us, err := s.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(us) != 2 || us[0].Name != "alice" || us[1].Name != "bob" {
		t.Fatalf("List = %+v, want alice, bob", us)
	}
	if us[0].Allow != nil || us[0].Home != "/srv/ftp/alice" || !reflect.DeepEqual(us[1].Allow, bob.Allow) {
		t.Errorf("List lost fields: %+v", us)
	}
	if n, err := s.Count(ctx); err != nil || n != 2 {
		t.Errorf("Count = %d, %v; want 2", n, err)
	}

	// Update with an empty Hash keeps the stored one.
	upd := got
	upd.Hash = ""
	upd.Home = "/home/bob"
	upd.ReadOnly = false
	upd.Allow = prefixes("198.51.100.0/24")
	upd.AllowCleartext = false
	upd.TLSReuseOptional = false
	upd.Created = time.Time{} // ignored
	if err := s.Update(ctx, upd); err != nil {
		t.Fatal(err)
	}
	got2, err := s.Get(ctx, "bob")
	if err != nil {
		t.Fatal(err)
	}
	if got2.Hash != hashA || got2.Home != "/home/bob" || got2.ReadOnly || got2.AllowCleartext || got2.TLSReuseOptional ||
		!reflect.DeepEqual(got2.Allow, upd.Allow) {
		t.Errorf("after Update, Get = %+v", got2)
	}
	if !got2.Created.Equal(got.Created) || !got2.Updated.After(got.Updated) {
		t.Errorf("Update: Created %v -> %v, Updated %v -> %v", got.Created, got2.Created, got.Updated, got2.Updated)
	}
	// Update with a Hash replaces it; with no Allow clears the list.
	upd.Hash, upd.Allow = hashB, nil
	if err := s.Update(ctx, upd); err != nil {
		t.Fatal(err)
	}
	if got3, _ := s.Get(ctx, "bob"); got3.Hash != hashB || got3.Allow != nil {
		t.Errorf("after second Update, Get = %+v", got3)
	}

	if err := s.SetHash(ctx, "bob", hashA); err != nil {
		t.Fatal(err)
	}
	if got4, _ := s.Get(ctx, "bob"); got4.Hash != hashA {
		t.Errorf("after SetHash, Hash = %q", got4.Hash)
	}

	if err := s.Delete(ctx, "bob"); err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{
		"Get":     func() error { _, err := s.Get(ctx, "bob"); return err }(),
		"Delete":  s.Delete(ctx, "bob"),
		"Update":  s.Update(ctx, User{Name: "bob", Hash: hashA}),
		"SetHash": s.SetHash(ctx, "bob", hashA),
	} {
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("%s of a deleted user: error = %v, want ErrNotFound", name, err)
		}
	}
	// The allow list went with the user.
	if err := s.Add(ctx, User{Name: "bob", Hash: hashA}); err != nil {
		t.Fatal(err)
	}
	if got5, _ := s.Get(ctx, "bob"); got5.Allow != nil {
		t.Errorf("re-added user inherited allow list %v", got5.Allow)
	}
	var orphans int
	if err := s.db.QueryRow(s.q(`SELECT COUNT(*) FROM user_allow WHERE "user" = ?`), "bob").Scan(&orphans); err != nil || orphans != 0 {
		t.Errorf("%d orphaned allow rows (%v)", orphans, err)
	}
}

func TestStoreValidation(t *testing.T) { testStoreValidation(t, sqliteOpener) }

func testStoreValidation(t *testing.T, newDB backend) {
	open := newDB(t)
	ctx := context.Background()
	s := open(t)
	tests := []struct {
		name string
		u    User
		is   error
	}{
		{"bad name", User{Name: "../etc", Hash: hashA}, ErrBadName},
		{"empty name", User{Name: "", Hash: hashA}, ErrBadName},
		{"bad hash", User{Name: "bob", Hash: "secret"}, ErrBadHash},
		{"no hash", User{Name: "bob"}, ErrBadHash},
		{"relative home", User{Name: "bob", Hash: hashA, Home: "home/bob"}, nil},
		{"invalid prefix", User{Name: "bob", Hash: hashA, Allow: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), {}}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.Add(ctx, tt.u)
			if err == nil || (tt.is != nil && !errors.Is(err, tt.is)) {
				t.Errorf("Add error = %v, want %v", err, tt.is)
			}
		})
	}
	if n, _ := s.Count(ctx); n != 0 {
		t.Errorf("%d users added by invalid Adds", n)
	}
	for _, name := range []string{"../x", "", "a b"} {
		_, err := s.Get(ctx, name)
		if !errors.Is(err, ErrNotFound) || !errors.Is(err, ErrBadName) {
			t.Errorf("Get(%q) error = %v, want ErrNotFound and ErrBadName", name, err)
		}
	}
	if err := s.Add(ctx, User{Name: "bob", Hash: hashA}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetHash(ctx, "bob", "$1$saltsalt$2vnaRpHa6Jxjz5n83ok8Z0"); !errors.Is(err, ErrBadHash) {
		t.Errorf("SetHash(md5-crypt) error = %v, want ErrBadHash", err)
	}
	if err := s.Update(ctx, User{Name: "bob", Home: "rel"}); err == nil {
		t.Error("Update with a relative home succeeded")
	}
}

func TestStoreFileModes(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "users.db")
	s := openTestStore(t, path)
	if err := s.Add(ctx, User{Name: "bob", Hash: hashA}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Errorf("stat: %v", err)
			continue
		}
		if m := fi.Mode().Perm(); m != 0o600 {
			t.Errorf("%s has mode %v, want 0600", filepath.Base(p), m)
		}
	}

	// An existing file readable by others is tightened.
	loose := filepath.Join(dir, "loose.db")
	if err := os.WriteFile(loose, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chmod(loose, 0o644) // despite the umask
	openTestStore(t, loose)
	if fi, err := os.Stat(loose); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("loose.db mode after OpenStore = %v (%v), want 0600", fi.Mode().Perm(), err)
	}

	if _, err := OpenStore(ctx, dir); err == nil {
		t.Error("OpenStore of a directory succeeded")
	}
	if _, err := OpenStore(ctx, filepath.Join(dir, "missing", "users.db")); err == nil {
		t.Error("OpenStore in a missing directory succeeded")
	}
}

func TestStoreOddPath(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "a?b#c%20d e")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "users.db")
	s := openTestStore(t, path)
	if err := s.Add(ctx, User{Name: "bob", Hash: hashA}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database not at the given path: %v", err)
	}
	s2 := openTestStore(t, path)
	if _, err := s2.Get(ctx, "bob"); err != nil {
		t.Fatal(err)
	}
}

func TestStoreSchemaVersion(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "users.db")
	s := openTestStore(t, path)
	var v int
	if err := s.db.QueryRow("PRAGMA user_version").Scan(&v); err != nil || v != SchemaVersion {
		t.Fatalf("user_version = %d, %v; want %d", v, err, SchemaVersion)
	}
	var mode string
	if err := s.db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal", mode, err)
	}
	var fk int
	if err := s.db.QueryRow("PRAGMA foreign_keys").Scan(&fk); err != nil || fk != 1 {
		t.Errorf("foreign_keys = %d, %v; want 1", fk, err)
	}
	var busy int
	if err := s.db.QueryRow("PRAGMA busy_timeout").Scan(&busy); err != nil || busy != 5000 {
		t.Errorf("busy_timeout = %d, %v; want 5000", busy, err)
	}
	if err := s.Add(ctx, User{Name: "bob", Hash: hashA}); err != nil {
		t.Fatal(err)
	}
	s.Close()

	// Reopening an up-to-date database changes nothing.
	s = openTestStore(t, path)
	if _, err := s.Get(ctx, "bob"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.Exec(fmt.Sprintf("PRAGMA user_version = %d", SchemaVersion+1)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s, err := OpenStore(ctx, path); !errors.Is(err, ErrSchemaTooNew) {
		if s != nil {
			s.Close()
		}
		t.Fatalf("OpenStore of a newer schema: error = %v, want ErrSchemaTooNew", err)
	}
}

// TestStoreTwoHandles plays the server and the CLI: two Stores on one file,
// both writing at once.
func TestStoreTwoHandles(t *testing.T) { testStoreTwoHandles(t, sqliteOpener) }

func testStoreTwoHandles(t *testing.T, newDB backend) {
	open := newDB(t)
	ctx := context.Background()
	server := open(t)
	cli := open(t)

	if err := cli.Add(ctx, User{Name: "bob", Hash: hashB}); err != nil {
		t.Fatal(err)
	}
	u, err := server.Get(ctx, "bob")
	if err != nil {
		t.Fatalf("server does not see the CLI's user: %v", err)
	}
	if err := server.SetHash(ctx, "bob", hashA); err != nil { // a rehash at login
		t.Fatal(err)
	}
	// The CLI changes other fields meanwhile, with the hash it read before.
	u.Hash = ""
	u.ReadOnly = true
	if err := cli.Update(ctx, u); err != nil {
		t.Fatal(err)
	}
	if got, err := server.Get(ctx, "bob"); err != nil || got.Hash != hashA || !got.ReadOnly {
		t.Errorf("after concurrent SetHash and Update: %+v, %v", got, err)
	}

	const each = 15
	var wg sync.WaitGroup
	errc := make(chan error, 4*each)
	for i, s := range []*Store{server, cli} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range each {
				name := fmt.Sprintf("u%d-%d", i, j)
				errc <- s.Add(ctx, User{Name: name, Hash: hashA, Allow: prefixes("10.0.0.0/8")})
				errc <- s.SetHash(ctx, "bob", hashB)
				if _, err := s.List(ctx); err != nil {
					errc <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		if err != nil {
			t.Error(err)
		}
	}
	for _, s := range []*Store{server, cli} {
		if n, err := s.Count(ctx); err != nil || n != 2*each+1 {
			t.Errorf("Count = %d, %v; want %d", n, err, 2*each+1)
		}
	}
}

// TestStorePageCacheBounded: every pooled connection runs with the small
// page cache, not SQLite's 2 MiB default (see pageCacheKiB).
func TestStorePageCacheBounded(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t, filepath.Join(t.TempDir(), "users.db"))
	// Hold several connections at once so the pool opens more than one.
	var conns []*sql.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range 3 {
		c, err := s.db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		var kib int
		if err := c.QueryRowContext(ctx, "PRAGMA cache_size").Scan(&kib); err != nil {
			t.Fatal(err)
		}
		if kib != -pageCacheKiB {
			t.Fatalf("cache_size = %d, want %d", kib, -pageCacheKiB)
		}
	}
}
