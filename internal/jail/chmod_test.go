package jail

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestChmod(t *testing.T) {
	e := newEnv(t)
	e.write(t, "f", "f")
	if err := os.Mkdir(filepath.Join(e.home, "d"), 0o755); err != nil {
		t.Fatal(err)
	}
	e.write(t, "linked", "l")
	if err := os.Link(filepath.Join(e.home, "linked"), filepath.Join(e.home, "second")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(e.sentinel, filepath.Join(e.home, "out")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("f", filepath.Join(e.home, "in")); err != nil {
		t.Fatal(err)
	}
	before := e.snapshot(t)
	tests := []struct {
		vpath string
		mode  fs.FileMode
		want  error
	}{
		{"/f", 0o600, nil},
		{"/d", 0o700, nil},
		{"/in", 0o640, nil}, // a link inside: its target
		{"/", 0o700, ErrIsRoot},
		{"/f", 0o4755, fs.ErrPermission},
		{"/second", 0o600, fs.ErrPermission},
		{"/out", 0o600, fs.ErrPermission},
		{"/missing", 0o600, fs.ErrNotExist},
		{"/" + tempPrefix + "x", 0o600, fs.ErrPermission},
	}
	for _, tt := range tests {
		err := e.j.Chmod(tt.vpath, tt.mode)
		if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
			t.Errorf("Chmod(%s, %o) = %v, want %v", tt.vpath, tt.mode, err, tt.want)
		}
		e.checkNoLeak(t, err)
	}
	if fi, _ := os.Stat(filepath.Join(e.home, "f")); fi.Mode().Perm() != 0o640 {
		t.Errorf("f: mode %o, want 640 (through the link)", fi.Mode().Perm())
	}
	e.checkOutside(t, before)
	e.j.SetReadOnly(true)
	if err := e.j.Chmod("/f", 0o600); !errors.Is(err, fs.ErrPermission) {
		t.Errorf("read-only Chmod = %v", err)
	}
}
