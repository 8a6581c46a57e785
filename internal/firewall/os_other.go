//go:build !unix

package firewall

import (
	"os"
	"syscall"
)

// lockFile is a no-op here: apply only works on Linux, and Windows and pf
// rules are plan-only.
func lockFile(*os.File) error { return nil }

func terminate(pid int) {
	if p, err := os.FindProcess(pid); err == nil {
		_ = p.Kill()
	}
}

// DetachedProcAttr returns nil: there is no session to leave here.
func DetachedProcAttr() *syscall.SysProcAttr { return nil }
