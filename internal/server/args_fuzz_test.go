package server

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/port21/port21/internal/ftp"
)

// The argument parsers of args.go, fuzzed without a session: each must
// refuse with one of its own errors or give a value that formats back to
// what the client meant.

// FuzzParseREST: an accepted offset is non-negative and re-formats to the
// digits sent, less a sign and leading zeros, so a client's offset is never
// read as another number.
func FuzzParseREST(f *testing.F) {
	// RFC 3659 5.3's stream-mode marker is the byte count; real clients send
	// plain decimals (curl, lftp "REST 0" before every RETR).
	for _, s := range []string{"0", "100", "1048576", " 42 ", "9223372036854775807", "9223372036854775808", "-1", "-0", "+7", "0007", "1e3", "0x10", "1_000", "", "١٢"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, arg string) {
		n, err := parseREST(arg)
		if err != nil {
			if !errors.Is(err, errArgSyntax) || n != 0 {
				t.Fatalf("parseREST(%q) = %d, %v", arg, n, err)
			}
			return
		}
		if n < 0 {
			t.Fatalf("parseREST(%q) = %d", arg, n)
		}
		digits := strings.TrimSpace(arg)
		sign := ""
		if digits != "" && (digits[0] == '+' || digits[0] == '-') {
			sign, digits = digits[:1], digits[1:]
		}
		if strings.Trim(digits, "0123456789") != "" || digits == "" {
			t.Fatalf("parseREST(%q) accepted non-digits", arg)
		}
		if sign == "-" && n != 0 {
			t.Fatalf("parseREST(%q) = %d from a negative number", arg, n)
		}
		want := strings.TrimLeft(digits, "0")
		if want == "" {
			want = "0"
		}
		if got := strconv.FormatInt(n, 10); got != want {
			t.Fatalf("parseREST(%q) = %d, which formats as %q, not %q", arg, n, got, want)
		}
	})
}

// FuzzParseMFMT: the path is everything after the first space, unchanged,
// and the time re-formats to a stamp that parses to the same second.
func FuzzParseMFMT(f *testing.F) {
	// draft-somers-ftp-mfxx's examples, FileZilla's form, and the edges.
	for _, s := range []string{
		"20020717210715 file.txt", "20261124143500 dir/a b.txt", "20261124143500.123 x", "20240229000000 leap",
		"20230229000000 not-leap", "99999999999999 a", "20261124143500", "20261124143500 ", " 20261124143500 a", "19700101000000 \x00",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, arg string) {
		tm, name, err := parseMFMT(arg)
		if err != nil {
			if !errors.Is(err, errArgSyntax) && !errors.Is(err, errArgBadTime) {
				t.Fatalf("parseMFMT(%q): unexpected error %v", arg, err)
			}
			return
		}
		stamp, rest, _ := strings.Cut(arg, " ")
		if name == "" || name != rest || strings.Contains(stamp, " ") {
			t.Fatalf("parseMFMT(%q) gave path %q", arg, name)
		}
		if tm.Location() != time.UTC {
			t.Fatalf("parseMFMT(%q) gave %v, not UTC", arg, tm)
		}
		again, name2, err := parseMFMT(ftp.FormatTime(tm) + " " + name)
		if err != nil || !again.Equal(tm.Truncate(time.Second)) || name2 != name {
			t.Fatalf("parseMFMT(%q) = %v, %q; re-formatted it parses as %v, %q, %v", arg, tm, name, again, name2, err)
		}
	})
}

// FuzzHashArgs covers HASH's path and OPTS HASH's algorithm: the path is
// the argument or the argument less one pair of quotes, and only a known
// algorithm is selected, by its canonical name.
func FuzzHashArgs(f *testing.F) {
	// draft-bryan-ftpext-hash-02's examples and what FileZilla, FluentFTP
	// and ProFTPD's mod_digest send.
	for _, s := range []string{`file.iso`, `"a b.iso"`, `"`, `""`, `"x`, `SHA-256`, `sha-1`, ` md5 `, `CRC32`, `SHA-512`, `SHA256`} {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, arg string, short bool) {
		p := hashPath(arg, short)
		switch {
		case p == arg:
			if short && len(arg) >= 2 && arg[0] == '"' && arg[len(arg)-1] == '"' {
				t.Fatalf("hashPath(%q, true) kept the quotes", arg)
			}
		case !short || `"`+p+`"` != arg:
			t.Fatalf("hashPath(%q, %v) = %q", arg, short, p)
		}

		name, rest := subcommand("HASH " + arg)
		if !strings.EqualFold(name, "HASH") || rest != arg {
			t.Fatalf("subcommand(HASH %q) = %q, %q", arg, name, rest)
		}
		algo, ok := canonicalHash(rest)
		if !ok {
			return
		}
		if !slices.Contains(hashNames, algo) || !strings.EqualFold(strings.TrimSpace(arg), algo) {
			t.Fatalf("canonicalHash(%q) = %q", arg, algo)
		}
		if again, ok := canonicalHash(algo); !ok || again != algo {
			t.Fatalf("canonicalHash(%q) = %q, but %q gives %q, %v", arg, algo, algo, again, ok)
		}
		if newHash(algo) == nil || !strings.Contains(hashFeature(algo), algo+"*") {
			t.Fatalf("algorithm %q has no hash or no FEAT mark", algo)
		}
	})
}

