// Package jail confines one user's file operations to their home directory.
//
// The client sees its home as "/". Every method takes a virtual path: an
// absolute, slash-separated path as produced by [Resolve]. Paths are walked
// with [os.Root] (or, to open a file or set its time on Linux, resolved by
// the kernel with openat2's RESOLVE_BENEATH, the same rule in one system
// call), so no combination of "..", symbolic links or renames can reach a
// file outside the home, and errors name only the virtual path, never the
// real location of the home on the host.
//
// Two things os.Root does not stop, and so neither does this package: a hard
// link that already exists inside the home to a file outside it (the
// administrator owns the home; only they can make one), and bind mounts.
// Uploads never write through an existing name (see [Upload]) and
// [Jail.Chtimes] refuses files with several links, so the worst a
// pre-existing hard link allows is reading the linked file.
//
// Reads and writes are restricted to regular files: devices, FIFOs and
// sockets are listed but cannot be opened, so a FIFO in a home can never
// hang a session.
package jail

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Errors returned by Jail methods, usually inside an *fs.PathError that
// carries the virtual path. Test for them with errors.Is.
var (
	// ErrBadName reports a name containing a control character (see
	// [Resolve]), or an empty name where one is needed. It is returned bare, without the offending path,
	// so the name can never be echoed back to the client.
	ErrBadName = errors.New("jail: invalid file name")

	// ErrNotRegular reports a device, FIFO, socket or directory where a
	// regular file is needed.
	ErrNotRegular = errors.New("jail: not a regular file")

	// ErrIsRoot reports an attempt to remove or rename the home directory
	// itself, which would leave the session without a file system.
	ErrIsRoot = errors.New("jail: cannot change the home directory itself")

	// ErrBadOffset reports a restart offset beyond the end of the existing
	// file: resuming there would leave a hole of zero bytes.
	ErrBadOffset = errors.New("jail: restart offset beyond end of file")

	// ErrOutside reports a path that, through a symbolic link, leads outside
	// the home directory (or a link that is absolute, which os.Root never
	// follows). It matches fs.ErrPermission under errors.Is, so callers that
	// only distinguish "not found" from "denied" need not know about it.
	ErrOutside error = outsideError{}
)

type outsideError struct{}

func (outsideError) Error() string { return "jail: path leads outside the home directory" }

// Is makes ErrOutside match fs.ErrPermission.
func (outsideError) Is(target error) bool { return target == fs.ErrPermission }

// tempPrefix starts the names of uploads in progress. Such names are hidden
// from listings and refused by every method, so a client can neither see,
// download, nor tamper with a half-written upload.
const tempPrefix = ".port21-upload-"

// Permissions of what the jail creates. Group may read, others get nothing:
// homes of different users often share a group-less parent.
const (
	filePerm = 0o640
	dirPerm  = 0o750
)

// A Jail is one user's view of their home directory. Its methods are safe
// for concurrent use, although a Jail is meant to serve one session.
type Jail struct {
	root     *os.Root
	dir      *os.File // the home itself, for the kernel's resolution (beneath_linux.go)
	walk     bool     // walk with os.Root even where the kernel could resolve (tests)
	readOnly atomic.Bool
}

// Open opens the jail rooted at home, which must already exist and be a
// directory; creating it is the caller's job.
//
// The returned error does not contain home: the caller knows it and decides
// whether it may be shown.
func Open(home string) (*Jail, error) {
	// Look first: os.OpenRoot would block forever opening a FIFO.
	fi, err := os.Stat(home)
	if err != nil {
		return nil, fmt.Errorf("jail: open home directory: %w", cause(err))
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("jail: open home directory: %w", syscall.ENOTDIR)
	}
	root, err := os.OpenRoot(home)
	if err != nil {
		return nil, fmt.Errorf("jail: open home directory: %w", cause(err))
	}
	j := &Jail{root: root}
	if j.dir, err = j.openDir("."); err != nil {
		root.Close()
		return nil, fmt.Errorf("jail: open home directory: %w", cause(err))
	}
	return j, nil
}

// Close releases the jail's handle on the home directory. Files and uploads
// already open stay usable.
func (j *Jail) Close() error {
	err := j.root.Close()
	if derr := j.dir.Close(); err == nil {
		err = derr
	}
	if err != nil {
		return fmt.Errorf("jail: close: %w", cause(err))
	}
	return nil
}

// SetReadOnly turns the jail read-only (or back): every method that would
// change the file system then fails with fs.ErrPermission.
func (j *Jail) SetReadOnly(readOnly bool) { j.readOnly.Store(readOnly) }

