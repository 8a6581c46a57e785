package interop

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// family is the IP version a cell runs over; everything stays on loopback.
type family struct {
	name string // "ipv4" or "ipv6": the subtest name
	host string // the loopback address
}

var (
	ipv4 = family{"ipv4", "127.0.0.1"}
	ipv6 = family{"ipv6", "::1"}
)

// urlHost is the host as it appears in a URL.
func (f family) urlHost() string {
	if strings.Contains(f.host, ":") {
		return "[" + f.host + "]"
	}
	return f.host
}

// portRange is a passive port range handed to one server.
type portRange struct{ low, high int }

func (r portRange) String() string { return fmt.Sprintf("%d-%d", r.low, r.high) }

// portAllocator hands out non-overlapping passive ranges, so that parallel
// servers never compete for the same ports. Each test function gets its own
// allocator over its own slice of 40000-49999.
type portAllocator struct {
	base, limit, size int
	next              atomic.Int64
}

func newPortAllocator(base, limit, size int) *portAllocator {
	return &portAllocator{base: base, limit: limit, size: size}
}

func (a *portAllocator) take(t *testing.T) portRange {
	t.Helper()
	i := int(a.next.Add(1) - 1)
	low := a.base + i*a.size
	if low+a.size-1 > a.limit {
		t.Fatalf("passive port ranges exhausted (%d-%d)", a.base, a.limit)
	}
	return portRange{low, low + a.size - 1}
}

// account is one user created with `port21 user add` before the server
// starts.
type account struct {
	name     string
	password string
	flags    []string // extra `user add` flags
}

func newAccount(name string, flags ...string) account {
	var b [12]byte
	rand.Read(b[:])
	return account{name: name, password: hex.EncodeToString(b[:]), flags: flags}
}

// server is one `port21 serve` process.
type server struct {
	t       *testing.T
	fam     family
	dir     string // --data-dir
	passive portRange
	port    int
	// implicitPort is the implicit FTPS port, when started with
	// --implicit-tls-listen.
	implicitPort int
	log          syncBuffer // standard error: the JSON audit log
	stdout       syncBuffer
}

// newServer prepares a data directory; add users and files, then start.
func newServer(t *testing.T, fam family, passive portRange) *server {
	t.Helper()
	return &server{t: t, fam: fam, dir: t.TempDir(), passive: passive}
}

func (s *server) addr() string     { return net.JoinHostPort(s.fam.host, strconv.Itoa(s.port)) }
func (s *server) certFile() string { return filepath.Join(s.dir, "tls", "cert.pem") }

// home is the user's home directory on the server's disk.
func (s *server) home(user string) string { return filepath.Join(s.dir, "home", user) }

// addUser runs `port21 user add`. The store must be filled before serve
// starts, or serve creates its first user "port21".
func (s *server) addUser(a account) {
	s.t.Helper()
	argv := append([]string{port21Bin, "user", "add", a.name, "--data-dir", s.dir, "--password-stdin"}, a.flags...)
	r := runCmd(context.Background(), nil, a.password+"\n", argv...)
	if r.err != nil {
		s.t.Fatalf("port21 user add failed:\n%s", r.transcript())
	}
}

// start runs `port21 serve` on a kernel-chosen port of the cell's loopback
// address and waits until it is listening. The server is stopped in
// t.Cleanup: SIGTERM, and SIGKILL if it has not exited 5 s later.
func (s *server) start(extra ...string) {
	t := s.t
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	args := append([]string{
		"serve",
		"--data-dir", s.dir,
		"--listen", net.JoinHostPort(s.fam.host, "0"),
		"--passive-ports", s.passive.String(),
		"--active-mode=true",
		"--log-format", "json",
	}, extra...)
	cmd := exec.CommandContext(ctx, port21Bin, args...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 5 * time.Second
	ready := &lineWatch{prefix: "port21: listening on ", found: make(chan string, 1), copyTo: &s.stdout}
	cmd.Stdout = ready
	cmd.Stderr = &s.log
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start port21 serve: %v", err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		cancel()
		<-exited
		if ps := cmd.ProcessState; ps == nil || !ps.Success() {
			t.Errorf("port21 serve did not exit cleanly on SIGTERM (pid %d): %v", cmd.Process.Pid, waitErr)
		}
		if t.Failed() {
			t.Logf("server audit log (%s):\n%s", s.dir, tail(s.log.String(), 16000))
		}
	})

	select {
	case line := <-ready.found:
		addr, _, _ := strings.Cut(line, " ")
		_, port, err := net.SplitHostPort(addr)
		if err == nil {
			s.port, err = strconv.Atoi(port)
		}
		if err == nil {
			// "ADDR (explicit FTPS) and ADDR (implicit FTPS)"
			if m := implicitListening.FindStringSubmatch(line); m != nil {
				s.implicitPort, err = strconv.Atoi(m[1])
			}
		}
		if err != nil {
			t.Fatalf("cannot parse the listening address in %q: %v", line, err)
		}
	case <-exited:
		t.Fatalf("port21 serve exited before listening: %v\nstdout:\n%s\nstderr:\n%s", waitErr, s.stdout.String(), s.log.String())
	case <-time.After(stepTimeout):
		t.Fatalf("port21 serve not listening after %v\nstdout:\n%s\nstderr:\n%s", stepTimeout, s.stdout.String(), s.log.String())
	}
}

