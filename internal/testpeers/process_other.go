//go:build !linux

package testpeers

import (
	"os/exec"
)

// startProcess is Linux-only: the peers need mount namespaces. Available
// reports ErrUnsupported before Start gets here.
func startProcess(bin string, args []string, passwd, logPath string) (*exec.Cmd, error) {
	return nil, ErrUnsupported
}

func stopProcess(pid int, exited <-chan struct{}) error { return nil }

func recordOwner(dir string, daemonPID int) error { return nil }

func sweepStale(cache string) {}