// ReadOnly reports whether the jail is read-only.
func (j *Jail) ReadOnly() bool { return j.readOnly.Load() }

// Stat returns information about the file at vpath, following symbolic
// links that stay inside the jail.
func (j *Jail) Stat(vpath string) (fs.FileInfo, error) {
	clean, rel, err := j.locate("stat", vpath, false)
	if err != nil {
		return nil, err
	}
	fi, err := j.root.Stat(rel)
	if err != nil {
		return nil, fail("stat", clean, err)
	}
	return fi, nil
}

// Lstat returns information about the file at vpath without following a
// final symbolic link.
func (j *Jail) Lstat(vpath string) (fs.FileInfo, error) {
	clean, rel, err := j.locate("lstat", vpath, false)
	if err != nil {
		return nil, err
	}
	fi, err := j.root.Lstat(rel)
	if err != nil {
		return nil, fail("lstat", clean, err)
	}
	return fi, nil
}

// ReadDir lists the directory at vpath, sorted by name, as [Dir.Next]
// describes entries. It holds the whole directory in memory; listings sent
// to clients use [Jail.OpenDir] instead.
func (j *Jail) ReadDir(vpath string) ([]fs.FileInfo, error) {
	d, err := j.OpenDir(vpath)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	var infos []fs.FileInfo
	for {
		batch, err := d.Next(512)
		infos = append(infos, batch...)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	slices.SortFunc(infos, func(a, b fs.FileInfo) int { return strings.Compare(a.Name(), b.Name()) })
	return infos, nil
}

// A Dir reads a directory in batches, so that listing a huge directory
// needs memory for one batch, not for the whole directory. Entries come in
// the order the file system returns them.
type Dir struct {
	j     *Jail
	f     *os.File
	rel   string
	clean string
}

// OpenDir opens the directory at vpath for reading with [Dir.Next]. The
// caller must Close it.
func (j *Jail) OpenDir(vpath string) (*Dir, error) {
	clean, rel, err := j.locate("readdir", vpath, false)
	if err != nil {
		return nil, err
	}
	f, err := j.openDir(rel)
	if err != nil {
		return nil, fail("readdir", clean, err)
	}
	return &Dir{j: j, f: f, rel: rel, clean: clean}, nil
}

// Next returns up to n more entries, and io.EOF once the directory is
// exhausted (possibly together with the last entries). Fewer than n entries
// do not mean the end: hidden names are left out of a batch.
//
// Each entry is lstat'ed relative to the open directory (os.Root does that
// for files it opened), never by a path that could have changed. A symbolic
// link that resolves inside the jail is described by its target, under the
// link's name, as a client following it would see it; one that dangles or
// leads outside is described as the link itself. Uploads in progress are
// hidden, and so are names containing NUL, CR or LF, which could corrupt a
// listing. Names with other control characters are returned: formatters
// must escape them (package ftp shows them as '?').
func (d *Dir) Next(n int) ([]fs.FileInfo, error) {
	entries, err := d.f.ReadDir(max(n, 1))
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fail("readdir", d.clean, err)
	}
	infos := make([]fs.FileInfo, 0, len(entries))
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, tempPrefix) || hasLineBreak(name) {
			continue
		}
		fi, ierr := e.Info()
		if ierr != nil {
			continue // removed since the directory was read
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			if target, serr := d.j.root.Stat(path.Join(d.rel, name)); serr == nil {
				fi = target
			}
		}
		infos = append(infos, fi)
	}
	if errors.Is(err, io.EOF) || len(entries) == 0 {
		return infos, io.EOF
	}
	return infos, nil
}

// Close closes the directory.
func (d *Dir) Close() error {
	if err := d.f.Close(); err != nil {
		return fail("readdir", d.clean, err)
	}
	return nil
}

// OpenFile opens the regular file at vpath for reading; anything else fails
// with ErrNotRegular, without blocking even on a FIFO.
//
// The result is a plain *os.File in blocking mode, so io.Copy into a TCP
// connection can use sendfile. Its Name is the virtual path, so errors from
// reading it do not reveal the home's location either.
func (j *Jail) OpenFile(vpath string) (*os.File, error) {
	clean, rel, err := j.locate("open", vpath, false)
	if err != nil {
		return nil, err
	}
	f, err := j.openRegular(rel, clean)
	if err != nil {
		return nil, fail("open", clean, err)
	}
	return f, nil
}

// Mkdir creates the directory vpath with mode 0750 (less the umask).
func (j *Jail) Mkdir(vpath string) error {
	clean, rel, err := j.locate("mkdir", vpath, true)
	if err != nil {
		return err
	}
	if err := j.root.Mkdir(rel, dirPerm); err != nil {
		return fail("mkdir", clean, err)
	}
	return nil
}

