package jail

import (
	"crypto/rand"
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// An Upload is a file being received. Its data goes to a hidden temporary
// file, ".port21-upload-<random>" with mode 0600, in the destination's
// directory; only Commit gives it its final name, by an atomic rename. An
// upload that is cut off, aborted, or ends without a TLS close_notify is
// removed by Abort: it never appears under its final name, and a file it
// was meant to replace is left whole.
//
// Because the final name is replaced rather than written through, an upload
// over a symbolic link replaces the link (its target is untouched), and an
// upload over a hard link to a file elsewhere leaves that file alone.
//
// The caller must end every Upload with Commit or Abort, or the temporary
// file stays behind, hidden, until [CleanStaleUploads] runs at the next
// start. Calling Abort after Commit, or either twice, is
// harmless, and both may be called from a goroutine other than the writer's.
type Upload struct {
	vpath string   // final virtual path, for errors
	dir   *os.File // the destination directory; names below are relative to it
	temp  string   // base name of the temporary file
	name  string   // base name of the final file

	// For CreateUnique: the empty placeholder that reserves name.
	reserved       bool
	resDev, resIno uint64

	f *os.File // the temporary file; set once, before the Upload is returned

	// For a resume (APPE, REST+STOR): the old file and how much of it the
	// temporary file must start with. The copy is made only when the first
	// byte of new data arrives, or at Commit, so an upload that sends
	// nothing costs no disk space. src is nil once copied or released.
	copyMu  sync.Mutex // guards src and copyErr; taken after mu
	src     *os.File
	keep    int64
	copyErr error

	mu      sync.Mutex
	fClosed bool
	state   uploadState
}

type uploadState int

const (
	uploadOpen uploadState = iota
	uploadCommitted
	uploadAborted
)

// Path returns the virtual path the upload will have once committed.
func (u *Upload) Path() string { return u.vpath }

// File returns the temporary file, positioned where the client's data
// starts. The caller copies the data into it but must not close it: Commit
// and Abort do. Its Name is the final virtual path.
//
// File makes the resume copy at once (a failure shows at Commit); writing
// through the Upload itself defers it until data arrives.
func (u *Upload) File() *os.File {
	u.materialize()
	return u.f
}

// Write writes p to the upload, first copying the part of the old file
// being resumed. It must not be called concurrently with itself or ReadFrom.
func (u *Upload) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if err := u.materialize(); err != nil {
		return 0, err
	}
	return u.f.Write(p)
}

// ReadFrom copies r into the upload until EOF. The resume copy is made only
// once r has produced a byte; the rest goes through (*os.File).ReadFrom, so
// the kernel can splice from a socket.
func (u *Upload) ReadFrom(r io.Reader) (int64, error) {
	u.copyMu.Lock()
	copied := u.src == nil && u.copyErr == nil
	u.copyMu.Unlock()
	if copied {
		return u.f.ReadFrom(r)
	}
	var buf [32 << 10]byte
	var n int
	var err error
	for n == 0 && err == nil {
		n, err = r.Read(buf[:])
	}
	if n > 0 {
		if _, werr := u.Write(buf[:n]); werr != nil {
			return 0, werr
		}
	}
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = nil
		}
		return int64(n), err
	}
	m, err := u.f.ReadFrom(r)
	return int64(n) + m, err
}

// materialize makes the pending resume copy, once, and returns its error.
func (u *Upload) materialize() error {
	u.copyMu.Lock()
	defer u.copyMu.Unlock()
	if u.src == nil {
		return u.copyErr
	}
	src := u.src
	u.src = nil
	defer src.Close()
	// *os.File.ReadFrom sees through the LimitedReader and uses
	// copy_file_range, so the kernel copies (or reflinks) the data.
	n, err := io.Copy(u.f, io.LimitReader(src, u.keep))
	if err == nil && n != u.keep {
		err = io.ErrUnexpectedEOF // the file shrank since the upload began
	}
	u.copyErr = err
	return err
}

// Commit closes the temporary file, sets its mode to 0640 and renames it to
// its final name, replacing a regular file there. It does not fsync: the
// rename is atomic either way, and fsync per upload is slow.
//
// If Commit fails the upload is aborted. Committing twice is a no-op;
// committing an aborted upload fails with fs.ErrClosed.
func (u *Upload) Commit() error {
	u.mu.Lock()
	defer u.mu.Unlock()
	switch u.state {
	case uploadCommitted:
		return nil
	case uploadAborted:
		return fail("commit", u.vpath, fs.ErrClosed)
	}
	if err := u.commit(); err != nil {
		u.abort()
		u.state = uploadAborted
		return fail("commit", u.vpath, err)
	}
	u.state = uploadCommitted
	u.dir.Close()
	return nil
}

