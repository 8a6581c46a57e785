package haproxy

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// stepTimeout bounds every external command.
const stepTimeout = 30 * time.Second

// Loopback addresses, each a different party, so the logs tell them apart.
const (
	haproxyAddr = "127.0.0.10" // HAProxy's frontends
	clientAddr  = "127.0.0.9"  // the client that logs in
	guesserAddr = "127.0.0.8"  // the client that guesses passwords
	// HAProxy connects to the nodes from 127.0.0.1, the kernel's choice
	// for a loopback destination: that is the trusted proxy.
	proxySource = "127.0.0.1"
)

var port21Bin string

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if testing.Short() {
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "port21-haproxy-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	port21Bin = filepath.Join(dir, "port21")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", port21Bin, "github.com/port21/port21/cmd/port21").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build ./cmd/port21: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// need returns the program's path, or skips (under
// PORT21_REQUIRE_CLIENTS=1, fails) when it is missing. /usr/sbin, where
// Debian puts haproxy, is looked in too: it is not on every user's PATH.
func need(t *testing.T, exe, pkg string) string {
	t.Helper()
	if p, err := exec.LookPath(exe); err == nil {
		return p
	}
	if p, err := exec.LookPath(filepath.Join("/usr/sbin", exe)); err == nil {
		return p
	}
	reason := fmt.Sprintf("%s is not installed (apt-get install %s)", exe, pkg)
	if os.Getenv("PORT21_REQUIRE_CLIENTS") == "1" {
		t.Fatalf("%s; PORT21_REQUIRE_CLIENTS=1 makes this a failure", reason)
	}
	t.Skipf("%s; set PORT21_REQUIRE_CLIENTS=1 to make this a failure", reason)
	return ""
}

// syncBuffer collects a child's output while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startChild starts a long-running program and stops it by its PID in
// t.Cleanup: SIGTERM, then SIGKILL if it has not exited 5 s later.
func startChild(t *testing.T, stdout, stderr *syncBuffer, argv ...string) (exited <-chan struct{}) {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", argv[0], err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	return done
}

// node is one `port21 serve`.
type node struct {
	name string
	dir  string
	cfg  string // its configuration file
	addr string // host:port it listens on
	log  syncBuffer
	out  syncBuffer
}

