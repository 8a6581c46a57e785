package jail

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	fifoPath := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifoPath, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		home string
		want error
	}{
		{dir, nil},
		{filepath.Join(dir, "missing"), fs.ErrNotExist},
		{file, syscall.ENOTDIR},
		{fifoPath, syscall.ENOTDIR}, // must not block
	}
	for _, tt := range tests {
		j, err := Open(tt.home)
		if !errors.Is(err, tt.want) {
			t.Errorf("Open(%q) error = %v, want %v", tt.home, err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), dir) {
			t.Errorf("Open error reveals the path: %v", err)
		}
		if j != nil {
			if err := j.Close(); err != nil {
				t.Error(err)
			}
		}
	}
}

func TestStat(t *testing.T) {
	e := newEnv(t)
	e.mkdir(t, "d")
	e.write(t, "d/f", "hello")
	e.symlink(t, "d/f", "lf")
	tests := []struct {
		vpath    string
		lstat    bool
		wantMode fs.FileMode // type bits only
		wantSize int64
		err      error
	}{
		{vpath: "/", wantMode: fs.ModeDir},
		{vpath: "/d", wantMode: fs.ModeDir},
		{vpath: "/d/f", wantSize: 5},
		{vpath: "/d/../d/./f", wantSize: 5},
		{vpath: "d/f", wantSize: 5}, // a relative vpath is taken from "/"
		{vpath: "/lf", wantSize: 5},
		{vpath: "/lf", lstat: true, wantMode: fs.ModeSymlink, wantSize: 3},
		{vpath: "/missing", err: fs.ErrNotExist},
		{vpath: "/d/f/x", err: syscall.ENOTDIR},
		{vpath: "/\x00", err: ErrBadName},
		{vpath: "/d/" + tempPrefix + "1", err: fs.ErrPermission},
		{vpath: "/" + tempPrefix + "dir/x", err: fs.ErrPermission},
	}
	for _, tt := range tests {
		var fi fs.FileInfo
		var err error
		if tt.lstat {
			fi, err = e.j.Lstat(tt.vpath)
		} else {
			fi, err = e.j.Stat(tt.vpath)
		}
		if !errors.Is(err, tt.err) {
			t.Errorf("stat(%q, lstat=%v) error = %v, want %v", tt.vpath, tt.lstat, err, tt.err)
			continue
		}
		e.checkNoLeak(t, err)
		if err != nil {
			continue
		}
		if fi.Mode().Type() != tt.wantMode || (tt.wantMode != fs.ModeDir && fi.Size() != tt.wantSize) {
			t.Errorf("stat(%q, lstat=%v) = %v size %d, want %v size %d",
				tt.vpath, tt.lstat, fi.Mode(), fi.Size(), tt.wantMode, tt.wantSize)
		}
	}
}

func TestReadDir(t *testing.T) {
	e := newEnv(t)
	e.mkdir(t, "sub")
	e.write(t, "b", "bb")
	e.write(t, "a", "a")
	e.write(t, "C", "c")
	e.write(t, tempPrefix+"abc", "half an upload")
	e.write(t, "bad\nname", "unaddressable")
	e.symlink(t, "sub", "tosub")

	infos, err := e.j.ReadDir("/")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := names(infos), []string{"C", "a", "b", "sub", "tosub"}; !slices.Equal(got, want) {
		t.Errorf("ReadDir = %q, want %q", got, want)
	}
	if fi := infos[4]; !fi.IsDir() {
		t.Errorf("tosub = %v, want the directory it points to", fi.Mode())
	}

	for _, tt := range []struct {
		vpath string
		err   error
	}{
		{"/sub", nil},
		{"/a", syscall.ENOTDIR},
		{"/missing", fs.ErrNotExist},
		{"/" + tempPrefix + "abc", fs.ErrPermission},
		{"/\r", ErrBadName},
	} {
		_, err := e.j.ReadDir(tt.vpath)
		if !errors.Is(err, tt.err) {
			t.Errorf("ReadDir(%q) error = %v, want %v", tt.vpath, err, tt.err)
		}
		e.checkNoLeak(t, err)
	}
}

func TestOpenFile(t *testing.T) {
	for _, walk := range []bool{false, true} {
		t.Run(fmt.Sprintf("walk=%v", walk), func(t *testing.T) { testOpenFile(t, walk) })
	}
}