func (u *Upload) commit() error {
	// An upload that sent nothing still stands for the resumed prefix.
	if err := u.materialize(); err != nil {
		return err
	}
	// fchmod is not subject to the umask, so the mode is exactly filePerm.
	if err := u.f.Chmod(filePerm); err != nil {
		return err
	}
	err := u.f.Close()
	u.fClosed = true
	if err != nil {
		return err
	}
	return withFD(u.dir, func(fd int) error {
		var st unix.Stat_t
		err := unix.Fstatat(fd, u.name, &st, unix.AT_SYMLINK_NOFOLLOW)
		switch {
		case err == unix.ENOENT && u.reserved:
			// Our reservation was removed: take the name only if it is
			// still free.
			return renameNoReplace(fd, u.temp, u.name)
		case err == unix.ENOENT:
			return unix.Renameat(fd, u.temp, fd, u.name)
		case err != nil:
			return err
		case u.reserved && (uint64(st.Dev) != u.resDev || uint64(st.Ino) != u.resIno):
			// Someone replaced our placeholder: their file wins.
			return fs.ErrExist
		}
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFREG, unix.S_IFLNK:
		default:
			return ErrNotRegular
		}
		return unix.Renameat(fd, u.temp, fd, u.name)
	})
}

// Abort discards the upload: it closes and removes the temporary file (and,
// for CreateUnique, the placeholder reserving the name). After Commit it
// does nothing.
func (u *Upload) Abort() error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.state != uploadOpen {
		return nil
	}
	u.state = uploadAborted
	if err := u.abort(); err != nil {
		return fail("abort", u.vpath, err)
	}
	return nil
}

// abort releases everything the upload holds and returns the first error.
func (u *Upload) abort() error {
	var first error
	u.copyMu.Lock()
	if u.src != nil {
		u.src.Close()
		u.src = nil
	}
	u.copyMu.Unlock()
	if u.f != nil && !u.fClosed {
		if err := u.f.Close(); err != nil && !errors.Is(err, os.ErrClosed) {
			first = err
		}
		u.fClosed = true
	}
	err := withFD(u.dir, func(fd int) error {
		if u.temp != "" {
			if err := unix.Unlinkat(fd, u.temp, 0); err != nil && err != unix.ENOENT {
				return err
			}
		}
		if !u.reserved || u.name == "" {
			return nil
		}
		var st unix.Stat_t
		if unix.Fstatat(fd, u.name, &st, unix.AT_SYMLINK_NOFOLLOW) == nil &&
			uint64(st.Dev) == u.resDev && uint64(st.Ino) == u.resIno {
			return unix.Unlinkat(fd, u.name, 0)
		}
		return nil
	})
	if first == nil {
		first = err
	}
	u.dir.Close()
	return first
}

// CreateUpload starts an upload to vpath (STOR, or APPE when appendMode).
//
// With offset > 0 (REST then STOR) or appendMode, and an existing regular
// file at vpath, the temporary file starts as a copy of that file's first
// offset bytes (with appendMode, all of it), made with copy_file_range where
// the file system allows (a reflink on XFS or Btrfs). The copy is lazy: it
// is made when the first byte is written through the Upload (or File is
// called, or at Commit), so sessions that open resumed uploads and send
// nothing cannot fill the disk with copies. The old file is opened now, so
// the copy is of the file that was there when the upload began. An offset
// beyond the existing file's size, or any offset > 0 with no file to
// resume, fails with ErrBadOffset. If vpath exists and is not a regular file (following links
// inside the jail), CreateUpload fails with ErrNotRegular.
func (j *Jail) CreateUpload(vpath string, offset int64, appendMode bool) (*Upload, error) {
	const op = "create"
	clean, rel, err := j.locate(op, vpath, true)
	if err != nil {
		return nil, err
	}
	if rel == "." {
		return nil, fail(op, clean, ErrNotRegular)
	}
	if offset < 0 {
		return nil, fail(op, clean, ErrBadOffset)
	}
	dir, base := path.Split(rel)
	d, err := j.openDir(dirOrDot(dir))
	if err != nil {
		return nil, fail(op, clean, err)
	}
	u := &Upload{vpath: clean, dir: d, name: base}
	if err := j.startUpload(u, rel, offset, appendMode); err != nil {
		u.abort()
		return nil, fail(op, clean, err)
	}
	return u, nil
}

// startUpload checks what u would replace, opens the old file if the upload
// resumes it, and creates u's temporary file, empty.
func (j *Jail) startUpload(u *Upload, rel string, offset int64, appendMode bool) error {
	exists := true
	var st unix.Stat_t
	err := withFD(u.dir, func(fd int) error {
		return unix.Fstatat(fd, u.name, &st, unix.AT_SYMLINK_NOFOLLOW)
	})
	switch {
	case err == unix.ENOENT:
		exists = false
	case err != nil:
		return err
	case st.Mode&unix.S_IFMT == unix.S_IFLNK:
		// Judge a link by its target; one that dangles is simply replaced.
		fi, err := j.root.Stat(rel)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			exists = false
		case err != nil:
			return err
		case !fi.Mode().IsRegular():
			return ErrNotRegular
		}
	case st.Mode&unix.S_IFMT != unix.S_IFREG:
		return ErrNotRegular
	}

	var src *os.File
	var keep int64
	switch {
	case exists && (appendMode || offset > 0):
		src, err = j.openRegular(rel, u.vpath)
		if err != nil {
			return err
		}
		fi, err := src.Stat()
		if err != nil {
			src.Close()
			return err
		}
		keep = offset
		if appendMode {
			keep = fi.Size()
		} else if offset > fi.Size() {
			src.Close()
			return ErrBadOffset
		}
	case offset > 0 && !appendMode:
		return ErrBadOffset
	}

	u.src, u.keep = src, keep // before createTemp, so that abort closes it
	return u.createTemp()
}

