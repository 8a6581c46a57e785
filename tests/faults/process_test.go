package faults

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// addUser creates an account with the CLI, before or while serve runs on
// the same data directory.
func addUser(t *testing.T, dataDir, name, password string, flags ...string) {
	t.Helper()
	bin, err := binary()
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{"user", "add", name, "--password-stdin", "--data-dir", dataDir}, flags...)
	add := exec.Command(bin, args...)
	add.Stdin = strings.NewReader(password + "\n")
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("user add %s: %v %s", name, err, out)
	}
}

// fds counts the server process's open file descriptors.
func (s *server) fds(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", s.cmd.Process.Pid))
	if err != nil {
		t.Fatalf("server's descriptors: %v", err)
	}
	return len(entries)
}

// fdsOf counts the server's descriptors that are sockets, those open on
// files under dir, and pipes.
func (s *server) fdsOf(dir string) (sockets, files, pipes int) {
	fdDir := fmt.Sprintf("/proc/%d/fd", s.cmd.Process.Pid)
	entries, _ := os.ReadDir(fdDir)
	for _, e := range entries {
		target, _ := os.Readlink(fdDir + "/" + e.Name())
		switch {
		case strings.HasPrefix(target, "socket:"):
			sockets++
		case strings.HasPrefix(target, dir+"/"):
			files++
		case strings.HasPrefix(target, "pipe:"):
			pipes++
		}
	}
	return sockets, files, pipes
}

// fdSummary names what the server's descriptors point to, for a leak report.
func (s *server) fdSummary() string {
	dir := fmt.Sprintf("/proc/%d/fd", s.cmd.Process.Pid)
	entries, _ := os.ReadDir(dir)
	counts := map[string]int{}
	for _, e := range entries {
		target, _ := os.Readlink(dir + "/" + e.Name())
		if i := strings.IndexAny(target, ":["); i > 0 && !strings.HasPrefix(target, "/") {
			target = target[:i]
		}
		counts[target]++
	}
	return fmt.Sprint(counts)
}

var metricsAddrRE = regexp.MustCompile(`msg=metrics addr=(\S+)`)

// metrics reads the server's /metrics (it must run with --metrics-listen)
// and returns the samples without labels, by name.
func (s *server) metrics(t *testing.T) map[string]float64 {
	t.Helper()
	s.waitLog(t, "msg=metrics")
	m := metricsAddrRE.FindStringSubmatch(s.logText())
	if m == nil {
		t.Fatalf("no metrics address in the log:\n%s", s.logText())
	}
	// No keep-alive: the scrape must not hold a descriptor of the server.
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := hc.Get("http://" + m[1] + "/metrics")
	if err != nil {
		t.Fatalf("metrics: %v", err)
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if !ok || strings.HasPrefix(name, "#") || strings.Contains(name, "{") {
			continue
		}
		if v, err := strconv.ParseFloat(value, 64); err == nil {
			out[name] = v
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("metrics: %v", err)
	}
	return out
}

// settle waits until cond holds or d has passed, and says which.
func settle(d time.Duration, cond func() bool) bool {
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}
