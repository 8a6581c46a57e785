package firewall

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/port21/port21/internal/testpeers"
)

// ufw and firewalld are tested for real in the lab's server namespace: the
// Debian packages are unpacked (never installed) and laid over /usr and
// /etc with overlayfs in a private mount namespace held by a sleeping
// process. Commands enter that mount namespace with nsenter, then the
// network namespace with `ip netns exec`, so the machine's own /etc, its
// rules and its D-Bus are never touched: firewalld gets a bus of its own.

// manager is a firewall manager running in a lab's server namespace.
type manager struct {
	prefix []string // runs a command in the manager's namespaces
}

// run runs a command where the manager is, failing the test on error.
func (m manager) run(t *testing.T, args ...string) string {
	t.Helper()
	argv := append(append([]string(nil), m.prefix...), args...)
	out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// overlayHolder unpacks the packages and starts the process that holds the
// mount namespace with them laid over the machine's directories; setup
// runs there first (as sh -c). It returns nsenter's prefix.
func overlayHolder(t *testing.T, name string, packages []string, setup string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	dir, _, err := testpeers.Unpack(ctx, name, packages...)
	if err != nil {
		skipOrFail(t, "unpack "+name+": "+err.Error())
	}
	for _, tool := range []string{"nsenter", "unshare"} {
		if _, err := exec.LookPath(tool); err != nil {
			skipOrFail(t, tool+" not installed (Debian package util-linux)")
		}
	}
	tmp := t.TempDir()
	// Debian's /lib is /usr/lib: packages that ship files under /lib get
	// them laid over /usr/lib.
	script := `set -e
T="$1"; P="$2"
mkdir -p "$T/usr" "$T/uw" "$T/etc" "$T/ew" "$T/lib" "$T/lw" "$T/empty"
lib="$T/empty"; [ -d "$P/lib" ] && lib="$P/lib"
mount -t overlay overlay -o "lowerdir=$P/usr:/usr,upperdir=$T/usr,workdir=$T/uw" /usr
mount -t overlay overlay -o "lowerdir=$lib:/usr/lib,upperdir=$T/lib,workdir=$T/lw" /usr/lib
mount -t overlay overlay -o "lowerdir=$P/etc:/etc,upperdir=$T/etc,workdir=$T/ew" /etc
` + setup + `
echo ready
exec sleep 900`
	cmd := exec.Command("unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", tmp, dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if sc.Text() == "ready" {
				ready <- true
				return
			}
		}
		ready <- false
	}()
	select {
	case ok := <-ready:
		if !ok {
			t.Fatalf("%s overlay: %s", name, stderr.String())
		}
	case <-time.After(time.Minute):
		t.Fatalf("%s overlay did not come up: %s", name, stderr.String())
	}
	return []string{"nsenter", "--mount=/proc/" + strconv.Itoa(cmd.Process.Pid) + "/ns/mnt"}
}

// startUFW enables a fresh ufw (default: deny incoming) in the lab's server
// namespace, with an administrator's rules opening FTP to everyone.
func startUFW(t *testing.T, l *lab) manager {
	t.Helper()
	// What ufw's maintainer script does on install: the rules files.
	ns := overlayHolder(t, "ufw", []string{"ufw"}, `for f in before.rules before6.rules after.rules after6.rules user.rules user6.rules ufw.conf; do cp "/usr/share/ufw/$f" "/etc/ufw/$f"; done`)
	m := manager{prefix: append(ns, "ip", "netns", "exec", l.srv)}
	m.run(t, "ufw", "--force", "enable")
	// 21/tcp shares its match with port21's deny (ufw keeps one rule per
	// match, so apply must move it aside); 21 (TCP and UDP) does not.
	m.run(t, "ufw", "allow", "21/tcp")
	m.run(t, "ufw", "allow", "21")
	m.run(t, "ufw", "allow", "50000:50010/tcp")
	return m
}

