package jail

import (
	"io/fs"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// beneath has the kernel resolve names inside the home: openat2 with
// RESOLVE_BENEATH refuses any "..", symbolic link or absolute link that
// would leave the directory, the rule os.Root enforces by walking the path
// one component at a time in user space. A download opens its file in
// seven system calls this way instead of thirteen (measured with strace),
// which matters when a client mirrors thousands of small files.
const beneath = unix.RESOLVE_BENEATH | unix.RESOLVE_NO_MAGICLINKS

// openat2Tries bounds the retries when the kernel reports that a rename
// raced with the resolution of "..": past it the os.Root walk decides.
const openat2Tries = 3

// openRegularBeneath is openRegular in the kernel's resolution. ok is false
// when the kernel cannot do it (no openat2 before Linux 5.6, or a seccomp
// filter that refuses it), and the caller walks the path with os.Root.
func (j *Jail) openRegularBeneath(rel, name string) (f *os.File, ok bool, err error) {
	var nfd int
	err = withFD(j.dir, func(dir int) error {
		// O_PATH first: looking has no side effects, opening a device can
		// (see openRegular).
		pfd, err := openat2(dir, rel, unix.O_PATH|unix.O_CLOEXEC)
		if err != nil {
			return err
		}
		var st unix.Stat_t
		err = unix.Fstat(pfd, &st)
		unix.Close(pfd)
		if err != nil {
			return err
		}
		if st.Mode&unix.S_IFMT != unix.S_IFREG {
			return ErrNotRegular
		}
		// O_NONBLOCK: a FIFO swapped in since must not hang the session.
		fd, err := openat2(dir, rel, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_NOCTTY|unix.O_CLOEXEC)
		if err != nil {
			return err
		}
		err = unix.Fstat(fd, &st)
		if err == nil && st.Mode&unix.S_IFMT != unix.S_IFREG {
			err = ErrNotRegular
		}
		if err == nil {
			// Blocking again, so that sendfile and copy_file_range see an
			// ordinary file.
			_, err = unix.FcntlInt(uintptr(fd), unix.F_SETFL, 0)
		}
		if err != nil {
			unix.Close(fd)
			return err
		}
		nfd = fd
		return nil
	})
	if ok, err := settled(err); !ok || err != nil {
		return nil, ok, err
	}
	return os.NewFile(uintptr(nfd), name), true, nil
}

// chtimesBeneath is Chtimes in the kernel's resolution. The hard-link check
// and the change act on one open file, so no rename in between can point
// the change elsewhere.
func (j *Jail) chtimesBeneath(rel string, mtime time.Time) (ok bool, err error) {
	return settled(withFD(j.dir, func(dir int) error {
		pfd, err := openat2(dir, rel, unix.O_PATH|unix.O_CLOEXEC)
		if err != nil {
			return err
		}
		defer unix.Close(pfd)
		var st unix.Stat_t
		if err := unix.Fstat(pfd, &st); err != nil {
			return err
		}
		if st.Mode&unix.S_IFMT == unix.S_IFREG && st.Nlink > 1 {
			return fs.ErrPermission // see Chtimes
		}
		ts := []unix.Timespec{{Nsec: unix.UTIME_OMIT}, {Sec: mtime.Unix(), Nsec: int64(mtime.Nanosecond())}}
		return unix.UtimesNanoAt(pfd, "", ts, unix.AT_EMPTY_PATH)
	}))
}

// settled sorts the outcome of an operation resolved by the kernel: ok is
// false when the kernel could not do it and the os.Root walk must (openat2
// or a flag unknown to this kernel, a seccomp filter that refuses it, a
// resolution disturbed too often), else err is the operation's result.
func settled(err error) (ok bool, _ error) {
	switch err {
	case unix.ENOSYS, unix.EPERM, unix.EINVAL, unix.E2BIG, unix.EAGAIN:
		return false, nil
	case unix.EXDEV:
		return true, ErrOutside
	}
	return true, err
}

// openat2 opens rel beneath dir with flags, retrying a resolution that a
// concurrent rename disturbed.
func openat2(dir int, rel string, flags int) (int, error) {
	how := unix.OpenHow{Flags: uint64(flags), Resolve: beneath}
	for range openat2Tries - 1 {
		fd, err := unix.Openat2(dir, rel, &how)
		if err != unix.EAGAIN && err != unix.EINTR {
			return fd, err
		}
	}
	return unix.Openat2(dir, rel, &how)
}