// RemoveFile removes the file at vpath: a regular file, a symbolic link
// (never its target) or a special file, but not a directory, which fails
// with ErrNotRegular.
func (j *Jail) RemoveFile(vpath string) error {
	return j.remove("remove", vpath, 0)
}

// RemoveDir removes the empty directory at vpath. The home itself cannot be
// removed (ErrIsRoot).
func (j *Jail) RemoveDir(vpath string) error {
	return j.remove("rmdir", vpath, unix.AT_REMOVEDIR)
}

// remove unlinks vpath with unlinkat(2) relative to its parent, so that the
// kernel, not a racy check beforehand, decides between file and directory.
func (j *Jail) remove(op, vpath string, flags int) error {
	clean, rel, err := j.locate(op, vpath, true)
	if err != nil {
		return err
	}
	if rel == "." {
		return fail(op, clean, ErrIsRoot)
	}
	dir, base := path.Split(rel)
	d, err := j.openDir(dirOrDot(dir))
	if err != nil {
		return fail(op, clean, err)
	}
	defer d.Close()
	err = withFD(d, func(fd int) error { return unix.Unlinkat(fd, base, flags) })
	if err == unix.EISDIR {
		err = ErrNotRegular
	}
	if err != nil {
		return fail(op, clean, err)
	}
	return nil
}

// Rename renames from to to, as RNFR/RNTO do.
//
// An existing regular file (or link, or special file) at to is replaced,
// atomically; an existing directory at to is not, and the rename fails with
// fs.ErrExist. Neither side may be the home itself (ErrIsRoot). A symbolic
// link is renamed as a link: its target, inside or outside the jail, is not
// touched.
func (j *Jail) Rename(from, to string) error {
	cleanFrom, relFrom, err := j.locate("rename", from, true)
	if err != nil {
		return err
	}
	cleanTo, relTo, err := j.locate("rename", to, true)
	if err != nil {
		return err
	}
	if relFrom == "." || relTo == "." {
		return &os.LinkError{Op: "rename", Old: cleanFrom, New: cleanTo, Err: ErrIsRoot}
	}
	// os.Root.Rename already refuses to replace a directory (EEXIST).
	if err := j.root.Rename(relFrom, relTo); err != nil {
		return &os.LinkError{Op: "rename", Old: cleanFrom, New: cleanTo, Err: cause(err)}
	}
	return nil
}

