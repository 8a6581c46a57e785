package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/port21/port21/internal/testpeers"
)

// clockTicks is USER_HZ, the unit of the times in /proc/PID/stat: 100 on
// every Linux architecture Go supports.
const clockTicks = 100

// tree lists pid and the processes below it: vsftpd and ProFTPD fork a
// process (vsftpd two) per session, and their cost is the server's.
func tree(pid int) []int {
	return append([]int{pid}, testpeers.Descendants(pid)...)
}

// treeCPU is the CPU time, user plus system, of pid's process tree: the
// live processes' own times plus the times of children they have waited
// for (cutime, cstime), so a session process that has ended still counts.
func treeCPU(pid int) (time.Duration, error) {
	var ticks int64
	for i, p := range tree(pid) {
		data, err := os.ReadFile("/proc/" + strconv.Itoa(p) + "/stat")
		if err != nil {
			if i == 0 {
				return 0, fmt.Errorf("cpu of %d: %w", pid, err)
			}
			continue // a session that ended meanwhile: its parent has its times
		}
		// Fields after the command name, which may hold spaces: field 3
		// is state, 14-17 are utime, stime, cutime, cstime.
		j := bytes.LastIndexByte(data, ')')
		if j < 0 {
			continue
		}
		f := strings.Fields(string(data[j+1:]))
		if len(f) < 15 {
			continue
		}
		for _, s := range f[11:15] {
			n, _ := strconv.ParseInt(s, 10, 64)
			ticks += n
		}
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// treePSS is the proportional set size of pid's process tree, in bytes,
// from /proc/PID/smaps_rollup.
func treePSS(pid int) (int64, error) {
	var total int64
	for i, p := range tree(pid) {
		kb, err := pssKiB(p)
		if err != nil {
			if i == 0 {
				return 0, fmt.Errorf("pss of %d: %w", pid, err)
			}
			continue
		}
		total += kb << 10
	}
	return total, nil
}

func pssKiB(pid int) (int64, error) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/smaps_rollup")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "Pss:"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("no Pss line in /proc/%d/smaps_rollup", pid)
}

// idleShare samples /proc/stat's cpu line over d and returns the share of
// time (0-1) the machine's CPUs were idle (idle plus iowait).
func idleShare(ctx context.Context, d time.Duration) (float64, error) {
	read := func() (idle, total int64, err error) {
		data, err := os.ReadFile("/proc/stat")
		if err != nil {
			return 0, 0, fmt.Errorf("idle cpu: %w", err)
		}
		line, _, _ := strings.Cut(string(data), "\n")
		f := strings.Fields(line)
		if len(f) < 6 || f[0] != "cpu" {
			return 0, 0, fmt.Errorf("idle cpu: unexpected /proc/stat line %q", line)
		}
		// user nice system idle iowait irq softirq steal (guest is
		// already inside user).
		for i, s := range f[1:] {
			if i >= 8 {
				break
			}
			n, _ := strconv.ParseInt(s, 10, 64)
			total += n
			if i == 3 || i == 4 {
				idle += n
			}
		}
		return idle, total, nil
	}
	i0, t0, err := read()
	if err != nil {
		return 0, err
	}
	select {
	case <-ctx.Done():
		return 0, fmt.Errorf("idle cpu: %w", ctx.Err())
	case <-time.After(d):
	}
	i1, t1, err := read()
	if err != nil {
		return 0, err
	}
	if t1 <= t0 {
		return 0, fmt.Errorf("idle cpu: no ticks in %v", d)
	}
	return float64(i1-i0) / float64(t1-t0), nil
}

// machine describes the computer for the report.
type machine struct {
	CPUs     int    `json:"nproc"`
	CPUModel string `json:"cpu_model"`
	Kernel   string `json:"kernel"`
}

func describeMachine(nproc int) machine {
	m := machine{CPUs: nproc}
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.Lines(string(data)) {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if data, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(data))
	}
	return m
}