// createTemp creates u's temporary file with a fresh random name.
func (u *Upload) createTemp() error {
	for range 10 {
		name := tempPrefix + rand.Text()
		var nfd int
		err := withFD(u.dir, func(fd int) error {
			var err error
			nfd, err = unix.Openat(fd, name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
			return err
		})
		if err == unix.EEXIST {
			continue
		}
		if err != nil {
			return err
		}
		u.temp = name
		u.f = os.NewFile(uintptr(nfd), u.vpath)
		return nil
	}
	return fs.ErrExist
}

// CreateUnique starts an upload to a new file in the directory dirVpath
// (STOU) and returns it with the virtual path it will have. The name is hint
// if that is free, else hint.1, hint.2, ... and finally hint.<random>.
// An empty hint means "file". hint must be a single name: one containing
// '/' or a control character, or "." or "..", fails with ErrBadName.
//
// The chosen name is reserved at once by an empty file, created exclusively,
// so concurrent CreateUnique calls never pick the same name and Commit
// never replaces a file it did not reserve. Abort removes the reservation.
func (j *Jail) CreateUnique(dirVpath, hint string) (u *Upload, finalVpath string, err error) {
	const op = "create"
	if hint == "" {
		hint = "file"
	}
	if hint == "." || hint == ".." || strings.Contains(hint, "/") || hasBadByte(hint) {
		return nil, "", ErrBadName
	}
	cleanDir, relDir, err := j.locate(op, dirVpath, true)
	if err != nil {
		return nil, "", err
	}
	if strings.HasPrefix(hint, tempPrefix) {
		return nil, "", fail(op, path.Join(cleanDir, hint), fs.ErrPermission)
	}
	d, err := j.openDir(relDir)
	if err != nil {
		return nil, "", fail(op, cleanDir, err)
	}
	u = &Upload{dir: d, reserved: true}
	if err := u.reserve(hint); err != nil {
		u.abort()
		return nil, "", fail(op, path.Join(cleanDir, hint), err)
	}
	u.vpath = path.Join(cleanDir, u.name)
	if err := u.createTemp(); err != nil {
		u.abort()
		return nil, "", fail(op, u.vpath, err)
	}
	// The temporary file records the reservation, so that after a crash
	// CleanStaleUploads removes the empty file too: it would otherwise
	// stand under the final name like a truncated upload. Best effort: a
	// file system without user extended attributes keeps it, as before.
	_ = setReservation(u.f, formatReservation(u.resDev, u.resIno, u.name))
	return u, u.vpath, nil
}

// formatReservation and parseReservation read and write the value of a
// temporary file's reservation: the device and inode of the empty file
// that reserves the final name, and that name.
func formatReservation(dev, ino uint64, name string) []byte {
	return []byte(strconv.FormatUint(dev, 10) + " " + strconv.FormatUint(ino, 10) + " " + name)
}

func parseReservation(v []byte) (dev, ino uint64, name string, ok bool) {
	f := strings.SplitN(string(v), " ", 3)
	if len(f) != 3 {
		return 0, 0, "", false
	}
	dev, err1 := strconv.ParseUint(f[0], 10, 64)
	ino, err2 := strconv.ParseUint(f[1], 10, 64)
	name = f[2]
	if err1 != nil || err2 != nil || name == "" || name == "." || name == ".." || strings.Contains(name, "/") {
		return 0, 0, "", false
	}
	return dev, ino, name, true
}

// reserve claims the first free name derived from hint by creating it,
// empty and exclusively, and records its identity.
func (u *Upload) reserve(hint string) error {
	const numbered = 100
	for i := range numbered + 10 {
		name := hint
		switch {
		case i >= numbered:
			name = hint + "." + strings.ToLower(rand.Text()[:8])
		case i > 0:
			name = hint + "." + strconv.Itoa(i)
		}
		var st unix.Stat_t
		err := withFD(u.dir, func(fd int) error {
			nfd, err := unix.Openat(fd, name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, filePerm)
			if err != nil {
				return err
			}
			defer unix.Close(nfd)
			if err := unix.Fstat(nfd, &st); err != nil {
				unix.Unlinkat(fd, name, 0)
				return err
			}
			return nil
		})
		if err == unix.EEXIST {
			continue
		}
		if err != nil {
			return err
		}
		u.name = name
		u.resDev, u.resIno = uint64(st.Dev), uint64(st.Ino)
		return nil
	}
	return fs.ErrExist
}

// linkUnlink is an exclusive rename by link and unlink: the link fails with
// EEXIST if new exists.
func linkUnlink(fd int, old, new string) error {
	if err := unix.Linkat(fd, old, fd, new, 0); err != nil {
		return err
	}
	return unix.Unlinkat(fd, old, 0)
}