// startFirewalld runs firewalld in the lab's server namespace on a D-Bus
// system bus of its own, with the ftp service and the passive range opened
// to everyone by an administrator, at runtime and permanently.
func startFirewalld(t *testing.T, l *lab) manager {
	t.Helper()
	for _, tool := range []string{"dbus-daemon", "python3"} {
		if _, err := exec.LookPath(tool); err != nil {
			skipOrFail(t, tool+" not installed")
		}
	}
	ns := overlayHolder(t, "firewalld", []string{"firewalld", "python3-firewall"}, "")
	busDir := t.TempDir()
	bus := "unix:path=" + filepath.Join(busDir, "bus")
	conf := `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN" "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>` + bus + `</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="root"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow send_type="method_call"/>
    <allow send_type="signal"/>
    <allow receive_sender="*"/>
    <allow receive_type="*"/>
  </policy>
</busconfig>
`
	confPath := filepath.Join(busDir, "bus.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"env", "DBUS_SYSTEM_BUS_ADDRESS=" + bus}
	m := manager{prefix: append(append(env, ns...), "ip", "netns", "exec", l.srv)}
	var log lockedLog
	start := func(args ...string) {
		argv := append(append([]string(nil), m.prefix...), args...)
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Stdout, cmd.Stderr = &log, &log
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			// nsenter, env and ip netns exec all exec in place: the PID
			// is the daemon's.
			_ = cmd.Process.Signal(os.Interrupt)
			done := make(chan struct{})
			go func() { _ = cmd.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				_ = cmd.Process.Kill()
				<-done
			}
			if t.Failed() && args[0] == "firewalld" {
				t.Logf("firewalld and dbus-daemon log:\n%s", log.String())
			}
		})
	}
	start("dbus-daemon", "--nofork", "--config-file="+confPath)
	start("firewalld", "--nofork", "--nopid")
	deadline := time.Now().Add(60 * time.Second)
	for {
		argv := append(append([]string(nil), m.prefix...), "firewall-cmd", "--state")
		out, _ := exec.Command(argv[0], argv[1:]...).Output()
		if strings.TrimSpace(string(out)) == "running" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("firewalld did not start:\n%s", log.String())
		}
		time.Sleep(300 * time.Millisecond)
	}
	for _, perm := range [][]string{nil, {"--permanent"}} {
		for _, e := range []string{"--add-service=ftp", "--add-port=50000-50010/tcp"} {
			m.run(t, append(append([]string{"firewall-cmd"}, perm...), e)...)
		}
	}
	return m
}

