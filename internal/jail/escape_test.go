package jail

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// errAny accepts any non-nil error in an escape case.
var errAny = errors.New("any error")

// TestEscape tries every way out of the jail we know of. Each case runs in a
// fresh jail next to an outside directory holding a sentinel file, and must
// leave everything outside the home exactly as it was, and say nothing about
// where the home is.
func TestEscape(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, e *env)
		op    func(t *testing.T, e *env) error
		want  error // nil: must succeed; errAny: must fail somehow
	}{
		// Paths alone.
		{
			name: "dotdot is the home",
			op: func(t *testing.T, e *env) error {
				fi, err := e.j.Stat("..")
				if err == nil {
					home, _ := os.Stat(e.home)
					if !os.SameFile(fi, home) {
						t.Error(`Stat("..") is not the home`)
					}
				}
				return err
			},
		},
		{
			name: "dotdot dotdot mkdir",
			op:   func(t *testing.T, e *env) error { return e.j.Mkdir("../..") },
			want: fs.ErrExist, // it is "/"
		},
		{
			name: "absolute dotdot to /etc/passwd",
			op: func(t *testing.T, e *env) error {
				_, err := e.j.OpenFile("/../../etc/passwd")
				return err
			},
			want: fs.ErrNotExist,
		},
		{
			name:  "a/../../.. lists the home",
			setup: func(t *testing.T, e *env) { e.mkdir(t, "a"); e.write(t, "mine", "x") },
			op: func(t *testing.T, e *env) error {
				p, err := Resolve("/a", "a/../../..")
				if err != nil {
					return err
				}
				infos, err := e.j.ReadDir(p)
				if got := strings.Join(names(infos), ","); err == nil && got != "a,mine" {
					t.Errorf("listing = %s", got)
				}
				return err
			},
		},
		{
			name: "double slash etc stays inside",
			op: func(t *testing.T, e *env) error {
				if err := e.j.Mkdir("//etc"); err != nil {
					return err
				}
				if _, err := os.Stat(filepath.Join(e.home, "etc")); err != nil {
					t.Error(err)
				}
				return nil
			},
		},
		{
			name: "dot dotdot slash upload stays inside",
			op: func(t *testing.T, e *env) error {
				p, _ := Resolve("/", "./../x")
				if err := upload(e.j, p, 0, false, "data"); err != nil {
					return err
				}
				if e.read(t, "x") != "data" {
					t.Error("upload not in the home")
				}
				return nil
			},
		},
		{
			name: "percent-encoded dots are a literal name",
			op: func(t *testing.T, e *env) error {
				if err := e.j.Mkdir("/%2e%2e"); err != nil {
					return err
				}
				return upload(e.j, "/%2e%2e/%2e%2e", 0, false, "x")
			},
		},
		{
			name: "percent-encoded climb finds nothing",
			op: func(t *testing.T, e *env) error {
				_, err := e.j.OpenFile("/%2e%2e/%2e%2e/outside/sentinel")
				return err
			},
			want: fs.ErrNotExist,
		},
		{
			name: "backslash dotdot is a literal name",
			op: func(t *testing.T, e *env) error {
				if err := e.j.Mkdir(`/..\..\evil`); err != nil {
					return err
				}
				if _, err := os.Stat(filepath.Join(e.home, `..\..\evil`)); err != nil {
					t.Error(err)
				}
				return nil
			},
		},
		{
			name: "backslash path upload stays inside",
			op: func(t *testing.T, e *env) error {
				return upload(e.j, `/..\outside\sentinel`, 0, false, "x")
			},
		},
		{
			name: "NUL in name",
			op:   func(t *testing.T, e *env) error { _, err := e.j.Stat("/a\x00b"); return err },
			want: ErrBadName,
		},
		{
			name: "CR in name",
			op:   func(t *testing.T, e *env) error { return e.j.Mkdir("/a\rb") },
			want: ErrBadName,
		},
		{
			name: "LF in name",
			op: func(t *testing.T, e *env) error {
				_, err := e.j.CreateUpload("/a\nDELE x", 0, false)
				return err
			},
			want: ErrBadName,
		},
		{
			name: "upload temp names are off limits",
			setup: func(t *testing.T, e *env) {
				e.write(t, tempPrefix+"x", "half")
			},
			op: func(t *testing.T, e *env) error {
				_, err := e.j.OpenFile("/" + tempPrefix + "x")
				return err
			},
			want: fs.ErrPermission,
		},

		// Symbolic links.
		{
			name:  "absolute symlink to /etc",
			setup: func(t *testing.T, e *env) { e.symlink(t, "/etc", "etc") },
			op: func(t *testing.T, e *env) error {
				_, err := e.j.OpenFile("/etc/passwd")
				return err
			},
			want: ErrOutside,
		},
		{
			name:  "absolute symlink to outside dir",
			setup: func(t *testing.T, e *env) { e.symlink(t, e.outside, "out") },
			op: func(t *testing.T, e *env) error {
				_, err := e.j.OpenFile("/out/sentinel")
				return err
			},
			want: ErrOutside,
		},
		{
			name:  "relative symlink ../../..",
			setup: func(t *testing.T, e *env) { e.symlink(t, "../../..", "up") },
			op: func(t *testing.T, e *env) error {
				_, err := e.j.ReadDir("/up")
				return err
			},
			want: ErrOutside,
		},
		{
			name:  "relative symlink to sibling dir",
			setup: func(t *testing.T, e *env) { e.symlink(t, "../outside", "rel") },
			op: func(t *testing.T, e *env) error {
				_, err := e.j.Stat("/rel/sentinel")
				return err
			},
			want: ErrOutside,
		},
		{
			name: "symlink chain a->b->/",
			setup: func(t *testing.T, e *env) {
				e.symlink(t, "b", "a")
				e.symlink(t, "/", "b")
			},
			op: func(t *testing.T, e *env) error {
				_, err := e.j.ReadDir("/a")
				return err
			},
			want: ErrOutside,
		},
		{
			name: "symlink chain a->b->../outside",
			setup: func(t *testing.T, e *env) {
				e.mkdir(t, "d")
				e.symlink(t, "d/b", "a")
				e.symlink(t, "../../outside", "d/b")
			},
			op: func(t *testing.T, e *env) error {
				return upload(e.j, "/a/sentinel", 0, false, "overwritten")
			},
			want: ErrOutside,
		},
		{
			name:  "symlink loop",
			setup: func(t *testing.T, e *env) { e.symlink(t, "loop", "loop") },
			op: func(t *testing.T, e *env) error {
				_, err := e.j.Stat("/loop/x")
				return err
			},
			want: errAny,
		},
		{
			name:  "mkdir through link to outside",
			setup: func(t *testing.T, e *env) { e.symlink(t, "../outside", "rel") },
			op:    func(t *testing.T, e *env) error { return e.j.Mkdir("/rel/new") },
			want:  ErrOutside,
		},
		{
			name:  "upload through link to outside",
			setup: func(t *testing.T, e *env) { e.symlink(t, e.outside, "out") },
			op:    func(t *testing.T, e *env) error { return upload(e.j, "/out/new", 0, false, "x") },
			want:  ErrOutside,
		},
		{
			name:  "append through link to outside file",
			setup: func(t *testing.T, e *env) { e.symlink(t, "../outside", "rel") },
			op:    func(t *testing.T, e *env) error { return upload(e.j, "/rel/sentinel", 0, true, "more") },
			want:  ErrOutside,
		},
		{
			name:  "unique upload through link to outside",
			setup: func(t *testing.T, e *env) { e.symlink(t, "../outside", "rel") },
			op: func(t *testing.T, e *env) error {
				_, _, err := e.j.CreateUnique("/rel", "sentinel")
				return err
			},
			want: ErrOutside,
		},
		{
			name: "rename into link to outside",
			setup: func(t *testing.T, e *env) {
				e.symlink(t, "../outside", "rel")
				e.write(t, "f", "mine")
			},
			op: func(t *testing.T, e *env) error {
				err := e.j.Rename("/f", "/rel/sentinel")
				if e.read(t, "f") != "mine" {
					t.Error("source changed")
				}
				return err
			},
			want: ErrOutside,
		},
		{
			name:  "rename out of link to outside",
			setup: func(t *testing.T, e *env) { e.symlink(t, "../outside", "rel") },
			op:    func(t *testing.T, e *env) error { return e.j.Rename("/rel/sentinel", "/stolen") },
			want:  ErrOutside,
		},
		{
			name:  "remove through link to outside",
			setup: func(t *testing.T, e *env) { e.symlink(t, "../outside", "rel") },
			op:    func(t *testing.T, e *env) error { return e.j.RemoveFile("/rel/sentinel") },
			want:  ErrOutside,
		},
		{
			name:  "rmdir through link to outside",
			setup: func(t *testing.T, e *env) { e.symlink(t, e.outside, "out") },
			op:    func(t *testing.T, e *env) error { return e.j.RemoveDir("/out/dir") },
			want:  ErrOutside,
		},
		{
			name:  "chtimes through link to outside",
			setup: func(t *testing.T, e *env) { e.symlink(t, "../outside", "rel") },
			op:    func(t *testing.T, e *env) error { return e.j.Chtimes("/rel/sentinel", time.Now()) },
			want:  ErrOutside,
		},
		{
			name:  "chtimes on link to outside file",
			setup: func(t *testing.T, e *env) { e.symlink(t, "../outside/sentinel", "sl") },
			op:    func(t *testing.T, e *env) error { return e.j.Chtimes("/sl", time.Now()) },
			want:  ErrOutside,
		},
		{
			name:  "stat and lstat of link to outside file",
			setup: func(t *testing.T, e *env) { e.symlink(t, "../outside/sentinel", "sl") },
			op: func(t *testing.T, e *env) error {
				if fi, err := e.j.Lstat("/sl"); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
					t.Errorf("Lstat = %v, %v", fi, err)
				}
				_, err := e.j.Stat("/sl")
				return err
			},
			want: ErrOutside,
		},
		{
			name:  "upload over link to outside file",
			setup: func(t *testing.T, e *env) { e.symlink(t, e.sentinel, "sl") },
			op:    func(t *testing.T, e *env) error { return upload(e.j, "/sl", 0, false, "overwritten") },
			want:  ErrOutside,
		},
		{
			name: "listing shows escaping and dangling links as links",
			setup: func(t *testing.T, e *env) {
				e.symlink(t, "../outside/sentinel", "sl")
				e.symlink(t, "nowhere", "dl")
				e.symlink(t, e.outside, "out")
				e.write(t, "f", "1234")
				e.symlink(t, "f", "good")
			},
			op: func(t *testing.T, e *env) error {
				infos, err := e.j.ReadDir("/")
				if err != nil {
					return err
				}
				if got := strings.Join(names(infos), ","); got != "dl,f,good,out,sl" {
					t.Errorf("listing = %s", got)
				}
				for _, fi := range infos {
					isLink := fi.Mode()&fs.ModeSymlink != 0
					if isLink != (fi.Name() != "f" && fi.Name() != "good") {
						t.Errorf("%s: mode %v", fi.Name(), fi.Mode())
					}
					if fi.Name() == "good" && fi.Size() != 4 {
						t.Errorf("good: a link inside the jail should show its target, got size %d", fi.Size())
					}
				}
				return nil
			},
		},
		{
			name:  "rename link to outside moves only the link",
			setup: func(t *testing.T, e *env) { e.symlink(t, "../outside/sentinel", "sl") },
			op: func(t *testing.T, e *env) error {
				if err := e.j.Rename("/sl", "/sl2"); err != nil {
					return err
				}
				if target, err := os.Readlink(filepath.Join(e.home, "sl2")); err != nil || target != "../outside/sentinel" {
					t.Errorf("moved link = %q, %v", target, err)
				}
				return nil
			},
		},
		{
			name:  "remove link to outside removes only the link",
			setup: func(t *testing.T, e *env) { e.symlink(t, e.outside, "out") },
			op: func(t *testing.T, e *env) error {
				if err := e.j.RemoveFile("/out"); err != nil {
					return err
				}
				if _, err := os.Lstat(filepath.Join(e.home, "out")); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("link still there: %v", err)
				}
				return nil
			},
		},
		{
			name:  "rmdir of link to outside dir",
			setup: func(t *testing.T, e *env) { e.symlink(t, "../outside/dir", "dl") },
			op:    func(t *testing.T, e *env) error { return e.j.RemoveDir("/dl") },
			want:  syscall.ENOTDIR,
		},
		{
			name:  "absolute link into the home is not followed either",
			setup: func(t *testing.T, e *env) { e.mkdir(t, "sub"); e.symlink(t, filepath.Join(e.home, "sub"), "abs") },
			op:    func(t *testing.T, e *env) error { _, err := e.j.ReadDir("/abs"); return err },
			want:  ErrOutside,
		},
		{
			name:  "dangling link",
			setup: func(t *testing.T, e *env) { e.symlink(t, "nowhere", "dl") },
			op:    func(t *testing.T, e *env) error { _, err := e.j.Stat("/dl"); return err },
			want:  fs.ErrNotExist,
		},
		{
			name:  "upload over dangling link replaces the link",
			setup: func(t *testing.T, e *env) { e.symlink(t, "nowhere", "dl") },
			op: func(t *testing.T, e *env) error {
				if err := upload(e.j, "/dl", 0, false, "data"); err != nil {
					return err
				}
				if fi, err := os.Lstat(filepath.Join(e.home, "dl")); err != nil || !fi.Mode().IsRegular() {
					t.Errorf("dl = %v, %v", fi, err)
				}
				if _, err := os.Lstat(filepath.Join(e.home, "nowhere")); err == nil {
					t.Error("the upload went through the link")
				}
				return nil
			},
		},
		{
			name:  "upload over dangling link pointing outside",
			setup: func(t *testing.T, e *env) { e.symlink(t, "../outside/newfile", "dlo") },
			op:    func(t *testing.T, e *env) error { return upload(e.j, "/dlo", 0, false, "x") },
			want:  ErrOutside,
		},
		{
			name:  "mkdir over dangling link pointing outside",
			setup: func(t *testing.T, e *env) { e.symlink(t, "../outside/newdir", "dlo") },
			op:    func(t *testing.T, e *env) error { return e.j.Mkdir("/dlo") },
			want:  fs.ErrExist,
		},

		// Hard links: os.Root cannot stop a hard link that already exists, and
		// neither can we; only the administrator can make one. Reading through
		// it works, but writes replace the name and never reach the file.
		{
			name:  "existing hard link to outside file",
			setup: hardLink,
			op: func(t *testing.T, e *env) error {
				if got, err := readAll(e.j, "/hl"); err != nil || got != sentinelData {
					t.Errorf("read through hard link = %q, %v (documented: readable)", got, err)
				}
				if err := upload(e.j, "/hl", 0, false, "overwritten"); err != nil {
					return err
				}
				return e.j.RemoveFile("/hl")
			},
		},
		{
			name:  "chtimes on hard link to outside file",
			setup: hardLink,
			op:    func(t *testing.T, e *env) error { return e.j.Chtimes("/hl", time.Now()) },
			want:  fs.ErrPermission,
		},
		{
			name:  "append to hard link to outside file",
			setup: hardLink,
			op: func(t *testing.T, e *env) error {
				if err := upload(e.j, "/hl", 0, true, "more"); err != nil {
					return err
				}
				if got := e.read(t, "hl"); got != sentinelData+"more" {
					t.Errorf("hl = %q", got)
				}
				return nil
			},
		},
		{
			name:  "resume over hard link to outside file",
			setup: hardLink,
			op: func(t *testing.T, e *env) error {
				return upload(e.j, "/hl", 3, false, "XX")
			},
		},

		// Special files.
		{
			name:  "FIFO cannot be opened",
			setup: fifo,
			op:    func(t *testing.T, e *env) error { _, err := e.j.OpenFile("/fifo"); return err },
			want:  ErrNotRegular,
		},
		{
			name:  "FIFO cannot be listed",
			setup: fifo,
			op:    func(t *testing.T, e *env) error { _, err := e.j.ReadDir("/fifo"); return err },
			want:  syscall.ENOTDIR,
		},
		{
			name:  "FIFO cannot be appended to",
			setup: fifo,
			op:    func(t *testing.T, e *env) error { return upload(e.j, "/fifo", 0, true, "x") },
			want:  ErrNotRegular,
		},
		{
			name:  "FIFO cannot be overwritten",
			setup: fifo,
			op:    func(t *testing.T, e *env) error { return upload(e.j, "/fifo", 0, false, "x") },
			want:  ErrNotRegular,
		},
		{
			name: "link to FIFO cannot be opened",
			setup: func(t *testing.T, e *env) {
				fifo(t, e)
				e.symlink(t, "fifo", "lf")
			},
			op:   func(t *testing.T, e *env) error { _, err := e.j.OpenFile("/lf"); return err },
			want: ErrNotRegular,
		},
		{
			name: "device cannot be opened",
			setup: func(t *testing.T, e *env) {
				// The same device numbers as /dev/null.
				if err := syscall.Mknod(filepath.Join(e.home, "null"), syscall.S_IFCHR|0o666, 1<<8|3); err != nil {
					t.Skipf("mknod not permitted: %v", err)
				}
			},
			op: func(t *testing.T, e *env) error {
				if _, err := e.j.Stat("/null"); err != nil {
					t.Error(err)
				}
				_, err := e.j.OpenFile("/null")
				return err
			},
			want: ErrNotRegular,
		},
		{
			name:  "directory cannot be opened as a file",
			setup: func(t *testing.T, e *env) { e.mkdir(t, "d") },
			op:    func(t *testing.T, e *env) error { _, err := e.j.OpenFile("/d"); return err },
			want:  ErrNotRegular,
		},

		// Sizes.
		{
			name: "name longer than 255 bytes",
			op: func(t *testing.T, e *env) error {
				long := "/" + strings.Repeat("n", 256)
				if err := upload(e.j, long, 0, false, "x"); err == nil {
					t.Error("upload with a long name succeeded")
				}
				return e.j.Mkdir(long)
			},
			want: syscall.ENAMETOOLONG,
		},
		{
			name: "path longer than PATH_MAX",
			op: func(t *testing.T, e *env) error {
				_, err := e.j.Stat(strings.Repeat("/abc", 2000))
				return err
			},
			want: errAny,
		},
		{
			name: "deep nesting, then climbing out",
			op: func(t *testing.T, e *env) error {
				p := "/"
				for range 100 {
					next, err := Resolve(p, "d")
					if err != nil {
						return err
					}
					if err := e.j.Mkdir(next); err != nil {
						return err
					}
					p = next
				}
				if err := upload(e.j, p+"/f", 0, false, "deep"); err != nil {
					return err
				}
				up, err := Resolve(p, strings.Repeat("../", 150)+"outside/sentinel")
				if err != nil {
					return err
				}
				_, err = e.j.OpenFile(up)
				return err
			},
			want: fs.ErrNotExist,
		},

		// The home itself.
		{
			name: "home cannot be removed or renamed",
			op: func(t *testing.T, e *env) error {
				for _, err := range []error{
					e.j.RemoveDir("/"), e.j.RemoveFile("/.."), e.j.Rename("/", "/x"), e.j.Rename("/x", "/"),
				} {
					if !errors.Is(err, ErrIsRoot) {
						t.Errorf("got %v, want ErrIsRoot", err)
					}
				}
				return e.j.RemoveDir("/../..")
			},
			want: ErrIsRoot,
		},

		// Races: the file system changes under a running transfer.
		{
			name:  "directory swapped for a link to outside during an upload",
			setup: func(t *testing.T, e *env) { e.mkdir(t, "d") },
			op: func(t *testing.T, e *env) error {
				u, err := e.j.CreateUpload("/d/sentinel", 0, false)
				if err != nil {
					return err
				}
				u.File().WriteString("overwritten?")
				swapForLink(t, e, "d")
				// Committed into the directory it was opened in (now d.old),
				// or refused: either way, never through the link.
				u.Commit()
				return nil
			},
		},
		{
			name: "directory swapped for a link to outside during a download",
			setup: func(t *testing.T, e *env) {
				e.mkdir(t, "d")
				e.write(t, "d/f", "mine")
			},
			op: func(t *testing.T, e *env) error {
				f, err := e.j.OpenFile("/d/f")
				if err != nil {
					return err
				}
				defer f.Close()
				swapForLink(t, e, "d")
				if b, _ := io.ReadAll(f); string(b) != "mine" {
					t.Errorf("the open file read %q", b)
				}
				_, err = readAll(e.j, "/d/sentinel")
				return err
			},
			want: ErrOutside,
		},

		// Unicode look-alikes of '/' and '.' are names, not separators.
		{
			name: "fullwidth solidus and dots climb nowhere",
			op: func(t *testing.T, e *env) error {
				_, err := readAll(e.j, "\uff0e\uff0e\uff0f\uff0e\uff0e\uff0foutside\uff0fsentinel")
				return err
			},
			want: fs.ErrNotExist,
		},
		{
			name: "division slash and one-dot leaders upload inside",
			op: func(t *testing.T, e *env) error {
				name := "/\u2024\u2024\u2215\u2024\u2024\u2215outside"
				if err := upload(e.j, name, 0, false, "x"); err != nil {
					return err
				}
				if got, err := readAll(e.j, name); err != nil || got != "x" {
					t.Errorf("read back %q, %v", got, err)
				}
				return nil
			},
		},
	}
	for _, tt := range tests {
		for _, walk := range []bool{false, true} {
			name := tt.name
			if walk {
				name += " (os.Root walk)"
			}
			t.Run(name, func(t *testing.T) {
				e := newEnv(t)
				e.j.walk = walk
				runEscape(t, e, tt.setup, tt.op, tt.want)
			})
		}
	}
}

