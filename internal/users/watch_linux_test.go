package users

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestFileEvents: the version moves for any write to the database's files,
// by this process or another, and for nothing else in the directory; once
// the directory is gone there is no version, so Get reads every time.
func TestFileEvents(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "users.db")
	e, err := newFileEvents(db)
	if err != nil {
		t.Fatal(err)
	}
	defer e.close()
	version := func() int64 {
		t.Helper()
		v, err := e.version()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	v := version()
	if version() != v {
		t.Fatal("version moved with nothing written")
	}
	if err := os.WriteFile(filepath.Join(dir, "audit.log"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if version() != v {
		t.Error("a file beside the database moved the version")
	}
	steps := []struct {
		name string
		do   func() error
	}{
		{"another process appends to the -wal file", func() error {
			return exec.Command("sh", "-c", `printf x >> "$1"`, "sh", db+"-wal").Run()
		}},
		{"this process writes the database", func() error { return os.WriteFile(db, []byte("y"), 0o600) }},
		{"a copy renamed over the database", func() error {
			if err := os.WriteFile(filepath.Join(dir, "copy"), []byte("z"), 0o600); err != nil {
				return err
			}
			return os.Rename(filepath.Join(dir, "copy"), db)
		}},
		{"the -wal file removed", func() error { return os.Remove(db + "-wal") }},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		next := version()
		if next == v {
			t.Errorf("%s: version did not move", s.name)
		}
		v = next
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := e.version(); err == nil {
			t.Error("the directory is gone, but a version was still given")
		}
	}
}

// TestGetWithoutWatch: when the watch gives no version, Get still answers,
// from the database every time.
func TestGetWithoutWatch(t *testing.T) {
	dir := t.TempDir()
	s := openTestStore(t, filepath.Join(dir, "users.db"))
	ctx := context.Background()
	if err := s.Add(ctx, User{Name: "bob", Hash: hashA}); err != nil {
		t.Fatal(err)
	}
	s.watch.files.broken = os.ErrClosed
	for _, h := range []string{hashB, hashA} {
		if err := s.SetHash(ctx, "bob", h); err != nil {
			t.Fatal(err)
		}
		if u, err := s.Get(ctx, "bob"); err != nil || u.Hash != h {
			t.Fatalf("Get = %q, %v; want %q", u.Hash, err, h)
		}
	}
}

// TestGetThroughSymlinkSeesChangesAtOnce: an administrator who keeps
// users.db elsewhere and links it into the data directory still gets
// changes at once: SQLite writes the -wal beside the real file, which is
// the directory that must be watched.
func TestGetThroughSymlinkSeesChangesAtOnce(t *testing.T) {
	real := filepath.Join(t.TempDir(), "users.db")
	link := filepath.Join(t.TempDir(), "users.db")
	ctx := context.Background()
	cli := openTestStore(t, real)
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	server := openTestStore(t, link)
	if err := cli.Add(ctx, User{Name: "bob", Hash: hashA}); err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{hashB, hashA, hashB} {
		for range 2 { // the second read is where a kept account would show
			if _, err := server.Get(ctx, "bob"); err != nil {
				t.Fatal(err)
			}
		}
		if err := cli.SetHash(ctx, "bob", h); err != nil {
			t.Fatal(err)
		}
		if u, err := server.Get(ctx, "bob"); err != nil || u.Hash != h {
			t.Fatalf("through the link, Get = %.20q, %v after the hash became %.20q", u.Hash, err, h)
		}
	}
}
