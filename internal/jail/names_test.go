package jail

import (
	"errors"
	"testing"
)

// A client must not be able to create a name holding a terminal escape:
// every later listing would carry it into other clients' terminals.
func TestControlCharacterNamesRefused(t *testing.T) {
	e := newEnv(t)
	e.write(t, "old", "x")
	bad := []string{"/esc\x1b[2J", "/bell\x07", "/del\x7f", "/csi\u009b2J", "/raw\x9bJ", "/tab\tx"}
	for _, name := range bad {
		if err := e.j.Mkdir(name); !errors.Is(err, ErrBadName) {
			t.Errorf("Mkdir(%q) = %v, want ErrBadName", name, err)
		}
		if err := upload(e.j, name, 0, false, "data"); !errors.Is(err, ErrBadName) {
			t.Errorf("upload(%q) = %v, want ErrBadName", name, err)
		}
		if err := e.j.Rename("/old", name); !errors.Is(err, ErrBadName) {
			t.Errorf("Rename to %q = %v, want ErrBadName", name, err)
		}
		if u, _, err := e.j.CreateUnique("/", name[1:]); !errors.Is(err, ErrBadName) {
			if u != nil {
				u.Abort()
			}
			t.Errorf("CreateUnique(%q) = %v, want ErrBadName", name[1:], err)
		}
	}
	if got := e.homeNames(t, "."); len(got) != 1 || got[0] != "old" {
		t.Errorf("home holds %q, want only old", got)
	}
	// Ordinary non-ASCII names stay allowed.
	for _, name := range []string{"/café", "/日本語", "/a\u00a0b"} {
		if err := e.j.Mkdir(name); err != nil {
			t.Errorf("Mkdir(%q): %v", name, err)
		}
	}
}