var implicitListening = regexp.MustCompile(` and \S*:(\d+) \(implicit FTPS\)`)

// lineWatch passes a child's output on to copyTo and reports the rest of
// the first line that starts with prefix.
type lineWatch struct {
	prefix string
	found  chan string
	copyTo *syncBuffer

	mu      sync.Mutex
	partial []byte
	done    bool
}

func (w *lineWatch) Write(p []byte) (int, error) {
	w.copyTo.Write(p)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return len(p), nil
	}
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			return len(p), nil
		}
		line := string(w.partial[:i])
		w.partial = w.partial[i+1:]
		if rest, ok := strings.CutPrefix(line, w.prefix); ok {
			w.done = true
			w.found <- rest
			return len(p), nil
		}
	}
}

// logEntry is the part of an audit log record the tests look at.
type logEntry struct {
	Level   string `json:"level"`
	Msg     string `json:"msg"`
	Op      string `json:"op"`
	Path    string `json:"path"`
	Bytes   int64  `json:"bytes"`
	Code    int    `json:"code"`
	User    string `json:"user"`
	TLS     *bool  `json:"tls"`
	Version string `json:"version"`
	Err     any    `json:"err"`
	raw     string
}

// entries parses the complete lines of the audit log so far.
func (s *server) entries() []logEntry {
	text := s.log.String()
	if i := strings.LastIndexByte(text, '\n'); i >= 0 {
		text = text[:i]
	} else {
		return nil
	}
	var out []logEntry
	for _, line := range strings.Split(text, "\n") {
		var e logEntry
		if json.Unmarshal([]byte(line), &e) != nil {
			continue // not a JSON record (a panic, say): shown in transcripts anyway
		}
		e.raw = line
		out = append(out, e)
	}
	return out
}

// waitEntry waits up to 3 s for a log record after mark that matches ok:
// the server logs a transfer before its final reply, but the log travels
// through a pipe and may lag the client by a moment.
func (s *server) waitEntry(mark int, ok func(logEntry) bool) (logEntry, bool) {
	deadline := time.Now().Add(3 * time.Second)
	for {
		es := s.entries()
		if mark <= len(es) {
			for _, e := range es[mark:] {
				if ok(e) {
					return e, true
				}
			}
		}
		if time.Now().After(deadline) {
			return logEntry{}, false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// settle waits up to 5 s until the step that began at log record mark has
// shown at least one control connection, and every connection the server
// logged has ended: the log travels through a pipe, so records lag the
// client, and a step must see all of its own records and none of the next
// step's.
func (s *server) settle(mark int) {
	deadline := time.Now().Add(5 * time.Second)
	for {
		es := s.entries()
		open, seen := 0, false
		for i, e := range es {
			switch e.Msg {
			case "connect":
				open++
				seen = seen || i >= mark
			case "disconnect":
				open--
			}
		}
		if seen && open <= 0 || time.Now().After(deadline) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// logSince returns the raw audit log lines after mark, for failure reports.
func (s *server) logSince(mark int) string {
	es := s.entries()
	if mark > len(es) {
		return ""
	}
	var b strings.Builder
	for _, e := range es[mark:] {
		b.WriteString(e.raw)
		b.WriteByte('\n')
	}
	return b.String()
}

// writeFile creates a file (and its directories) for test setup.
func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o640); err != nil {
		t.Fatal(err)
	}
}
