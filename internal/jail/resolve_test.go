package jail

import (
	"errors"
	"path"
	"strings"
	"testing"
)

func TestResolve(t *testing.T) {
	tests := []struct {
		cwd, arg string
		want     string
		err      error
	}{
		{"/", "", "/", nil},
		{"/a/b", "", "/a/b", nil},
		{"/", ".", "/", nil},
		{"/", "..", "/", nil},
		{"/", "../..", "/", nil},
		{"/", "../../etc", "/etc", nil},
		{"/", "/../../etc/passwd", "/etc/passwd", nil},
		{"/a", "../../..", "/", nil},
		{"/a/b", "..", "/a", nil},
		{"/a/b", "c", "/a/b/c", nil},
		{"/a/b", "/c", "/c", nil},
		{"/", "//etc", "/etc", nil},
		{"/", "./../", "/", nil},
		{"/a", "b/", "/a/b", nil},
		{"/a", "b//c/./d/", "/a/b/c/d", nil},
		{"/", "%2e%2e", "/%2e%2e", nil},
		{"/", `..\..\etc`, `/..\..\etc`, nil},
		{"/", `\`, `/\`, nil},
		{"/", "...", "/...", nil},
		{"/", ".hidden", "/.hidden", nil},
		{"", "x", "/x", nil},        // a relative cwd is taken from "/"
		{"a/b", "c", "/a/b/c", nil}, // likewise
		{"/../x", "y", "/x/y", nil}, // an unclean cwd is cleaned too
		{"/", "a\x00b", "", ErrBadName},
		{"/", "a\rb", "", ErrBadName},
		{"/", "a\nb", "", ErrBadName},
		{"/", "\r\n", "", ErrBadName},
		{"/a\nb", "c", "", ErrBadName},
		{"/a\x00", "/abs", "", ErrBadName},
	}
	for _, tt := range tests {
		got, err := Resolve(tt.cwd, tt.arg)
		if !errors.Is(err, tt.err) || got != tt.want {
			t.Errorf("Resolve(%q, %q) = %q, %v; want %q, %v", tt.cwd, tt.arg, got, err, tt.want, tt.err)
		}
	}
}

// checkResolved reports what is wrong with p as a result of Resolve, or "".
func checkResolved(p string) string {
	switch {
	case !strings.HasPrefix(p, "/"):
		return "not absolute"
	case path.Clean(p) != p:
		return "not clean"
	case hasBadByte(p):
		return "contains a control character"
	}
	for elem := range strings.SplitSeq(p, "/") {
		if elem == ".." || elem == "." {
			return "contains a dot element"
		}
	}
	return ""
}

func FuzzResolve(f *testing.F) {
	seeds := [][2]string{
		{"/", ""}, {"/", ".."}, {"/a/b", "../../../etc/passwd"}, {"/", "//x//"},
		{"/", "%2e%2e/%2e%2e"}, {"/", `..\..`}, {"/a", "b\x00"}, {"/", "a\r\nPASS x"},
		{"..", "../.."}, {"", ""}, {"/a/./b/../", "./c/."},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, cwd, arg string) {
		got, err := Resolve(cwd, arg)
		if err != nil {
			if !errors.Is(err, ErrBadName) {
				t.Fatalf("Resolve(%q, %q): unexpected error %v", cwd, arg, err)
			}
			if !hasBadByte(cwd) && !hasBadByte(arg) {
				t.Fatalf("Resolve(%q, %q) refused a good name", cwd, arg)
			}
			return
		}
		if why := checkResolved(got); why != "" {
			t.Fatalf("Resolve(%q, %q) = %q: %s", cwd, arg, got, why)
		}
		// Resolving a result again changes nothing, from anywhere.
		if again, err := Resolve(cwd, got); err != nil || again != got {
			t.Fatalf("Resolve(%q, %q) = %q, %v; want it unchanged", cwd, got, again, err)
		}
		// An absolute argument does not depend on the cwd.
		if strings.HasPrefix(arg, "/") {
			if other, _ := Resolve("/elsewhere", arg); other != got {
				t.Fatalf("absolute %q resolved to %q and %q", arg, got, other)
			}
		}
	})
}