// startNode runs port21 serve on host (a kernel-chosen port), trusting the
// proxy, announcing host in PASV replies to loopback clients (and a
// documentation address to everyone else, which a client here could not
// reach: so a transfer proves passive-host picked the rule). store is the
// store key ("": the node's own SQLite); user, when not "", is added to it.
func startNode(t *testing.T, name, host, passive, store string, user, password string) *node {
	t.Helper()
	n := &node{name: name, dir: t.TempDir()}
	cfg := fmt.Sprintf(`listen = %q
store = %q
data-dir = %q
passive-ports = %q
public-host = "203.0.113.10"
passive-host = [{networks = ["127.0.0.0/8"], host = %q}]
trusted-proxies = [%q]
max-login-failures = 2
log-format = "json"
`, net.JoinHostPort(host, "0"), store, n.dir, passive, host, proxySource+"/32")
	n.cfg = filepath.Join(n.dir, "port21.toml")
	cfgFile := n.cfg
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	if user != "" {
		n.addUser(t, user, password)
	}
	exited := startChild(t, &n.out, &n.log, port21Bin, "serve", "--config", cfgFile)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s audit log:\n%s", name, n.log.String())
		}
	})
	deadline := time.After(stepTimeout)
	for {
		if line, ok := strings.CutPrefix(n.out.String(), "port21: listening on "); ok {
			n.addr, _, _ = strings.Cut(line, " ")
			return n
		}
		select {
		case <-exited:
			t.Fatalf("%s exited before listening:\n%s\n%s", name, n.out.String(), n.log.String())
		case <-deadline:
			t.Fatalf("%s not listening after %v:\n%s", name, stepTimeout, n.log.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// addUser runs port21 user add against the node's store, read from its
// configuration file as an administrator would.
func (n *node) addUser(t *testing.T, user, password string) {
	t.Helper()
	add := exec.Command(port21Bin, "user", "add", user, "--config", n.cfg, "--password-stdin")
	add.Stdin = strings.NewReader(password + "\n")
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("%s: port21 user add: %v\n%s", n.name, err, out)
	}
}

// logEntry is the part of an audit log record the test reads.
type logEntry struct {
	Msg    string `json:"msg"`
	Client string `json:"client"`
	Proxy  string `json:"proxy"`
	User   string `json:"user"`
	Op     string `json:"op"`
	Path   string `json:"path"`
	Code   int    `json:"code"`
	Prefix string `json:"prefix"`
	Stage  string `json:"stage"`
	Reason string `json:"reason"`
	Source string `json:"source"`
}

func (n *node) entries() []logEntry {
	var out []logEntry
	for _, line := range strings.Split(n.log.String(), "\n") {
		var e logEntry
		if json.Unmarshal([]byte(line), &e) == nil {
			out = append(out, e)
		}
	}
	return out
}

// waitEntry waits up to 5 s for a log record that matches ok.
func (n *node) waitEntry(ok func(logEntry) bool) (logEntry, bool) {
	for end := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		for _, e := range n.entries() {
			if ok(e) {
				return e, true
			}
		}
		if time.Now().After(end) {
			return logEntry{}, false
		}
	}
}

func (n *node) bans(t *testing.T) []string {
	t.Helper()
	out, err := exec.Command(port21Bin, "ban", "list", "--json", "--config", n.cfg).Output()
	if err != nil {
		t.Fatalf("port21 ban list: %v", err)
	}
	var bans []struct {
		Prefix string `json:"prefix"`
	}
	if err := json.Unmarshal(out, &bans); err != nil {
		t.Fatalf("port21 ban list: %v\n%s", err, out)
	}
	var p []string
	for _, b := range bans {
		p = append(p, b.Prefix)
	}
	return p
}

// freePort returns a port free on host now, for HAProxy to bind.
func freePort(t *testing.T, host string) int {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// haproxyConfig is the configuration the README shows, on loopback: TCP
// mode, one frontend per node, PROXY v2 to one and v1 to the other, with
// health checks.
const haproxyConfig = `global
    maxconn 256

defaults
    mode tcp
    timeout connect 5s
    timeout client 1m
    timeout server 1m

frontend ftp_v2
    bind %[1]s:%[2]d
    default_backend nodes_v2

backend nodes_v2
    server node1 %[3]s send-proxy-v2 check inter 300ms

frontend ftp_v1
    bind %[1]s:%[4]d
    default_backend nodes_v1

backend nodes_v1
    server node2 %[5]s send-proxy check inter 300ms
`

// startHAProxy writes the configuration, checks it with haproxy -c, runs
// haproxy -db and waits until both frontends accept connections.
func startHAProxy(t *testing.T, haproxy, node1, node2 string) (v2Port, v1Port int) {
	t.Helper()
	v2Port, v1Port = freePort(t, haproxyAddr), freePort(t, haproxyAddr)
	cfg := filepath.Join(t.TempDir(), "haproxy.cfg")
	text := fmt.Sprintf(haproxyConfig, haproxyAddr, v2Port, node1, v1Port, node2)
	if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(haproxy, "-c", "-f", cfg).CombinedOutput(); err != nil {
		t.Fatalf("haproxy -c: %v\n%s\n%s", err, out, text)
	}
	var out, errb syncBuffer
	exited := startChild(t, &out, &errb, haproxy, "-f", cfg, "-db")
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("haproxy output:\n%s%s", out.String(), errb.String())
		}
	})
	for _, port := range []int{v2Port, v1Port} {
		addr := net.JoinHostPort(haproxyAddr, strconv.Itoa(port))
		for end := time.Now().Add(stepTimeout); ; time.Sleep(50 * time.Millisecond) {
			select {
			case <-exited:
				t.Fatalf("haproxy exited:\n%s%s", out.String(), errb.String())
			default:
			}
			// A bare probe: nothing is sent to the node until data flows,
			// or the node sees a header and then EOF, which is no login.
			if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
				c.Close()
				break
			}
			if time.Now().After(end) {
				t.Fatalf("haproxy not listening on %s after %v", addr, stepTimeout)
			}
		}
	}
	return v2Port, v1Port
}

