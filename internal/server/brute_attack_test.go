package server

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jlaffaye/ftp"

	"github.com/port21/port21/internal/config"
)

// needTool returns the path of a Debian-packaged attack tool, skipping the
// test when it is missing, unless PORT21_REQUIRE_CLIENTS=1 (CI, where
// scripts/test.sh installs it).
func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("PORT21_REQUIRE_CLIENTS") == "1" {
			t.Fatalf("%s is not installed (scripts/test.sh installs it)", name)
		}
		t.Skipf("%s is not installed", name)
	}
	return p
}

// legitClient transfers a file up and down from 127.0.0.2 over explicit
// FTPS until stop is closed, and returns the transfers done and the first
// error.
func legitClient(ts *testServer, stop <-chan struct{}) (int, error) {
	d := net.Dialer{Timeout: 5 * time.Second, LocalAddr: net.TCPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr("127.0.0.2"), 0))}
	c, err := ftp.Dial(ts.addr, ftp.DialWithDialer(d), ftp.DialWithExplicitTLS(clientTLS()), ftp.DialWithTimeout(10*time.Second))
	if err != nil {
		return 0, fmt.Errorf("dial: %w", err)
	}
	defer c.Quit()
	if err := c.Login("alice", testPassword); err != nil {
		return 0, fmt.Errorf("login: %w", err)
	}
	body := bytes.Repeat([]byte("legit "), 10_000)
	for n := 0; ; n++ {
		select {
		case <-stop:
			return n, nil
		default:
		}
		if err := c.Stor("f", bytes.NewReader(body)); err != nil {
			return n, fmt.Errorf("transfer %d: STOR: %w", n, err)
		}
		r, err := c.Retr("f")
		if err != nil {
			return n, fmt.Errorf("transfer %d: RETR: %w", n, err)
		}
		var got bytes.Buffer
		_, err = got.ReadFrom(r)
		r.Close()
		if err != nil || !bytes.Equal(got.Bytes(), body) {
			return n, fmt.Errorf("transfer %d: RETR: %d bytes, %v", n, got.Len(), err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// runAttack starts a legitimate client, runs the attacker to its end (or
// its time limit), and checks what issue 8 promises: the attacker's
// address is banned, after about the threshold of guesses, and the
// legitimate client from another address never noticed.
func runAttack(t *testing.T, ts *testServer, attacker *exec.Cmd) string {
	t.Helper()
	stop := make(chan struct{})
	var (
		wg       sync.WaitGroup
		n        int
		legitErr error
	)
	wg.Add(1)
	go func() { defer wg.Done(); n, legitErr = legitClient(ts, stop) }()
	out, _ := attacker.CombinedOutput() // killed at its deadline: the output still counts
	close(stop)
	wg.Wait()
	if legitErr != nil || n == 0 {
		t.Errorf("legitimate client from 127.0.0.2: %d transfers, %v", n, legitErr)
	}
	if banned, _ := ts.srv.defender.Banned(netip.MustParseAddr("127.0.0.1")); !banned {
		t.Errorf("attacker not banned; its output:\n%s", out)
	}
	if banned, _ := ts.srv.defender.Banned(netip.MustParseAddr("127.0.0.2")); banned {
		t.Error("the legitimate client's address was banned")
	}
	logs := ts.logs.String()
	// Guesses already being checked when the ban starts still finish:
	// allow one per parallel task on top of the threshold.
	if got := strings.Count(logs, `msg=login-failed client=127.0.0.1:`); got > 5+4 {
		t.Errorf("%d guesses checked, want the ban to stop them near 5", got)
	}
	if strings.Contains(logs, `msg=login client=127.0.0.1:`) {
		t.Error("the attacker logged in")
	}
	return string(out)
}

// guesses writes a password list without the real password.
func guesses(t *testing.T, dir string) (users, passwords string) {
	users, passwords = filepath.Join(dir, "users.txt"), filepath.Join(dir, "passwords.txt")
	var pw []string
	for i := range 40 {
		pw = append(pw, fmt.Sprintf("guess%02d", i))
	}
	pw = append(pw, "password", "123456", "alice", "letmein", "correct horse")
	os.WriteFile(users, []byte("alice\n"), 0o600)
	os.WriteFile(passwords, []byte(strings.Join(pw, "\n")+"\n"), 0o600)
	return users, passwords
}

// Issue 8: hydra (Debian's hydra 9.4; its ftps:// mode is explicit FTPS,
// AUTH TLS) guessing alice's password.
func TestHydraIsBannedOverExplicitFTPS(t *testing.T) {
	hydra := needTool(t, "hydra")
	ts := startServer(t, func(c *config.Config) { c.MaxLoginFailures = 5 })
	ts.addUser(t, "alice", nil)
	dir := t.TempDir()
	_, pw := guesses(t, dir)
	_, port, _ := net.SplitHostPort(ts.addr)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, hydra, "-I", "-l", "alice", "-P", pw, "-t", "4", "-w", "5", "-s", port, "ftps://127.0.0.1")
	cmd.Dir = dir // hydra.restore
	out := runAttack(t, ts, cmd)
	if strings.Contains(out, "password: ") && !strings.Contains(out, "0 valid password") {
		t.Errorf("hydra found a password:\n%s", out)
	}
}

// Issue 8: nmap's ftp-brute (it starts TLS when USER is refused for lack
// of it). Forced onto the test port with "+", and bounded by a host
// time-out: once banned, nmap reconnects as fast as it can until then.
func TestNmapFTPBruteIsBanned(t *testing.T) {
	nmap := needTool(t, "nmap")
	ts := startServer(t, func(c *config.Config) { c.MaxLoginFailures = 5 })
	ts.addUser(t, "alice", nil)
	dir := t.TempDir()
	us, pw := guesses(t, dir)
	_, port, _ := net.SplitHostPort(ts.addr)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, nmap, "-n", "-Pn", "-p", port, "--host-timeout", "10s", "--script", "+ftp-brute",
		"--script-args", "userdb="+us+",passdb="+pw+",brute.threads=2,unpwdb.timelimit=8s", "127.0.0.1")
	out := runAttack(t, ts, cmd)
	if strings.Contains(out, "Valid credentials") {
		t.Errorf("nmap found credentials:\n%s", out)
	}
}