// Chtimes sets the modification time of vpath, following symbolic links
// inside the jail, and leaves its access time alone. It serves MFMT.
//
// A regular file with several hard links is refused (fs.ErrPermission):
// one of them may be outside the jail, and the time belongs to the file,
// not the name. Uploads always make files with a single link.
func (j *Jail) Chtimes(vpath string, mtime time.Time) error {
	clean, rel, err := j.locate("chtimes", vpath, true)
	if err != nil {
		return err
	}
	if mtime.IsZero() {
		// The zero time means "leave unchanged" to os.Root.Chtimes; a client
		// asking for year 1 gets an explicit refusal instead of a silent no-op.
		return fail("chtimes", clean, syscall.EINVAL)
	}
	if !j.walk {
		if ok, err := j.chtimesBeneath(rel, mtime); ok {
			if err != nil {
				return fail("chtimes", clean, err)
			}
			return nil
		}
	}
	// os.Root passes the time on in nanoseconds since 1970, an int64 that
	// overflows outside 1678-2262 (year 2400 would be stored as 1901).
	if !time.Unix(0, mtime.UnixNano()).Equal(mtime) {
		return fail("chtimes", clean, syscall.EINVAL)
	}
	// A regular file with more than one name may share its inode with a
	// file outside the jail (a hard link only the administrator could have
	// made); setting its time would reach out there.
	fi, err := j.root.Stat(rel)
	if err != nil {
		return fail("chtimes", clean, err)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && fi.Mode().IsRegular() && st.Nlink > 1 {
		return fail("chtimes", clean, fs.ErrPermission)
	}
	if err := j.root.Chtimes(rel, time.Time{}, mtime); err != nil {
		return fail("chtimes", clean, err)
	}
	return nil
}

// Chmod sets the permission bits of vpath to mode, following symbolic
// links inside the jail. It serves SITE CHMOD; which bits a client may
// choose is the caller's policy. Only the permission bits are applied
// (setuid, setgid and sticky are refused with fs.ErrPermission), the home
// itself is refused (ErrIsRoot: a client could lock itself out), and so is
// a regular file with several hard links, as in [Jail.Chtimes]: the mode
// belongs to the file, and another of its names may be outside the jail.
func (j *Jail) Chmod(vpath string, mode fs.FileMode) error {
	clean, rel, err := j.locate("chmod", vpath, true)
	if err != nil {
		return err
	}
	if rel == "." {
		return fail("chmod", clean, ErrIsRoot)
	}
	if mode&^fs.ModePerm != 0 {
		return fail("chmod", clean, fs.ErrPermission)
	}
	fi, err := j.root.Stat(rel)
	if err != nil {
		return fail("chmod", clean, err)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && fi.Mode().IsRegular() && st.Nlink > 1 {
		return fail("chmod", clean, fs.ErrPermission)
	}
	if !fi.Mode().IsRegular() && !fi.IsDir() {
		return fail("chmod", clean, ErrNotRegular)
	}
	if err := j.root.Chmod(rel, mode); err != nil {
		return fail("chmod", clean, err)
	}
	return nil
}

// locate checks vpath and returns its clean virtual form and the name to
// hand to os.Root. write marks methods that change the file system, which a
// read-only jail refuses.
func (j *Jail) locate(op, vpath string, write bool) (clean, rel string, err error) {
	clean, err = Resolve("/", vpath)
	if err != nil {
		return "", "", err
	}
	if write && j.readOnly.Load() {
		return "", "", fail(op, clean, fs.ErrPermission)
	}
	if clean == "/" {
		return clean, ".", nil
	}
	rel = clean[1:]
	for elem := range strings.SplitSeq(rel, "/") {
		if strings.HasPrefix(elem, tempPrefix) {
			return "", "", fail(op, clean, fs.ErrPermission)
		}
	}
	return clean, rel, nil
}

// openDir opens the directory rel. O_NONBLOCK and O_DIRECTORY make sure a
// FIFO in its place fails at once instead of blocking.
func (j *Jail) openDir(rel string) (*os.File, error) {
	return j.root.OpenFile(rel, os.O_RDONLY|syscall.O_DIRECTORY|syscall.O_NONBLOCK, 0)
}

// openRegular opens the regular file rel for reading and returns it named
// name, in blocking mode.
func (j *Jail) openRegular(rel, name string) (*os.File, error) {
	if !j.walk {
		if f, ok, err := j.openRegularBeneath(rel, name); ok {
			return f, err
		}
	}
	// Look before opening: opening a device can have side effects (a tape
	// rewinds, a terminal becomes the controlling one) even if it is closed
	// at once. The fstat below is what settles it.
	fi, err := j.root.Stat(rel)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, ErrNotRegular
	}
	f, err := j.root.OpenFile(rel, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, err
	}
	fi, err = f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = ErrNotRegular
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return rename(f, name)
}

// rename returns a blocking *os.File for the same open file as f, named
// name, and closes f. Files opened through os.Root are named after their
// real path, which would show up in every read or write error.
func rename(f *os.File, name string) (*os.File, error) {
	defer f.Close()
	var nfd int
	err := withFD(f, func(fd int) error {
		var err error
		nfd, err = unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
		if err != nil {
			return err
		}
		// The flag is shared by both descriptors; clear it so reads block
		// normally and sendfile/copy_file_range see an ordinary file.
		if err := unix.SetNonblock(nfd, false); err != nil {
			unix.Close(nfd)
			return err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(nfd), name), nil
}

// withFD runs fn with f's descriptor, keeping f alive and open meanwhile.
func withFD(f *os.File, fn func(fd int) error) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) { ferr = fn(int(fd)) }); err != nil {
		return err
	}
	return ferr
}

// dirOrDot turns the directory part returned by path.Split into a name
// os.Root accepts: "" is the home itself.
func dirOrDot(dir string) string {
	dir = strings.TrimSuffix(dir, "/")
	if dir == "" {
		return "."
	}
	return dir
}

// fail builds the error for op on vpath, keeping only err's root cause so
// that no real path from the os package leaks into the message.
func fail(op, vpath string, err error) error {
	return &fs.PathError{Op: op, Path: vpath, Err: cause(err)}
}

// cause strips the *PathError, *LinkError and *SyscallError wrappers the os
// package puts around an error, which carry real host paths, and returns
// what is left: normally a syscall.Errno, which still matches
// fs.ErrNotExist and friends under errors.Is.
func cause(err error) error {
	for {
		switch e := err.(type) {
		case *fs.PathError:
			err = e.Err
		case *os.LinkError:
			err = e.Err
		case *os.SyscallError:
			err = e.Err
		default:
			// os.Root reports escapes with an unexported error value;
			// its text is all there is to recognise it by.
			if err != nil && err.Error() == "path escapes from parent" {
				return ErrOutside
			}
			return err
		}
	}
}
