package jail

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// FuzzJail runs random paths through the jail's methods in a home full of
// symbolic links that lead out, and checks after every input that nothing
// outside the home changed and that no error revealed where the home is.
// (Hard links are left to TestEscape: reading through one is a documented
// limitation.)
func FuzzJail(f *testing.F) {
	seeds := []struct {
		cwd, arg string
		ops      uint16
	}{
		{"/", "x", 0xffff},
		{"/", "../../outside/sentinel", 0xffff},
		{"/rel", "sentinel", 0xffff},
		{"/rel", "new", 0xffff},
		{"/out/dir", "x", 0xffff},
		{"/up", "outside/dir/x", 0xffff},
		{"/d/deep", "y", 0xffff},
		{"/", "dl", 0xffff},
		{"/", "sl", 0xffff},
		{"/", "fifo", 0xffff},
		{"/", "%2e%2e/%2e%2e", 0xffff},
		{"/", `..\..\outside`, 0xffff},
		{"/d", "../../../../rel/dir/../sentinel", 0xffff},
	}
	for _, s := range seeds {
		f.Add(s.cwd, s.arg, s.ops)
	}

	e := newEnv(f)
	links := map[string]string{
		"rel":    "../outside",
		"out":    e.outside,
		"up":     "../../..",
		"sl":     "../outside/sentinel",
		"dl":     "../outside/new",
		"d/deep": "../../outside/dir",
		"loop":   "loop",
	}
	setup := func(t *testing.T) {
		// Earlier inputs may have renamed or removed any of these.
		if err := os.MkdirAll(filepath.Join(e.home, "d"), 0o755); err != nil {
			t.Fatal(err)
		}
		for name, target := range links {
			p := filepath.Join(e.home, name)
			if fi, err := os.Lstat(p); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
				continue
			}
			os.RemoveAll(p)
			if err := os.Symlink(target, p); err != nil {
				t.Fatal(err)
			}
		}
		syscall.Mkfifo(filepath.Join(e.home, "fifo"), 0o644)
	}
	before := e.snapshot(f)

	f.Fuzz(func(t *testing.T, cwd, arg string, ops uint16) {
		setup(t)
		p, err := Resolve(cwd, arg)
		if err != nil {
			return
		}
		j := e.j
		check := func(err error) {
			t.Helper()
			e.checkNoLeak(t, err)
		}
		run := func(bit uint16, op func() error) {
			if ops&(1<<bit) != 0 {
				check(op())
			}
		}
		run(0, func() error { _, err := j.Stat(p); return err })
		run(1, func() error { _, err := j.Lstat(p); return err })
		run(2, func() error { _, err := j.ReadDir(p); return err })
		run(3, func() error {
			r, err := j.OpenFile(p)
			if err == nil {
				_, err = io.Copy(io.Discard, io.LimitReader(r, 1<<20))
				r.Close()
			}
			return err
		})
		run(4, func() error { return j.Mkdir(p) })
		run(5, func() error {
			return upload(j, p, int64(ops>>12), ops&(1<<11) != 0, "fuzz")
		})
		run(6, func() error {
			u, err := j.CreateUpload(p, 0, false)
			if err == nil {
				err = u.Abort()
			}
			return err
		})
		run(7, func() error {
			u, _, err := j.CreateUnique(p, "u")
			if err == nil {
				err = u.Commit()
			}
			return err
		})
		run(8, func() error { return j.Chtimes(p, time.Unix(1e9, 0)) })
		run(9, func() error {
			if err := j.Rename(p, "/renamed"); err != nil {
				return err
			}
			return j.Rename("/renamed", p)
		})
		run(10, func() error {
			err := j.RemoveFile(p)
			if err != nil && !errors.Is(err, ErrNotRegular) {
				return err
			}
			return j.RemoveDir(p)
		})
		e.checkOutside(t, before)
	})
}
