package firewall

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The network-namespace tests apply real rules with nftables and iptables
// and drive a real `port21 serve` through them with curl over passive FTPS:
//
//	trusted 198.51.100.2, fd00:21::2 -- 198.51.100.1, fd00:21::1  server  203.0.113.1 -- 203.0.113.2 untrusted
//
// The server listens on 198.51.100.1:21; the untrusted client reaches it
// through the server's other interface. Every namespace is deleted at the
// end, also on failure.

var nsSeq atomic.Int32

type lab struct {
	t                      *testing.T
	srv, trusted, untruste string
	bin, dataDir, cacert   string
}

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root for network namespaces (CI runs as root)")
	}
	for cmd, pkg := range map[string]string{"ip": "iproute2", "curl": "curl", "nft": "nftables", "iptables": "iptables", "ipset": "ipset"} {
		if _, err := exec.LookPath(cmd); err != nil {
			skipOrFail(t, cmd+" not installed (Debian package "+pkg+")")
		}
	}
}

func sh(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// buildPort21 builds the port21 binary once per test binary.
func buildPort21(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "port21")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/port21/port21/cmd/port21")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build port21: %v\n%s", err, out)
	}
	return bin
}

func newLab(t *testing.T, bin string) *lab {
	t.Helper()
	id := fmt.Sprintf("p21fw%d-%d", os.Getpid(), nsSeq.Add(1))
	l := &lab{t: t, srv: id + "-s", trusted: id + "-t", untruste: id + "-u", bin: bin}
	for _, ns := range []string{l.srv, l.trusted, l.untruste} {
		sh(t, "ip", "netns", "add", ns)
		t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
	}
	sh(t, "ip", "link", "add", "vt0", "netns", l.srv, "type", "veth", "peer", "name", "vt1", "netns", l.trusted)
	sh(t, "ip", "link", "add", "vu0", "netns", l.srv, "type", "veth", "peer", "name", "vu1", "netns", l.untruste)
	in := func(ns string, args ...string) { sh(t, "ip", append([]string{"-n", ns}, args...)...) }
	for _, ns := range []string{l.srv, l.trusted, l.untruste} {
		in(ns, "link", "set", "lo", "up")
	}
	in(l.srv, "addr", "add", "198.51.100.1/24", "dev", "vt0")
	in(l.srv, "addr", "add", "fd00:21::1/64", "dev", "vt0", "nodad")
	in(l.srv, "addr", "add", "203.0.113.1/24", "dev", "vu0")
	in(l.srv, "link", "set", "vt0", "up")
	in(l.srv, "link", "set", "vu0", "up")
	in(l.trusted, "addr", "add", "198.51.100.2/24", "dev", "vt1")
	in(l.trusted, "addr", "add", "fd00:21::2/64", "dev", "vt1", "nodad")
	in(l.trusted, "link", "set", "vt1", "up")
	in(l.untruste, "addr", "add", "203.0.113.2/24", "dev", "vu1")
	in(l.untruste, "link", "set", "vu1", "up")
	in(l.untruste, "route", "add", "default", "via", "203.0.113.1")

	l.dataDir = t.TempDir()
	// A sha256-crypt hash (openssl passwd -5) instead of --password-stdin's
	// argon2id: logins are what these tests repeat, and argon2id is made to
	// be slow.
	add := exec.Command(bin, "user", "add", "alice", "--data-dir", l.dataDir,
		"--hash", "$5$p21saltsalt$tleTjNOQuqcwcyLdL64MBnYklJaxLEszRnKpmnOSL1D")
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("port21 user add: %v\n%s", err, out)
	}
	l.cacert = filepath.Join(l.dataDir, "tls", "cert.pem")
	var log lockedLog
	// One server per family, sharing the data directory (and so the
	// user and the certificate); the first creates the certificate.
	for i, listen := range []string{"198.51.100.1:21", "[fd00:21::1]:21"} {
		// `ip netns exec` execs port21 in place, so this PID is the server's.
		serve := exec.Command("ip", "netns", "exec", l.srv, bin, "serve",
			"--listen", listen, "--passive-ports", "50000-50010", "--data-dir", l.dataDir)
		serve.Stdout, serve.Stderr = &log, &log
		if err := serve.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = serve.Process.Signal(os.Interrupt)
			_ = serve.Wait()
			if t.Failed() && i == 0 {
				t.Logf("port21 serve log:\n%s", log.String())
			}
		})
		if i == 0 {
			deadline := time.Now().Add(10 * time.Second)
			for !l.canTransfer(l.trusted) {
				if time.Now().After(deadline) {
					t.Fatalf("port21 serve did not come up; log:\n%s", log.String())
				}
				time.Sleep(200 * time.Millisecond)
			}
		}
	}
	l.cacert = filepath.Join(l.dataDir, "tls", "cert.pem")
	deadline := time.Now().Add(10 * time.Second)
	for !l.canTransfer6(l.trusted) {
		if time.Now().After(deadline) {
			t.Fatalf("port21 serve did not come up; log:\n%s", log.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	return l
}

// canTransfer logs in from ns over explicit FTPS (IPv4) and uploads and
// downloads a file through passive data connections, on one control
// connection.
func (l *lab) canTransfer(ns string) bool { return l.transfer(ns, "198.51.100.1") }

// canTransfer6 is canTransfer over IPv6 (EPSV).
func (l *lab) canTransfer6(ns string) bool { return l.transfer(ns, "fd00:21::1") }

func (l *lab) transfer(ns, addr string) bool {
	url := "ftp://localhost:21/f-" + ns + "-" + strings.ReplaceAll(addr, ":", "_") + ".txt"
	body := "hello from " + ns + "\n"
	// A dropped SYN is seen quickly here; curl's own connect time-out for
	// FTP also covers TLS and the login, which can be slow on a busy machine.
	probe := exec.Command("ip", "netns", "exec", ns, "timeout", "1.5", "bash", "-c", "exec 3<>/dev/tcp/"+addr+"/21")
	if probe.Run() != nil {
		return false
	}
	resolve := "localhost:21:" + addr
	if strings.Contains(addr, ":") {
		resolve = "localhost:21:[" + addr + "]"
	}
	opts := []string{"-sS", "--connect-timeout", "15", "--max-time", "30",
		"--ssl-reqd", "--cacert", l.cacert, "--resolve", resolve,
		"-u", "alice:correct horse battery"}
	args := append([]string{"netns", "exec", ns, "curl"}, opts...)
	args = append(args, "-T", "-", url, "--next")
	args = append(args, opts...)
	args = append(args, url)
	cmd := exec.Command("ip", args...)
	cmd.Stdin = strings.NewReader(body)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || string(out) != body {
		l.t.Logf("transfer from %s: %v %q: %s", ns, err, out, stderr.String())
	}
	return err == nil && string(out) == body
}

func (l *lab) expect(step string, trusted, untrusted bool) {
	l.t.Helper()
	// Both clients at once: a dropped connection costs a time-out.
	var gotU bool
	done := make(chan struct{})
	go func() { defer close(done); gotU = l.canTransfer(l.untruste) }()
	gotT := l.canTransfer(l.trusted)
	<-done
	if gotT != trusted {
		l.t.Errorf("%s: trusted client transfer = %v, want %v", step, gotT, trusted)
	}
	if gotU != untrusted {
		l.t.Errorf("%s: untrusted client transfer = %v, want %v", step, gotU, untrusted)
	}
}

// settle checks, until it holds or within has passed, what a timer of the
// firewall's own (an expiring allow, the watchdog's rollback) must bring
// about; then reports like expect. A loaded machine moves such a timer's
// effect by seconds, never whether it comes.
func (l *lab) settle(step string, trusted, untrusted bool, within time.Duration) {
	l.t.Helper()
	for end := time.Now().Add(within); time.Now().Before(end); time.Sleep(500 * time.Millisecond) {
		if l.canTransfer(l.trusted) == trusted && l.canTransfer(l.untruste) == untrusted {
			return
		}
	}
	l.expect(step, trusted, untrusted)
}

// allowBlockRollback is what every backend must do, starting from rules
// that let both clients in: allow the trusted client only (afterAllow, if
// set, checks more there), block both, then roll back twice to where it
// started, and no further.
func (l *lab) allowBlockRollback(ctx context.Context, m *Manager, trusted []netip.Prefix, passive PortRange, afterAllow func()) {
	t := l.t
	t.Helper()
	l.expect("open to both", true, true)
	if err := m.Apply(ctx, Policy{Allow: trusted, Passive: passive}); err != nil {
		t.Fatal(err)
	}
	l.expect("allow trusted", true, false)
	if !l.canTransfer6(l.trusted) {
		t.Error("allow trusted: IPv6 transfer from the trusted client failed")
	}
	if afterAllow != nil {
		afterAllow()
	}
	if err := m.Apply(ctx, Policy{Block: true, Passive: passive}); err != nil {
		t.Fatal(err)
	}
	l.expect("block", false, false)
	if l.canTransfer6(l.trusted) {
		t.Error("block: IPv6 transfer from the trusted client succeeded")
	}
	if err := m.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	l.expect("rollback to allow", true, false)
	if err := m.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	l.expect("rollback to the start", true, true)
	if err := m.Rollback(ctx); !errors.Is(err, ErrNothingToRollback) {
		t.Errorf("third rollback: %v, want ErrNothingToRollback", err)
	}
}

func TestApplyNetns(t *testing.T) {
	requireRoot(t)
	if testing.Short() {
		t.Skip("network namespace test skipped in -short mode")
	}
	bin := buildPort21(t)
	for _, b := range []Backend{NFTables, IPTables} {
		t.Run(string(b), func(t *testing.T) {
			t.Parallel()
			l := newLab(t, bin)
			m, err := NewManager(b, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			m.run = execRunner{prefix: []string{"ip", "netns", "exec", l.srv}}
			ctx := context.Background()
			trusted := []netip.Prefix{netip.MustParsePrefix("198.51.100.2/32"), netip.MustParsePrefix("fd00:21::2/128")}
			passive := PortRange{50000, 50010}

			l.allowBlockRollback(ctx, m, trusted, passive, nil)

			// --for: the allow closes by itself. 8 s: the check right
			// after the apply must fit in it on a loaded machine.
			const forAllow = 8 * time.Second
			start := time.Now()
			if err := m.Apply(ctx, Policy{Allow: trusted, Passive: passive, For: forAllow}); err != nil {
				t.Fatal(err)
			}
			l.expect("allow for 8s", true, false)
			time.Sleep(time.Until(start.Add(forAllow)))
			l.settle("after 8s", false, false, 30*time.Second)
			if err := m.Rollback(ctx); err != nil {
				t.Fatal(err)
			}
			l.expect("rollback after --for", true, true)

			// --confirm through the CLI: the watchdog is a detached process
			// that outlives the command.
			state := t.TempDir()
			cli := func(args ...string) string {
				t.Helper()
				full := append([]string{"netns", "exec", l.srv, l.bin, "firewall"}, args...)
				full = append(full, "--backend", string(b), "--state-dir", state)
				out, err := exec.Command("ip", full...).CombinedOutput()
				if err != nil {
					t.Fatalf("port21 firewall %s: %v\n%s", strings.Join(args, " "), err, out)
				}
				return string(out)
			}
			// Windows of 8 s: the check (or the confirm) that must come
			// inside one has to fit on a loaded machine.
			start = time.Now() // the deadline counts from the apply's end, after this
			cli("apply", "--allow", "198.51.100.2", "--passive-ports", "50000-50010", "--confirm", "8s")
			l.expect("unconfirmed apply", true, false)
			if time.Since(start) > 6*time.Second {
				t.Logf("the machine is slow: unconfirmed-apply checks took %s", time.Since(start))
			}
			time.Sleep(time.Until(start.Add(8 * time.Second)))
			l.settle("confirm deadline passed", true, true, 30*time.Second)
			cli("apply", "--allow", "198.51.100.2", "--passive-ports", "50000-50010", "--confirm", "8s")
			applied := time.Now()
			if out, err := exec.Command("ip", "netns", "exec", l.srv, l.bin, "firewall", "confirm", "--state-dir", state).CombinedOutput(); err != nil {
				t.Fatalf("port21 firewall confirm: %v\n%s", err, out)
			}
			time.Sleep(time.Until(applied.Add(9 * time.Second))) // past the deadline
			l.expect("confirmed apply", true, false)
			out, err := exec.Command("ip", "netns", "exec", l.srv, l.bin, "firewall", "status", "--passive-ports", "50000-50010", "--format", "json").CombinedOutput()
			if err != nil {
				t.Fatalf("status: %v\n%s", err, out)
			}
			var st Status
			if err := json.Unmarshal(out, &st); err != nil {
				t.Fatalf("status: %v\n%s", err, out)
			}
			for _, want := range []struct {
				ports, family string
				access        Access
				allowed       string
			}{
				{"21", "ipv4", Restricted, "198.51.100.2/32"},
				{"50000-50010", "ipv4", Restricted, "198.51.100.2/32"},
				{"21", "ipv6", Blocked, ""},
				{"990", "ipv4", Open, ""},
			} {
				found := false
				for _, p := range st.Ports {
					if p.Ports == want.ports && p.Family == want.family {
						found = true
						if p.Access != want.access || strings.Join(p.Allowed, ",") != want.allowed {
							t.Errorf("status %s/%s = %v %v, want %v %s", want.ports, want.family, p.Access, p.Allowed, want.access, want.allowed)
						}
					}
				}
				if !found {
					t.Errorf("status lacks %s/%s:\n%s", want.ports, want.family, out)
				}
			}
			cli("rollback")
			l.expect("rollback of confirmed apply", true, true)
		})
	}
}

// lockedLog collects the output of both servers: each has its own copying
// goroutine, so writes must not interleave unguarded.
type lockedLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