// FuzzOPTS splits OPTS arguments as cmdOPTS does and parses the MLST fact
// list: the echo OPTS MLST replies with parses to the same facts.
func FuzzOPTS(f *testing.F) {
	// RFC 2389's "OPTS cmd args", RFC 3659 7.9's MLST examples, RFC 2640's
	// UTF8, and what clients really send.
	for _, s := range []string{"UTF8 ON", "utf8 on", "UTF-8 OFF", "MLST type;size;modify;", "MLST Type;SIZE", "MLST ", "MLST",
		"MLST unix.mode;perm;;x;", "HASH SHA-1", "HASH", "HASH sha-512", "MODE Z LEVEL 9", "", " ", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, arg string) {
		name, rest := subcommand(arg)
		if strings.Contains(name, " ") || (strings.Contains(arg, " ") && name+" "+rest != arg) || (!strings.Contains(arg, " ") && (name != arg || rest != "")) {
			t.Fatalf("subcommand(%q) = %q, %q", arg, name, rest)
		}
		if !strings.EqualFold(name, "MLST") {
			return
		}
		set, echo := ftp.ParseFactList(rest)
		if set&^ftp.AllFacts != 0 {
			t.Fatalf("OPTS MLST %q selects unknown facts %b", rest, set)
		}
		if set2, echo2 := ftp.ParseFactList(echo); set2 != set || echo2 != echo {
			t.Fatalf("OPTS MLST %q echoes %q, which parses as %b, %q", rest, echo, set2, echo2)
		}
	})
}

// FuzzParseChmod: what SITE CHMOD applies never has group write, others'
// bits, setuid, setgid or sticky, and an accepted mode and path re-formatted
// as "%o path" parse to the same mode and path.
func FuzzParseChmod(f *testing.F) {
	// PHP's ftp_chmod ("CHMOD 0644 file"), FileZilla and WinSCP ("755 dir").
	for _, s := range []string{"644 a.txt", "0644 a b.txt", "755 dir", "  600 x", "777 /", "4755 suid", "1777 tmp", "7777 x",
		"17777 x", "8 x", "-1 x", "+644 x", "0o644 x", "644", "644 ", "99999999999 x", "0 x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, arg string) {
		mode, modeText, name, err := parseChmod(arg)
		if err != nil {
			if !errors.Is(err, errArgSyntax) && !errors.Is(err, errArgBadMode) && !errors.Is(err, errArgSpecials) {
				t.Fatalf("parseChmod(%q): unexpected error %v", arg, err)
			}
			return
		}
		if mode&^0o750 != 0 {
			t.Fatalf("parseChmod(%q) = %o: more than owner bits and group read/search", arg, mode)
		}
		if name == "" || strings.Trim(modeText, "01234567") != "" {
			t.Fatalf("parseChmod(%q) = %q, %q", arg, modeText, name)
		}
		asked, _ := strconv.ParseUint(modeText, 8, 32)
		if mode != fs.FileMode(asked)&0o750 {
			t.Fatalf("parseChmod(%q) = %o, asked %o", arg, mode, asked)
		}
		mode2, _, name2, err := parseChmod(fmt.Sprintf("%o %s", asked, name))
		if err != nil || mode2 != mode || name2 != name {
			t.Fatalf("parseChmod(%q) = %o, %q; re-formatted: %o, %q, %v", arg, mode, name, mode2, name2, err)
		}
	})
}

// FuzzListArgs: what LIST and NLST keep of their argument, once the
// ls-style options are stripped, is the argument's own tail, and starts
// with no option unless that "option" holds a slash (a path such as
// "-dir/x" is a name, not an option).
func FuzzListArgs(f *testing.F) {
	// What lftp, curl, FileZilla and ncftp send.
	for _, s := range []string{"", "-la", "-la /pub", "-a -l dir", "-al  a b", "-R", "-/x", "-la -x/y z", "--", "- x", "   -l"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, arg string) {
		got := listArgs(arg)
		if !strings.HasSuffix(arg, got) {
			t.Fatalf("listArgs(%q) = %q, not its tail", arg, got)
		}
		if strings.HasPrefix(got, " ") {
			t.Fatalf("listArgs(%q) = %q", arg, got)
		}
		if opt, _, _ := strings.Cut(got, " "); strings.HasPrefix(opt, "-") && !strings.Contains(opt[1:], "/") {
			t.Fatalf("listArgs(%q) = %q, still an option", arg, got)
		}
	})
}

// FuzzGlob covers the wildcard parsing of LIST, NLST and mdelete: a
// pattern is matched in one directory only, the directory has no pattern
// and is clean, matching never fails on a pattern globTarget accepted, and
// NLST's prefix is the client's own text.
func FuzzGlob(f *testing.F) {
	// tnftp's and ncftp's mget and mdelete, and patterns Go's path.Match
	// refuses or that have made matchers slow elsewhere.
	for _, s := range []string{"/*.txt", "/dir/file?.bin", "/[ab]*", "/d/[", "/d/[]", "/*/x", "/a/**", "/" + strings.Repeat("*a", 30) + "b", "/[^a-", "/\\", "/x[a-\\]"} {
		f.Add(s, "file1.bin")
	}
	f.Fuzz(func(t *testing.T, vpath, name string) {
		dir, pattern, ok := globTarget(vpath)
		if !ok {
			if dir != "" || pattern != "" {
				t.Fatalf("globTarget(%q) refused but gave %q, %q", vpath, dir, pattern)
			}
			return
		}
		if hasMeta(dir) || path.Clean(dir) != dir || strings.Contains(pattern, "/") || !hasMeta(pattern) {
			t.Fatalf("globTarget(%q) = %q, %q", vpath, dir, pattern)
		}
		if _, err := path.Match(pattern, name); err != nil {
			t.Fatalf("pattern %q from %q fails on %q: %v", pattern, vpath, name, err)
		}
		if p := nlstPrefix(vpath); !strings.HasPrefix(vpath, p) || strings.Contains(vpath[len(p):], "/") {
			t.Fatalf("nlstPrefix(%q) = %q", vpath, p)
		}
	})
}
