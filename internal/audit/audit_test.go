package audit

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A hostile name can never make more than one field of one line.
func TestFieldEscapes(t *testing.T) {
	for in, want := range map[string]string{
		"plain.txt":                "plain.txt",
		"with space":               "with_space",
		"a\r\nFri Dec  4 x c":      `a\x0d\x0aFri_Dec__4_x_c`,
		"\x1b[2Jclear":             `\x1b[2Jclear`,
		`back\slash`:               `back\\slash`,
		"bad\xffutf8":              `bad\xffutf8`,
		"bidi\u202etxt.exe":        `bidi\u202etxt.exe`,
		"nbsp\u00a0tab\tdel\x7f":   `nbsp\u00a0tab\x09del\x7f`,
		"déjà vu/файл":             "déjà_vu/файл",
		"":                         "-",
		"c1\u0085next":             `c1\u0085next`,
		"tag\U000E0041":            `tag\U000e0041`,
		"line\u2028sep\u2029para":  `line\u2028sep\u2029para`,
		"zero\u200bwidth\ufeffbom": `zero\u200bwidth\ufeffbom`,
	} {
		got := Field(in)
		if got != want {
			t.Errorf("Field(%q) = %q, want %q", in, got, want)
		}
		for _, r := range got {
			if r < 0x21 || r == 0x7f {
				t.Errorf("Field(%q) = %q holds %U", in, got, r)
			}
		}
	}
}

// The line has the 14 fields of xferlog(5), so parsers that split on
// spaces (fail2ban, xferlog-stats) read it.
func TestXferlogLine(t *testing.T) {
	start := time.Date(2026, 12, 4, 4, 7, 14, 0, time.Local)
	line := XferlogLine(Transfer{Start: start, Duration: 2 * time.Second, Remote: netip.MustParseAddr("192.0.2.7"),
		Bytes: 1055, Path: "/dir/my file\n.txt", User: "alice", Complete: true})
	want := "Fri Dec  4 04:07:16 2026 2 192.0.2.7 1055 /dir/my_file\\x0a.txt b _ o r alice ftp 0 * c\n"
	if line != want {
		t.Errorf("got  %q\nwant %q", line, want)
	}
	anon := XferlogLine(Transfer{Start: start, Remote: netip.MustParseAddr("2001:db8::1"), Bytes: 3, Path: "/up",
		Upload: true, ASCII: true, User: "whatever@example.com", Anonymous: true})
	if f := strings.Fields(anon); len(f) != 18 || f[9] != "a" || f[11] != "i" || f[12] != "a" || f[13] != "anonymous" || f[17] != "i" {
		t.Errorf("anonymous incomplete ASCII upload: %q", anon)
	}
}

// Reopen starts a new file after the old one was moved away.
func TestFileReopen(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.log")
	f, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.Write([]byte("one\n"))
	os.Rename(path, path+".1")
	f.Write([]byte("two\n"))
	if err := f.Reopen(); err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("three\n"))
	old, _ := os.ReadFile(path + ".1")
	cur, _ := os.ReadFile(path)
	if string(old) != "one\ntwo\n" || string(cur) != "three\n" {
		t.Errorf("rotated %q, current %q", old, cur)
	}
}