func testOpenFile(t *testing.T, walk bool) {
	e := newEnv(t)
	e.j.walk = walk
	e.write(t, "f", "content")
	f, err := e.j.OpenFile("/f")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Name() != "/f" {
		t.Errorf("Name = %q, want the virtual path", f.Name())
	}
	flags, err := unix.FcntlInt(f.Fd(), unix.F_GETFL, 0)
	if err != nil {
		t.Fatal(err)
	}
	if flags&unix.O_NONBLOCK != 0 {
		t.Error("file left in non-blocking mode")
	}
	if got, err := readAll(e.j, "/f"); err != nil || got != "content" {
		t.Errorf("read = %q, %v", got, err)
	}
	// Errors from the file itself name the virtual path only.
	_, err = f.Write([]byte("x"))
	if err == nil {
		t.Error("write to a file opened for reading succeeded")
	}
	e.checkNoLeak(t, err)
}

func TestMkdir(t *testing.T) {
	e := newEnv(t)
	e.write(t, "f", "")
	for _, tt := range []struct {
		vpath string
		err   error
	}{
		{"/d", nil},
		{"/d/e", nil},
		{"/d", fs.ErrExist},
		{"/f", fs.ErrExist},
		{"/", fs.ErrExist},
		{"/x/y", fs.ErrNotExist},
		{"/f/y", syscall.ENOTDIR},
		{"/" + tempPrefix + "d", fs.ErrPermission},
		{"/a\nb", ErrBadName},
	} {
		err := e.j.Mkdir(tt.vpath)
		if !errors.Is(err, tt.err) {
			t.Errorf("Mkdir(%q) error = %v, want %v", tt.vpath, err, tt.err)
		}
		e.checkNoLeak(t, err)
	}
	fi, err := os.Stat(filepath.Join(e.home, "d"))
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm&^dirPerm != 0 {
		t.Errorf("directory mode %v exceeds %v", perm, fs.FileMode(dirPerm))
	}
}

func TestRemove(t *testing.T) {
	e := newEnv(t)
	e.write(t, "f", "")
	e.mkdir(t, "empty")
	e.mkdir(t, "full")
	e.write(t, "full/x", "")
	e.symlink(t, "empty", "linkdir")
	tests := []struct {
		dir   bool
		vpath string
		err   error
	}{
		{false, "/empty", ErrNotRegular},
		{false, "/linkdir", nil}, // removes the link, not the directory
		{false, "/f", nil},
		{false, "/f", fs.ErrNotExist},
		{false, "/", ErrIsRoot},
		{true, "/full", syscall.ENOTEMPTY},
		{true, "/full/x", syscall.ENOTDIR},
		{true, "/empty", nil},
		{true, "/empty", fs.ErrNotExist},
		{true, "/", ErrIsRoot},
		{true, "/" + tempPrefix + "x", fs.ErrPermission},
	}
	for _, tt := range tests {
		var err error
		if tt.dir {
			err = e.j.RemoveDir(tt.vpath)
		} else {
			err = e.j.RemoveFile(tt.vpath)
		}
		if !errors.Is(err, tt.err) {
			t.Errorf("remove(%q, dir=%v) error = %v, want %v", tt.vpath, tt.dir, err, tt.err)
		}
		e.checkNoLeak(t, err)
	}
}

func TestRename(t *testing.T) {
	e := newEnv(t)
	e.write(t, "a", "A")
	e.write(t, "b", "B")
	e.mkdir(t, "d")
	e.mkdir(t, "empty")
	e.mkdir(t, "d2")
	tests := []struct {
		from, to string
		err      error
	}{
		{"/a", "/b", nil}, // replaces a regular file, like RNTO in vsftpd
		{"/b", "/d", fs.ErrExist},
		{"/d2", "/empty", fs.ErrExist}, // not even an empty directory
		{"/d", "/d/inside", syscall.EINVAL},
		{"/missing", "/x", fs.ErrNotExist},
		{"/b", "/missing/x", fs.ErrNotExist},
		{"/", "/x", ErrIsRoot},
		{"/d", "/..", ErrIsRoot},
		{"/b", "/" + tempPrefix + "x", fs.ErrPermission},
		{"/b", "/c\n", ErrBadName},
		{"/b", "/d/c", nil},
	}
	for _, tt := range tests {
		err := e.j.Rename(tt.from, tt.to)
		if !errors.Is(err, tt.err) {
			t.Errorf("Rename(%q, %q) error = %v, want %v", tt.from, tt.to, err, tt.err)
		}
		e.checkNoLeak(t, err)
	}
	if got := e.read(t, "d/c"); got != "A" {
		t.Errorf("d/c = %q, want A", got)
	}
}

