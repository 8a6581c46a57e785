package testpeers

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// startProcess runs bin in its own process group and its own mount
// namespace, with passwd bind-mounted over /etc/passwd there, and its
// output in logPath. The shell execs the daemon, so the PID returned is the
// daemon's. Mounts in the new namespace are private (Go makes / recursively
// private when it unshares CLONE_NEWNS), so the machine never sees them.
func startProcess(bin string, args []string, passwd, logPath string) (*exec.Cmd, error) {
	const script = `mount --bind "$0" /etc/passwd && exec "$@"`
	cmd := exec.Command("sh", append([]string{"-c", script, passwd, bin}, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Setpgid:      true,
		Unshareflags: syscall.CLONE_NEWNS,
		// If the test process dies without running its cleanups (killed,
		// or go test's -timeout), the daemon dies with it rather than
		// keeping its port. (The kernel ties this to the thread that
		// forked; Go does not end threads of goroutines that are not
		// locked to them.)
		Pdeathsig: syscall.SIGKILL,
	}
	out, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer out.Close() // the child has its own copy
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return cmd, nil
}

// stopProcess ends the process group led by pid: SIGTERM, then SIGKILL if
// the leader has not exited within a few seconds, and SIGKILL for any
// session process left behind. exited is closed when the leader has been
// waited for.
//
// vsftpd's session processes start sessions of their own (setsid), which
// takes them out of the group, so the leader's descendants are listed
// before it is signalled (afterwards they would belong to init) and ended
// one by one, each only if its PID still names the same process.
func stopProcess(pid int, exited <-chan struct{}) error {
	kill := func(sig syscall.Signal) {
		if err := syscall.Kill(-pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
			syscall.Kill(pid, sig)
		}
	}
	descendants := descendantsOf(pid)
	kill(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
		kill(syscall.SIGKILL)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			return fmt.Errorf("process %d did not exit after SIGKILL", pid)
		}
	}
	// Sessions the daemon forked stay in its group; end them too.
	kill(syscall.SIGKILL)
	for _, d := range descendants {
		if s, err := startTime(d.pid); err == nil && s == d.start {
			syscall.Kill(d.pid, syscall.SIGKILL)
		}
	}
	return nil
}

// process names one process for good: its PID and its start time.
type process struct{ pid, start int }

// descendantsOf lists the processes below pid in the process tree, read
// from /proc.
func descendantsOf(pid int) []process {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	children := map[int][]process{}
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		ppid, start, err := statFields(p)
		if err != nil {
			continue
		}
		children[ppid] = append(children[ppid], process{p, start})
	}
	var out []process
	queue := []int{pid}
	for len(queue) > 0 && len(out) < 10000 {
		for _, c := range children[queue[0]] {
			out = append(out, c)
			queue = append(queue, c.pid)
		}
		queue = queue[1:]
	}
	return out
}

// ownerFile, in a peer's directory, records the test process that started
// the peer and the daemon's PID, so that a later run can end a daemon whose
// test process died without its cleanups (killed, or go test's -timeout).
// Pdeathsig alone does not cover that: the kernel forgets it when a daemon
// changes its credentials, as ProFTPD does.
const ownerFile = "owner"

// recordOwner writes the owner file for a started daemon.
func recordOwner(dir string, daemonPID int) error {
	start, err := startTime(os.Getpid())
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, ownerFile), fmt.Appendf(nil, "%d %d %d\n", os.Getpid(), start, daemonPID), 0o644)
}

// sweepStale ends the daemons of earlier runs whose test process is gone,
// and removes their directories. A daemon is only signalled if its PID
// still runs an executable from the peer cache, so a reused PID is never
// touched.
func sweepStale(cache string) {
	if real, err := filepath.EvalSymlinks(cache); err == nil {
		cache = real // /proc/PID/exe is a resolved path
	}
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "port21-peer-*"))
	for _, dir := range dirs {
		data, err := os.ReadFile(filepath.Join(dir, ownerFile))
		if err != nil {
			continue // starting, or not ours
		}
		var owner, ownerStart, daemon int
		if _, err := fmt.Sscan(string(data), &owner, &ownerStart, &daemon); err != nil {
			continue
		}
		if s, err := startTime(owner); err == nil && s == ownerStart {
			continue // its test is still running
		}
		if exe, err := os.Readlink(filepath.Join("/proc", strconv.Itoa(daemon), "exe")); err == nil &&
			strings.HasPrefix(exe, cache+string(filepath.Separator)) {
			syscall.Kill(-daemon, syscall.SIGKILL)
			syscall.Kill(daemon, syscall.SIGKILL)
		}
		os.RemoveAll(dir)
	}
}

// startTime is the process's start time in clock ticks after boot: with
// the PID, it names one process for good.
func startTime(pid int) (int, error) {
	_, start, err := statFields(pid)
	return start, err
}

// statFields reads the parent PID (field 4) and the start time (field 22)
// from /proc/PID/stat.
func statFields(pid int) (ppid, start int, err error) {
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, 0, err
	}
	// The command name (field 2) may hold spaces and parentheses: count
	// fields after its closing parenthesis, from field 3.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, 0, fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	fields := strings.Fields(string(data[i+1:]))
	if len(fields) < 20 {
		return 0, 0, fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	if ppid, err = strconv.Atoi(fields[1]); err != nil {
		return 0, 0, fmt.Errorf("malformed /proc/%d/stat: %w", pid, err)
	}
	if start, err = strconv.Atoi(fields[19]); err != nil {
		return 0, 0, fmt.Errorf("malformed /proc/%d/stat: %w", pid, err)
	}
	return ppid, start, nil
}