// runEscape runs one case of TestEscape: op must end as want says, hang
// nowhere, leak no real path and change nothing outside the home.
func runEscape(t *testing.T, e *env, setup func(*testing.T, *env), op func(*testing.T, *env) error, want error) {
	t.Helper()
	if setup != nil {
		setup(t, e)
	}
	before := e.snapshot(t)
	tempBefore := hasTemp(e.homeNames(t, ""))
	done := make(chan error, 1)
	go func() { done <- op(t, e) }()
	var err error
	select {
	case err = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("operation hung")
	}
	switch {
	case want == nil && err != nil:
		t.Errorf("got error %v, want success", err)
	case want == errAny && err == nil:
		t.Error("succeeded, want an error")
	case want != nil && want != errAny && !errors.Is(err, want):
		t.Errorf("got error %v, want %v", err, want)
	}
	e.checkNoLeak(t, err)
	e.checkOutside(t, before)
	if !tempBefore && hasTemp(e.homeNames(t, "")) {
		t.Errorf("temporary file left in the home: %v", e.homeNames(t, ""))
	}
}

// swapForLink moves the home's directory rel aside (to rel.old) and puts a
// symbolic link to the outside directory in its place.
func swapForLink(t *testing.T, e *env, rel string) {
	t.Helper()
	p := filepath.Join(e.home, rel)
	if err := os.Rename(p, p+".old"); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(e.outside, p); err != nil {
		t.Fatal(err)
	}
}

func hardLink(t *testing.T, e *env) {
	if err := os.Link(e.sentinel, filepath.Join(e.home, "hl")); err != nil {
		t.Skipf("cannot hard link: %v", err)
	}
}

func fifo(t *testing.T, e *env) {
	if err := syscall.Mkfifo(filepath.Join(e.home, "fifo"), 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
}
