//go:build unix

package firewall

import (
	"os"
	"syscall"
)

// lockFile takes an exclusive advisory lock on f, released when f closes.
func lockFile(f *os.File) error { return syscall.Flock(int(f.Fd()), syscall.LOCK_EX) }

// terminate asks pid to exit.
func terminate(pid int) { _ = syscall.Kill(pid, syscall.SIGTERM) }

// DetachedProcAttr starts a process in a session of its own, so it outlives
// the terminal (and the SSH connection) of the command that started it:
// the confirmation watchdog must.
func DetachedProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setsid: true} }