func TestChtimes(t *testing.T) {
	for _, walk := range []bool{false, true} {
		t.Run(fmt.Sprintf("walk=%v", walk), func(t *testing.T) { testChtimes(t, walk) })
	}
}

func testChtimes(t *testing.T, walk bool) {
	e := newEnv(t)
	e.j.walk = walk
	e.write(t, "f", "")
	if err := os.Chtimes(filepath.Join(e.home, "f"), oldTime, oldTime); err != nil {
		t.Fatal(err)
	}
	want := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	// Past 2262 nanoseconds since 1970 overflow an int64, which os.Root
	// uses: the walk must refuse such a time rather than store 1901.
	far := time.Date(2400, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := e.j.Chtimes("/f", far); walk && !errors.Is(err, syscall.EINVAL) {
		t.Errorf("Chtimes(year 2400) on the walk = %v, want EINVAL", err)
	} else if !walk && err != nil {
		t.Errorf("Chtimes(year 2400): %v", err)
	}
	for _, want := range []time.Time{far, want} {
		if walk && want == far {
			continue
		}
		if err := e.j.Chtimes("/f", want); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(filepath.Join(e.home, "f"))
		if err != nil {
			t.Fatal(err)
		}
		if !fi.ModTime().Equal(want) {
			t.Errorf("mtime = %v, want %v", fi.ModTime(), want)
		}
		var st syscall.Stat_t
		if err := syscall.Stat(filepath.Join(e.home, "f"), &st); err != nil {
			t.Fatal(err)
		}
		if atime := time.Unix(st.Atim.Unix()); !atime.Equal(oldTime) {
			t.Errorf("atime = %v, want it left at %v", atime, oldTime)
		}
	}
	for _, tt := range []struct {
		vpath string
		mtime time.Time
		err   error
	}{
		{"/missing", want, fs.ErrNotExist},
		{"/f", time.Time{}, syscall.EINVAL},
		{"/" + tempPrefix + "f", want, fs.ErrPermission},
	} {
		err := e.j.Chtimes(tt.vpath, tt.mtime)
		if !errors.Is(err, tt.err) {
			t.Errorf("Chtimes(%q) error = %v, want %v", tt.vpath, err, tt.err)
		}
	}
}

func TestReadOnly(t *testing.T) {
	e := newEnv(t)
	e.write(t, "f", "data")
	e.mkdir(t, "d")
	e.j.SetReadOnly(true)
	if !e.j.ReadOnly() {
		t.Fatal("ReadOnly() = false")
	}
	writes := map[string]func() error{
		"Mkdir":      func() error { return e.j.Mkdir("/new") },
		"RemoveFile": func() error { return e.j.RemoveFile("/f") },
		"RemoveDir":  func() error { return e.j.RemoveDir("/d") },
		"Rename":     func() error { return e.j.Rename("/f", "/g") },
		"Chtimes":    func() error { return e.j.Chtimes("/f", time.Now()) },
		"CreateUpload": func() error {
			_, err := e.j.CreateUpload("/f", 0, false)
			return err
		},
		"CreateUnique": func() error {
			_, _, err := e.j.CreateUnique("/", "f")
			return err
		},
	}
	for name, op := range writes {
		if err := op(); !errors.Is(err, fs.ErrPermission) {
			t.Errorf("%s on a read-only jail: %v, want fs.ErrPermission", name, err)
		}
	}
	if got, err := readAll(e.j, "/f"); err != nil || got != "data" {
		t.Errorf("read = %q, %v", got, err)
	}
	if got := e.homeNames(t, ""); !slices.Equal(got, []string{"d", "f"}) {
		t.Errorf("home = %q", got)
	}
	e.j.SetReadOnly(false)
	if err := e.j.Mkdir("/new"); err != nil {
		t.Error(err)
	}
}

// BenchmarkOpenFile opens a file two directories down, as a mirror's
// download does for each file: resolved by the kernel, and walked by
// os.Root.
func BenchmarkOpenFile(b *testing.B) {
	for _, walk := range []bool{false, true} {
		b.Run(fmt.Sprintf("walk=%v", walk), func(b *testing.B) {
			e := newEnv(b)
			e.j.walk = walk
			e.mkdir(b, "a")
			e.mkdir(b, "a/b")
			e.write(b, "a/b/f", "content")
			for b.Loop() {
				f, err := e.j.OpenFile("/a/b/f")
				if err != nil {
					b.Fatal(err)
				}
				f.Close()
			}
		})
	}
}
