package users

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// fileEvents is the Linux source of changeWatch's version: an inotify
// watch on the database's directory, counting writes to the database and
// its -wal file. A commit in WAL mode write()s its frames to the -wal file
// before it updates the shared index that makes it visible to readers, and
// the kernel queues the event inside that write(), so once any connection
// can see a commit, its event is already queued. Reading the queue is one
// system call, where SQLite's data_version is a query with file locks and
// an fstat.
type fileEvents struct {
	mu     sync.Mutex
	fd     int
	names  [][]byte // the database's base names (link, file); its -wal, -shm, -journal match too
	gen    int64
	broken error // the watch ended (directory removed, unmounted): no version
	buf    [8 << 10]byte
}

func newFileEvents(path string) (*fileEvents, error) {
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("inotify: %w", err)
	}
	// Writes, truncations, and files created, replaced, moved or removed:
	// a restore that renames a copy over the database counts as a change.
	const mask = unix.IN_MODIFY | unix.IN_CREATE | unix.IN_DELETE | unix.IN_MOVED_TO | unix.IN_MOVED_FROM |
		unix.IN_CLOSE_WRITE | unix.IN_ATTRIB | unix.IN_DELETE_SELF | unix.IN_MOVE_SELF | unix.IN_ONLYDIR
	// SQLite follows a symbolic link to the database and keeps its -wal
	// beside the file it reaches, so that directory is watched; the
	// link's own too, where a new link would be put.
	paths := []string{path}
	if real, err := filepath.EvalSymlinks(path); err == nil && real != path {
		paths = append(paths, real)
	}
	e := &fileEvents{fd: fd}
	for _, p := range paths {
		if _, err := unix.InotifyAddWatch(fd, filepath.Dir(p), mask); err != nil {
			unix.Close(fd)
			return nil, fmt.Errorf("inotify watch %s: %w", filepath.Dir(p), err)
		}
		e.names = append(e.names, []byte(filepath.Base(p)))
	}
	return e, nil
}

// version returns a number that changes whenever the database's files have
// been written since the last call.
func (e *fileEvents) version() (int64, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.broken != nil {
		return 0, e.broken
	}
	for {
		n, err := unix.Read(e.fd, e.buf[:])
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if errors.Is(err, unix.EAGAIN) || n == 0 {
			return e.gen, nil
		}
		if err != nil {
			e.broken = fmt.Errorf("inotify: %w", err)
			return 0, e.broken
		}
		changed, gone := e.parse(e.buf[:n])
		if gone {
			e.broken = errors.New("inotify: the database's directory is no longer watched")
			return 0, e.broken
		}
		if changed {
			e.gen++
		}
	}
}

// parse reports whether the events in b touch the database, and whether the
// watch itself has ended.
func (e *fileEvents) parse(b []byte) (changed, gone bool) {
	for len(b) >= unix.SizeofInotifyEvent {
		ev := (*unix.InotifyEvent)(unsafe.Pointer(&b[0]))
		end := unix.SizeofInotifyEvent + int(ev.Len)
		if end > len(b) {
			return true, false // cannot happen; count it as a change
		}
		name := b[unix.SizeofInotifyEvent:end] // NUL-padded
		b = b[end:]
		switch {
		case ev.Mask&(unix.IN_IGNORED|unix.IN_DELETE_SELF|unix.IN_MOVE_SELF|unix.IN_UNMOUNT) != 0:
			return true, true
		case ev.Mask&unix.IN_Q_OVERFLOW != 0:
			changed = true // events were lost
		case slices.ContainsFunc(e.names, func(n []byte) bool { return bytes.HasPrefix(name, n) }):
			changed = true
		}
	}
	return changed, false
}

func (e *fileEvents) close() { unix.Close(e.fd) }
