//go:build unix

package fdlimit

import "syscall"

// Limit is the process's soft limit on open files (Go raises it to the
// hard limit at start-up).
func Limit() int {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil || l.Cur > 1<<20 {
		return 1 << 20
	}
	return int(l.Cur)
}