func TestApplyManagersNetns(t *testing.T) {
	requireRoot(t)
	if testing.Short() {
		t.Skip("network namespace test skipped in -short mode")
	}
	bin := buildPort21(t)
	for _, b := range []Backend{UFW, Firewalld} {
		t.Run(string(b), func(t *testing.T) {
			t.Parallel()
			l := newLab(t, bin)
			var fw manager
			if b == UFW {
				fw = startUFW(t, l)
			} else {
				fw = startFirewalld(t, l)
			}
			m, err := NewManager(b, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			m.run = execRunner(fw) // the same prefix
			ctx := context.Background()
			trusted := []netip.Prefix{netip.MustParsePrefix("198.51.100.2/32"), netip.MustParsePrefix("fd00:21::2/128")}
			passive := PortRange{50000, 50010}
			rules := func() string {
				if b == UFW {
					return fw.run(t, "ufw", "show", "added")
				}
				return fw.run(t, "firewall-cmd", "--list-all") + fw.run(t, "firewall-cmd", "--permanent", "--list-all")
			}
			before := rules()

			l.allowBlockRollback(ctx, m, trusted, passive, func() {
				// status reads what the manager made of the rules.
				argv := append(append([]string(nil), fw.prefix...), l.bin, "firewall", "status", "--passive-ports", "50000-50010", "--format", "json")
				out, err := exec.Command(argv[0], argv[1:]...).Output()
				if err != nil {
					t.Fatalf("status: %v\n%s", err, out)
				}
				var st Status
				if err := json.Unmarshal(out, &st); err != nil {
					t.Fatalf("status: %v\n%s", err, out)
				}
				for _, p := range st.Ports {
					want := map[string]string{"ipv4": "198.51.100.2/32", "ipv6": "fd00:21::2/128"}[p.Family]
					if p.Ports == "990" {
						continue
					}
					if p.Access != Restricted || strings.Join(p.Allowed, ",") != want {
						t.Errorf("status %s/%s = %v %v, want restricted to %s (%v)", p.Ports, p.Family, p.Access, p.Allowed, want, p.Rules)
					}
				}
			})
			if after := rules(); !sameLines(before, after) {
				t.Errorf("rules after the rollbacks differ:\nbefore:\n%s\nafter:\n%s", before, after)
			}

			if b == UFW {
				// ufw has nothing that expires: --for is refused, and
				// nothing changes.
				err := m.Apply(ctx, Policy{Allow: trusted, Passive: passive, For: 2 * time.Second})
				if !errors.Is(err, ErrUnsupported) {
					t.Errorf("ufw --for: %v, want ErrUnsupported", err)
				}
			} else {
				// firewall-cmd is slow (a Python start and a D-Bus call per
				// step): the allow must outlast the apply and one check.
				// firewalld times each rule from its own addition, so an
				// apply that took half the window (a loaded machine: 24 s
				// once) is rolled back and made again with a longer one.
				expiry := 10 * time.Second
				var start time.Time
				for try := 1; ; try++ {
					start = time.Now()
					if err := m.Apply(ctx, Policy{Allow: trusted, Passive: passive, For: expiry}); err != nil {
						t.Fatal(err)
					}
					d := time.Since(start)
					if d <= expiry/2 || try == 3 {
						break
					}
					t.Logf("the machine is slow: the apply took %s of a %s allow; again with %s", d, expiry, 4*d)
					if err := m.Rollback(ctx); err != nil {
						t.Fatal(err)
					}
					expiry = 4 * d
				}
				l.expect("allow for 10s", true, false)
				// firewalld removes the allows on its own timer: wait for
				// that (bounded), then nobody may connect.
				time.Sleep(time.Until(start.Add(expiry)))
				for strings.Contains(fw.run(t, "firewall-cmd", "--list-rich-rules"), "accept") {
					if time.Since(start) > expiry+time.Minute {
						t.Fatal("the expiring allows are still there a minute after --for")
					}
					time.Sleep(500 * time.Millisecond)
				}
				l.expect("after 10s", false, false)
				// The permanent configuration has the drops and not the
				// expiring allows: a reload keeps the ports closed.
				fw.run(t, "firewall-cmd", "--reload")
				l.expect("after 3s and a reload", false, false)
				if err := m.Rollback(ctx); err != nil {
					t.Fatal(err)
				}
				l.expect("rollback after --for", true, true)
			}

			// --confirm through the CLI: the watchdog rolls back by itself.
			state := t.TempDir()
			cli := append(append([]string(nil), fw.prefix...), l.bin, "firewall", "apply", "--allow", "198.51.100.2",
				"--passive-ports", "50000-50010", "--confirm", "8s", "--backend", string(b), "--state-dir", state)
			start := time.Now()
			if out, err := exec.Command(cli[0], cli[1:]...).CombinedOutput(); err != nil {
				t.Fatalf("port21 firewall apply: %v\n%s", err, out)
			}
			l.expect("unconfirmed apply", true, false)
			// The deadline counts from the end of the apply, and the
			// rollback is several firewall-cmd calls: wait for the
			// watchdog to be done (it removes pending.json last).
			for {
				if _, err := os.Stat(filepath.Join(state, "pending.json")); errors.Is(err, os.ErrNotExist) {
					break
				}
				if time.Since(start) > time.Minute {
					t.Fatal("the watchdog did not roll back within a minute")
				}
				time.Sleep(200 * time.Millisecond)
			}
			l.expect("confirm deadline passed", true, true)
			if t.Failed() {
				wlog, _ := os.ReadFile(filepath.Join(state, "watchdog.log"))
				t.Logf("watchdog.log:\n%s", wlog)
			}
			if after := rules(); !sameLines(before, after) {
				t.Errorf("rules after the watchdog's rollback differ:\nbefore:\n%s\nafter:\n%s", before, after)
			}
		})
	}
}

// sameLines compares two listings regardless of line order and spacing.
func sameLines(a, b string) bool {
	norm := func(s string) string {
		var lines []string
		for l := range strings.SplitSeq(s, "\n") {
			if l = strings.Join(strings.Fields(l), " "); l != "" {
				lines = append(lines, l)
			}
		}
		slices.Sort(lines)
		return strings.Join(lines, "\n")
	}
	return norm(a) == norm(b)
}
