package server

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/port21/port21/internal/users"
)

func TestSITECHMOD(t *testing.T) {
	ts := startServer(t)
	ts.addUser(t, "alice", nil)
	ts.addUser(t, "reader", func(u *users.User) { u.ReadOnly = true })
	home := ts.home("alice")
	writeFile(t, filepath.Join(home, "f"), []byte("f"))
	writeFile(t, filepath.Join(home, "dir", "g"), []byte("g"))
	writeFile(t, filepath.Join(home, "linked"), []byte("l"))
	if err := os.Link(filepath.Join(home, "linked"), filepath.Join(home, "second")); err != nil {
		t.Fatal(err)
	}
	outside := filepath.Join(ts.dir, "outside")
	writeFile(t, outside, []byte("o"))
	if err := os.Symlink(outside, filepath.Join(home, "out")); err != nil {
		t.Fatal(err)
	}
	mode := func(name string) fs.FileMode {
		t.Helper()
		fi, err := os.Stat(filepath.Join(home, name))
		if err != nil {
			t.Fatal(err)
		}
		return fi.Mode().Perm()
	}
	rc := ts.raw(t)
	rc.login("alice", clientTLS())
	if m := rc.cmd(214, "SITE HELP").Message(); !strings.Contains(m, "CHMOD") {
		t.Errorf("SITE HELP = %q", m)
	}
	tests := []struct {
		cmd  string
		code int
		name string
		want fs.FileMode
	}{
		{"SITE CHMOD 755 f", 200, "f", 0o750},  // group follows the owner, without write; others nothing
		{"SITE CHMOD 0600 f", 200, "f", 0o600}, // four digits, as PHP sends them
		{"SITE CHMOD 777 dir", 200, "dir", 0o750},
		{"SITE CHMOD 644 dir/g", 200, "dir/g", 0o640},
		{"SITE CHMOD 4755 f", 550, "f", 0o600},
		{"SITE CHMOD abc f", 501, "f", 0o600},
		{"SITE CHMOD 99 f", 501, "f", 0o600},
		{"SITE CHMOD 644", 501, "f", 0o600},
		{"SITE CHMOD 644 missing", 550, "f", 0o600},
		{"SITE CHMOD 700 /", 550, "dir", 0o750},         // not the home itself
		{"SITE CHMOD 600 second", 550, "linked", 0o644}, // several hard links
		{"SITE CHMOD 600 out", 550, "f", 0o600},         // leads outside the jail
		{"site chmod 700 f", 200, "f", 0o700},
	}
	for _, tt := range tests {
		rc.cmd(tt.code, "%s", tt.cmd)
		if got := mode(tt.name); got != tt.want {
			t.Errorf("after %q: %s has mode %o, want %o", tt.cmd, tt.name, got, tt.want)
		}
	}
	if fi, _ := os.Stat(outside); fi.Mode().Perm() != 0o644 {
		t.Errorf("the file outside the jail changed mode: %o", fi.Mode().Perm())
	}
	rc.cmd(502, "SITE EXEC ls")

	ro := ts.raw(t)
	ro.login("reader", clientTLS())
	writeFile(t, filepath.Join(ts.home("reader"), "r"), []byte("r"))
	ro.cmd(550, "SITE CHMOD 600 r")
	if fi, _ := os.Stat(filepath.Join(ts.home("reader"), "r")); fi.Mode().Perm() != 0o644 {
		t.Errorf("read-only account changed a mode: %o", fi.Mode().Perm())
	}
}

// MDTM with a time before the path sets it, like MFMT (vsftpd's extension).
func TestMDTMSetsTime(t *testing.T) {
	ts := startServer(t)
	ts.addUser(t, "alice", nil)
	ts.addUser(t, "reader", func(u *users.User) { u.ReadOnly = true })
	home := ts.home("alice")
	writeFile(t, filepath.Join(home, "a file"), []byte("a"))
	writeFile(t, filepath.Join(home, "20200102030405 odd"), []byte("b"))
	rc := ts.raw(t)
	rc.login("alice", clientTLS())
	rc.cmd(213, "MDTM 20200102030405 a file")
	if got := rc.cmd(213, "MDTM a file").Message(); got != "20200102030405" {
		t.Errorf("MDTM after setting = %q", got)
	}
	// A name that exists as given is a query.
	fi, _ := os.Stat(filepath.Join(home, "20200102030405 odd"))
	if got := rc.cmd(213, "MDTM 20200102030405 odd").Message(); got != fi.ModTime().UTC().Format("20060102150405") {
		t.Errorf("MDTM of an existing odd name = %q", got)
	}
	rc.cmd(550, "MDTM 20200102030405 missing")
	rc.cmd(550, "MDTM 2020 a file") // not a time: a name that does not exist

	writeFile(t, filepath.Join(ts.home("reader"), "r"), []byte("r"))
	before, _ := os.Stat(filepath.Join(ts.home("reader"), "r"))
	ro := ts.raw(t)
	ro.login("reader", clientTLS())
	ro.cmd(550, "MDTM 20200102030405 r")
	ro.cmd(213, "MDTM r")
	if after, _ := os.Stat(filepath.Join(ts.home("reader"), "r")); !after.ModTime().Equal(before.ModTime()) {
		t.Error("a read-only account changed a time")
	}
}

// MLSD starts with cdir and pdir entries for clients that chose their facts
// with OPTS MLST; the home has no pdir.
func TestMLSDCdirPdir(t *testing.T) {
	ts := startServer(t)
	ts.addUser(t, "alice", nil)
	writeFile(t, filepath.Join(ts.home("alice"), "sub", "f"), []byte("f"))
	rc := ts.raw(t)
	rc.login("alice", clientTLS())
	list := func(cmd string) []string {
		var ls []string
		rc.listInto(cmd, func(l string) { ls = append(ls, l) })
		return ls
	}
	if ls := list("MLSD sub"); len(ls) != 1 {
		t.Errorf("MLSD before OPTS MLST = %q, want only f", ls)
	}
	rc.cmd(200, "OPTS MLST type;size;modify;")
	ls := list("MLSD sub")
	if len(ls) != 3 || !strings.HasPrefix(ls[0], "type=cdir;") || !strings.HasSuffix(ls[0], " .") ||
		!strings.HasPrefix(ls[1], "type=pdir;") || !strings.HasSuffix(ls[1], " ..") || !strings.HasSuffix(ls[2], " f") {
		t.Errorf("MLSD sub = %q", ls)
	}
	ls = list("MLSD /")
	if len(ls) != 2 || !strings.HasPrefix(ls[0], "type=cdir;") || strings.Contains(strings.Join(ls, "\n"), "pdir") {
		t.Errorf("MLSD / = %q", ls)
	}
	rc.cmd(200, "OPTS MLST size;")
	if ls := list("MLSD sub"); len(ls) != 1 {
		t.Errorf("MLSD without the type fact = %q", ls)
	}
}