// curl runs curl from the loopback address from against url with the
// user's credentials: explicit FTPS required, PASV (EPSV replies carry no
// address, so the client would dial HAProxy), and every connection,
// control and data, from the given source.
func curl(ctx context.Context, from, user, password string, args ...string) (string, error) {
	argv := append([]string{"-sS", "-v", "--max-time", "30", "--ssl-reqd", "-k", "--ftp-pasv", "--disable-epsv", "--no-ftp-skip-pasv-ip",
		"--interface", from, "--user", user + ":" + password}, args...)
	ctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "curl", argv...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return "curl " + strings.Join(argv, " ") + "\n" + out.String(), err
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func TestBehindHAProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("starts haproxy, two servers and curl; skipped with -short")
	}
	haproxy := need(t, "haproxy", "haproxy")
	need(t, "curl", "curl")
	password := randomHex(12)
	node1 := startNode(t, "node1", "127.0.0.21", "52100-52119", "", "alice", password)
	node2 := startNode(t, "node2", "127.0.0.22", "52120-52139", "", "alice", password)
	v2Port, v1Port := startHAProxy(t, haproxy, node1.addr, node2.addr)

	payload := []byte("through haproxy " + randomHex(2048) + "\n")
	local := filepath.Join(t.TempDir(), "up.txt")
	if err := os.WriteFile(local, payload, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		port int
		node *node
	}{{"proxy-v2", v2Port, node1}, {"proxy-v1", v1Port, node2}} {
		t.Run(tc.name, func(t *testing.T) {
			base := fmt.Sprintf("ftp://%s:%d/", haproxyAddr, tc.port)
			if tr, err := curl(t.Context(), clientAddr, "alice", password, "-T", local, base+"up.txt"); err != nil {
				t.Fatalf("upload: %v\n%s", err, tr)
			}
			got, err := os.ReadFile(filepath.Join(tc.node.dir, "home", "alice", "up.txt"))
			if err != nil || !bytes.Equal(got, payload) {
				t.Fatalf("uploaded file on %s: %d bytes, %v; want %d", tc.node.name, len(got), err, len(payload))
			}
			down := filepath.Join(t.TempDir(), "down.txt")
			if tr, err := curl(t.Context(), clientAddr, "alice", password, "-o", down, base+"up.txt"); err != nil {
				t.Fatalf("download: %v\n%s", err, tr)
			}
			if got, _ := os.ReadFile(down); !bytes.Equal(got, payload) {
				t.Fatalf("downloaded %d bytes, want %d", len(got), len(payload))
			}
			// The audit log names the client, and HAProxy as the proxy.
			login, ok := tc.node.waitEntry(func(e logEntry) bool { return e.Msg == "login" && e.User == "alice" })
			if !ok {
				t.Fatal("no login in the audit log")
			}
			if host, _, _ := net.SplitHostPort(login.Client); host != clientAddr {
				t.Errorf("login logged for client %q, want %s", login.Client, clientAddr)
			}
			if host, _, _ := net.SplitHostPort(login.Proxy); host != proxySource {
				t.Errorf("login logged with proxy %q, want %s", login.Proxy, proxySource)
			}
			for _, op := range []string{"STOR", "RETR"} {
				xfer, ok := tc.node.waitEntry(func(e logEntry) bool { return e.Msg == "transfer" && e.Op == op })
				if !ok {
					t.Fatalf("no %s in the audit log", op)
				}
				if host, _, _ := net.SplitHostPort(xfer.Client); host != clientAddr || xfer.Code != 226 {
					t.Errorf("%s logged for client %q with code %d", op, xfer.Client, xfer.Code)
				}
			}
		})
	}

	// HAProxy's health checks (check inter 300ms) on the v2 backend are
	// LOCAL headers: served as HAProxy's own connections, which send no
	// command and so score nothing (the ban test below shows HAProxy's
	// address is never banned).
	if _, ok := node1.waitEntry(func(e logEntry) bool { return e.Msg == "connect" && e.Client != "" && e.Client == e.Proxy }); !ok {
		t.Error("no health check (a v2 LOCAL header) seen on node1")
	}

	// Password guessing through HAProxy bans the guesser's address, not
	// HAProxy's: the guesser is then dropped, the other client still in.
	t.Run("ban", func(t *testing.T) {
		base := fmt.Sprintf("ftp://%s:%d/", haproxyAddr, v2Port)
		for i := range 2 {
			if tr, err := curl(t.Context(), guesserAddr, "alice", "wrong"+strconv.Itoa(i), base); err == nil {
				t.Fatalf("a wrong password logged in:\n%s", tr)
			}
		}
		if _, ok := node1.waitEntry(func(e logEntry) bool { return e.Msg == "ban" }); !ok {
			t.Fatal("no ban in the audit log")
		}
		bans := node1.bans(t)
		if len(bans) != 1 || bans[0] != guesserAddr+"/32" {
			t.Fatalf("bans on node1: %v, want only %s/32", bans, guesserAddr)
		}
		if tr, err := curl(t.Context(), guesserAddr, "alice", password, base); err == nil {
			t.Errorf("the banned address logged in through HAProxy:\n%s", tr)
		}
		if _, ok := node1.waitEntry(func(e logEntry) bool {
			host, _, _ := net.SplitHostPort(e.Client)
			return e.Msg == "refused" && e.Stage == "connect" && e.Reason == "banned" && host == guesserAddr
		}); !ok {
			t.Error("the banned client's new connection was not dropped as banned")
		}
		if tr, err := curl(t.Context(), clientAddr, "alice", password, base); err != nil {
			t.Errorf("another client behind the same HAProxy was locked out: %v\n%s", err, tr)
		}
	})
}
