package jail

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
)

func TestUploadCommit(t *testing.T) {
	e := newEnv(t)
	e.mkdir(t, "d")
	u, err := e.j.CreateUpload("/d/new", 0, false)
	if err != nil {
		t.Fatal(err)
	}
	if u.File().Name() != "/d/new" || u.Path() != "/d/new" {
		t.Errorf("Name = %q, want the virtual path", u.File().Name())
	}
	if _, err := io.WriteString(u.File(), "payload"); err != nil {
		t.Fatal(err)
	}
	// Before Commit the data is only in a hidden temporary file.
	if got := e.homeNames(t, "d"); len(got) != 1 || !strings.HasPrefix(got[0], tempPrefix) {
		t.Errorf("directory during upload = %q", got)
	}
	if infos, err := e.j.ReadDir("/d"); err != nil || len(infos) != 0 {
		t.Errorf("ReadDir during upload = %q, %v; want nothing", names(infos), err)
	}
	fi, err := os.Stat(filepath.Join(e.home, "d", e.homeNames(t, "d")[0]))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("temporary file mode = %v, want 0600", fi.Mode())
	}

	if err := u.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := e.homeNames(t, "d"); !slices.Equal(got, []string{"new"}) {
		t.Errorf("directory after commit = %q", got)
	}
	if got := e.read(t, "d/new"); got != "payload" {
		t.Errorf("content = %q", got)
	}
	fi, err = os.Stat(filepath.Join(e.home, "d", "new"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != filePerm {
		t.Errorf("mode = %v, want %v", fi.Mode(), fs.FileMode(filePerm))
	}
	// Commit again and Abort after Commit change nothing.
	if err := u.Commit(); err != nil {
		t.Errorf("second Commit: %v", err)
	}
	if err := u.Abort(); err != nil {
		t.Errorf("Abort after Commit: %v", err)
	}
	if got := e.read(t, "d/new"); got != "payload" {
		t.Errorf("content after Abort = %q", got)
	}
}

func TestUploadAbort(t *testing.T) {
	e := newEnv(t)
	e.write(t, "old", "original")
	for _, appendMode := range []bool{false, true} {
		u, err := e.j.CreateUpload("/old", 0, appendMode)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(u.File(), "partial"); err != nil {
			t.Fatal(err)
		}
		if err := u.Abort(); err != nil {
			t.Fatal(err)
		}
		if err := u.Abort(); err != nil {
			t.Errorf("second Abort: %v", err)
		}
		if err := u.Commit(); !errors.Is(err, fs.ErrClosed) {
			t.Errorf("Commit after Abort = %v, want fs.ErrClosed", err)
		}
		if got := e.read(t, "old"); got != "original" {
			t.Errorf("append=%v: old = %q after abort", appendMode, got)
		}
		if got := e.homeNames(t, ""); !slices.Equal(got, []string{"old"}) {
			t.Errorf("append=%v: home after abort = %q", appendMode, got)
		}
	}
	// An aborted upload to a new name leaves no trace.
	u, err := e.j.CreateUpload("/new", 0, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := u.Abort(); err != nil {
		t.Fatal(err)
	}
	if got := e.homeNames(t, ""); !slices.Equal(got, []string{"old"}) {
		t.Errorf("home after abort = %q", got)
	}
}

func TestUploadResume(t *testing.T) {
	const old = "0123456789"
	tests := []struct {
		name       string
		exists     bool
		offset     int64
		appendMode bool
		data       string
		want       string
		err        error
	}{
		{"overwrite", true, 0, false, "new", "new", nil},
		{"resume in the middle", true, 4, false, "ABC", "0123ABC", nil},
		{"resume at the end", true, 10, false, "ABC", old + "ABC", nil},
		{"resume nothing", true, 4, false, "", "0123", nil},
		{"append", true, 0, true, "ABC", old + "ABC", nil},
		{"append ignores offset", true, 3, true, "ABC", old + "ABC", nil},
		{"append creates", false, 0, true, "ABC", "ABC", nil},
		{"create", false, 0, false, "ABC", "ABC", nil},
		{"offset beyond end", true, 11, false, "", "", ErrBadOffset},
		{"offset on missing file", false, 1, false, "", "", ErrBadOffset},
		{"negative offset", true, -1, false, "", "", ErrBadOffset},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			if tt.exists {
				e.write(t, "f", old)
			}
			u, err := e.j.CreateUpload("/f", tt.offset, tt.appendMode)
			if !errors.Is(err, tt.err) {
				t.Fatalf("CreateUpload error = %v, want %v", err, tt.err)
			}
			e.checkNoLeak(t, err)
			if err != nil {
				if hasTemp(e.homeNames(t, "")) {
					t.Error("temporary file left behind")
				}
				if tt.exists && e.read(t, "f") != old {
					t.Error("existing file changed")
				}
				return
			}
			pos, err := u.File().Seek(0, io.SeekCurrent)
			if err != nil {
				t.Fatal(err)
			}
			if wantPos := int64(len(tt.want) - len(tt.data)); pos != wantPos {
				t.Errorf("File positioned at %d, want %d", pos, wantPos)
			}
			if _, err := io.WriteString(u.File(), tt.data); err != nil {
				t.Fatal(err)
			}
			if tt.exists && e.read(t, "f") != old {
				t.Error("existing file changed before Commit")
			}
			if err := u.Commit(); err != nil {
				t.Fatal(err)
			}
			if got := e.read(t, "f"); got != tt.want {
				t.Errorf("content = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestUploadLarge(t *testing.T) {
	// Big enough that copy_file_range does real work.
	e := newEnv(t)
	big := strings.Repeat("0123456789abcdef", 64<<10) // 1 MiB
	e.write(t, "big", big)
	if err := upload(e.j, "/big", 1<<19, false, "tail"); err != nil {
		t.Fatal(err)
	}
	if got := e.read(t, "big"); got != big[:1<<19]+"tail" {
		t.Errorf("content has length %d, want %d", len(got), 1<<19+4)
	}
}

func TestUploadRefused(t *testing.T) {
	e := newEnv(t)
	e.mkdir(t, "d")
	e.write(t, "f", "")
	for _, tt := range []struct {
		vpath string
		err   error
	}{
		{"/", ErrNotRegular},
		{"/d", ErrNotRegular},
		{"/missing/f", fs.ErrNotExist},
		{"/f/g", syscall.ENOTDIR},
		{"/" + tempPrefix + "x", fs.ErrPermission},
		{"/a\x00", ErrBadName},
	} {
		_, err := e.j.CreateUpload(tt.vpath, 0, false)
		if !errors.Is(err, tt.err) {
			t.Errorf("CreateUpload(%q) error = %v, want %v", tt.vpath, err, tt.err)
		}
		e.checkNoLeak(t, err)
	}
}

func TestUploadTargetChanges(t *testing.T) {
	e := newEnv(t)
	u, err := e.j.CreateUpload("/x", 0, false)
	if err != nil {
		t.Fatal(err)
	}
	// A directory appears under the final name while the upload runs.
	e.mkdir(t, "x")
	err = u.Commit()
	if !errors.Is(err, ErrNotRegular) {
		t.Errorf("Commit over a new directory = %v, want ErrNotRegular", err)
	}
	e.checkNoLeak(t, err)
	if got := e.homeNames(t, ""); !slices.Equal(got, []string{"x"}) {
		t.Errorf("home = %q", got)
	}
}

func TestUploadOverSymlink(t *testing.T) {
	e := newEnv(t)
	e.write(t, "target", "keep")
	e.symlink(t, "target", "link")
	if err := upload(e.j, "/link", 2, false, "NEW"); err != nil {
		t.Fatal(err)
	}
	if got := e.read(t, "target"); got != "keep" {
		t.Errorf("link target = %q, want it untouched", got)
	}
	fi, err := os.Lstat(filepath.Join(e.home, "link"))
	if err != nil || !fi.Mode().IsRegular() {
		t.Fatalf("link = %v, %v; want a regular file", fi, err)
	}
	if got := e.read(t, "link"); got != "keNEW" {
		t.Errorf("link = %q", got)
	}
}

func TestCreateUnique(t *testing.T) {
	e := newEnv(t)
	e.mkdir(t, "d")
	e.write(t, "d/data", "taken")

	u, final, err := e.j.CreateUnique("/d", "data")
	if err != nil {
		t.Fatal(err)
	}
	if final != "/d/data.1" || u.Path() != final {
		t.Errorf("final = %q, want /d/data.1", final)
	}
	if _, err := io.WriteString(u.File(), "mine"); err != nil {
		t.Fatal(err)
	}
	if err := u.Commit(); err != nil {
		t.Fatal(err)
	}
	if e.read(t, "d/data") != "taken" || e.read(t, "d/data.1") != "mine" {
		t.Error("wrong contents after STOU")
	}

	// Abort releases the reserved name.
	u, final, err = e.j.CreateUnique("/d", "")
	if err != nil {
		t.Fatal(err)
	}
	if final != "/d/file" {
		t.Errorf("final = %q, want /d/file", final)
	}
	if err := u.Abort(); err != nil {
		t.Fatal(err)
	}
	if got := e.homeNames(t, "d"); !slices.Equal(got, []string{"data", "data.1"}) {
		t.Errorf("directory after abort = %q", got)
	}

	// A reserved name taken over by someone else is not overwritten.
	u, final, err = e.j.CreateUnique("/d", "x")
	if err != nil {
		t.Fatal(err)
	}
	if err := upload(e.j, final, 0, false, "theirs"); err != nil {
		t.Fatal(err)
	}
	if err := u.Commit(); !errors.Is(err, fs.ErrExist) {
		t.Errorf("Commit over a replaced reservation = %v, want fs.ErrExist", err)
	}
	if e.read(t, "d/x") != "theirs" || hasTemp(e.homeNames(t, "d")) {
		t.Error("lost the other upload or left a temporary file")
	}

	for _, tt := range []struct {
		dir, hint string
		err       error
	}{
		{"/d", "a/b", ErrBadName},
		{"/d", "..", ErrBadName},
		{"/d", "a\r\n", ErrBadName},
		{"/d", tempPrefix, fs.ErrPermission},
		{"/d", strings.Repeat("h", 300), syscall.ENAMETOOLONG},
		{"/missing", "h", fs.ErrNotExist},
		{"/d/data", "h", syscall.ENOTDIR},
	} {
		_, _, err := e.j.CreateUnique(tt.dir, tt.hint)
		if !errors.Is(err, tt.err) {
			t.Errorf("CreateUnique(%q, %.20q) error = %v, want %v", tt.dir, tt.hint, err, tt.err)
		}
		e.checkNoLeak(t, err)
	}
}

func TestCreateUniqueConcurrent(t *testing.T) {
	e := newEnv(t)
	const n = 8
	var wg sync.WaitGroup
	finals := make([]string, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			u, final, err := e.j.CreateUnique("/", "same")
			if err != nil {
				errs[i] = err
				return
			}
			finals[i] = final
			if _, err := fmt.Fprintf(u.File(), "upload %d", i); err != nil {
				u.Abort()
				errs[i] = err
				return
			}
			errs[i] = u.Commit()
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	for i := range n {
		if errs[i] != nil {
			t.Errorf("upload %d: %v", i, errs[i])
			continue
		}
		if seen[finals[i]] {
			t.Errorf("name %q handed out twice", finals[i])
		}
		seen[finals[i]] = true
		if got, want := e.read(t, finals[i][1:]), fmt.Sprintf("upload %d", i); got != want {
			t.Errorf("%s = %q, want %q", finals[i], got, want)
		}
	}
	if got := e.homeNames(t, ""); len(got) != n || hasTemp(got) {
		t.Errorf("home = %q", got)
	}
}
