package jail

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestKernelResolution checks that on this kernel OpenFile and Chtimes
// really take the openat2 path (the other tests pass either way, the
// os.Root walk being the fallback) and that it keeps the walk's rules.
func TestKernelResolution(t *testing.T) {
	fd, err := unix.Openat2(unix.AT_FDCWD, ".", &unix.OpenHow{Flags: unix.O_PATH | unix.O_CLOEXEC, Resolve: beneath})
	if err != nil {
		t.Skipf("openat2 with RESOLVE_BENEATH unavailable here (%v): the os.Root walk serves", err)
	}
	unix.Close(fd)
	e := newEnv(t)
	e.mkdir(t, "d")
	e.write(t, "d/f", "inside")
	e.symlink(t, "../../outside/sentinel", "d/out")
	e.symlink(t, "f", "d/in")
	if err := syscall.Mkfifo(filepath.Join(e.home, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		rel  string
		want error
	}{
		{"d/f", nil},
		{"d/in", nil},
		{"d/out", ErrOutside},
		{"d/../../outside/sentinel", ErrOutside},
		{"fifo", ErrNotRegular},
		{"d", ErrNotRegular},
		{"missing", os.ErrNotExist},
	}
	for _, tt := range tests {
		f, ok, err := e.j.openRegularBeneath(tt.rel, "/"+tt.rel)
		if !ok {
			t.Fatalf("%s: openat2 not used on this kernel", tt.rel)
		}
		switch {
		case tt.want == nil && err != nil:
			t.Errorf("%s: %v", tt.rel, err)
		case tt.want != nil && !errors.Is(err, tt.want):
			t.Errorf("%s: got %v, want %v", tt.rel, err, tt.want)
		}
		if f != nil {
			f.Close()
		}
	}
	ok, err := e.j.chtimesBeneath("d/in", time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC))
	if !ok || err != nil {
		t.Errorf("chtimes: kernel path %v, %v", ok, err)
	}
	if ok, err := e.j.chtimesBeneath("d/out", time.Now()); !ok || !errors.Is(err, ErrOutside) {
		t.Errorf("chtimes through a link outside: kernel path %v, %v", ok, err)
	}
}
