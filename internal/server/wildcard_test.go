package server

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Wildcards in the last component of NLST, LIST, MLSD and STAT, as tnftp's
// and ncftp's mget, mdelete and ls send them.
func TestWildcardListings(t *testing.T) {
	ts := startServer(t)
	ts.addUser(t, "alice", nil)
	home := ts.home("alice")
	for _, n := range []string{"a.txt", "b.txt", "c.bin", "sub/d.txt", "sub/e.bin", "lit/*", "lit/x"} {
		writeFile(t, filepath.Join(home, n), []byte(n))
	}
	rc := ts.raw(t)
	rc.login("alice", clientTLS())
	nlst := []struct {
		arg  string
		want string
	}{
		{"*.txt", "a.txt,b.txt"},
		{"?.bin", "c.bin"},
		{"[ab].txt", "a.txt,b.txt"},
		{"sub/*.txt", "sub/d.txt"},          // prefixed with the directory, as vsftpd does
		{"/sub/*", "/sub/d.txt,/sub/e.bin"}, // the client's own spelling
		{"./sub/?.bin", "./sub/e.bin"},
		{"lit/*", "*"},         // the exact name exists: it is itself, not a pattern
		{"sub", "d.txt,e.bin"}, // no pattern: unchanged
	}
	for _, tt := range nlst {
		_, got := rc.transfer("NLST "+tt.arg, nil, 226)
		if g := strings.Join(strings.Fields(string(got)), ","); g != tt.want {
			t.Errorf("NLST %s = %q, want %q", tt.arg, g, tt.want)
		}
	}
	// No match, a pattern further up and a bad pattern: 550 before any
	// data connection is used.
	for _, arg := range []string{"*.none", "*/d.txt", "s[ub/*.txt", "missing/*.txt", "a.txt/*"} {
		rc.epsv()
		rc.cmd(550, "NLST %s", arg)
	}

	_, got := rc.transfer("LIST -la *.txt", nil, 226)
	lines := strings.Split(strings.TrimSpace(string(got)), "\r\n")
	if len(lines) != 2 || !strings.HasSuffix(lines[0], " a.txt") || !strings.HasSuffix(lines[1], " b.txt") {
		t.Errorf("LIST *.txt = %q", got)
	}
	_, got = rc.transfer("MLSD sub/*.bin", nil, 226)
	if l := strings.TrimSpace(string(got)); strings.Count(l, "\r\n") != 0 || !strings.HasSuffix(l, "; e.bin") {
		t.Errorf("MLSD sub/*.bin = %q", got)
	}
	rep := rc.cmd(213, "STAT *.txt")
	if m := rep.Message(); !strings.Contains(m, " a.txt") || !strings.Contains(m, " b.txt") || strings.Contains(m, "c.bin") {
		t.Errorf("STAT *.txt = %q", m)
	}
	rc.cmd(550, "STAT *.none")
	// The file literally named "*" can be fetched and deleted.
	if _, got := rc.transfer("RETR lit/*", nil, 226); string(got) != "lit/*" {
		t.Errorf("RETR lit/* = %q", got)
	}
	rc.cmd(250, "DELE lit/*")
	if _, err := os.Stat(filepath.Join(home, "lit", "x")); err != nil {
		t.Errorf("DELE lit/* touched another file: %v", err)
	}
}

// A pattern returns at most maxGlobMatches names.
func TestWildcardCap(t *testing.T) {
	ts := startServer(t)
	ts.addUser(t, "alice", nil)
	dir := filepath.Join(ts.home("alice"), "many")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range maxGlobMatches + 50 {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%05d", i)), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rc := ts.raw(t)
	rc.login("alice", clientTLS())
	_, got := rc.transfer("NLST many/f*", nil, 226)
	if n := strings.Count(string(got), "\r\n"); n != maxGlobMatches {
		t.Errorf("NLST many/f* returned %d names, want %d", n, maxGlobMatches)
	}
	_, got = rc.transfer("NLST many", nil, 226)
	if n := strings.Count(string(got), "\r\n"); n != maxGlobMatches+50 {
		t.Errorf("NLST many returned %d names, want all %d", n, maxGlobMatches+50)
	}
}

func TestGlobTarget(t *testing.T) {
	tests := []struct {
		vpath, dir, pattern string
		ok                  bool
	}{
		{"/*.txt", "/", "*.txt", true},
		{"/a/b/f?[0-9]", "/a/b", "f?[0-9]", true},
		{"/a/plain", "", "", false},
		{"/*/x.txt", "", "", false}, // not recursive
		{"/a/[x", "", "", false},    // bad pattern
		{"/a*/b*", "", "", false},   // a pattern further up
	}
	for _, tt := range tests {
		dir, pattern, ok := globTarget(tt.vpath)
		if dir != tt.dir || pattern != tt.pattern || ok != tt.ok {
			t.Errorf("globTarget(%q) = %q, %q, %v; want %q, %q, %v", tt.vpath, dir, pattern, ok, tt.dir, tt.pattern, tt.ok)
		}
	}
}
