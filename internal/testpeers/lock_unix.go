//go:build unix

package testpeers

import (
	"errors"
	"os"
	"syscall"
)

// errLocked is returned by lockFile when wait is false and another holder
// has the lock.
var errLocked = errors.New("locked")

// lockFile takes an exclusive flock on path, creating it, and returns the
// function that releases it. The lock belongs to the open file, so it works
// between goroutines of one process as well as between processes, and the
// kernel drops it if the process dies.
func lockFile(path string, wait bool) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	how := syscall.LOCK_EX
	if !wait {
		how |= syscall.LOCK_NB
	}
	for {
		err = syscall.Flock(int(f.Fd()), how)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, errLocked
		}
		return nil, err
	}
	return func() { f.Close() }, nil
}
