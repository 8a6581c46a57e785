package peers

import (
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/port21/port21/internal/ftp"
	"github.com/port21/port21/internal/testpeers"
)

// traits is what a peer does on the wire, checked here by hand so that the
// expectations of the scan tests rest on observed behaviour, not on what the
// configuration templates claim.
type traits struct {
	version   bool // the greeting names the upstream version
	cleartext bool // "USER x" before AUTH TLS is answered 331
	tls       bool // AUTH TLS, then TLS 1.2 or later with the peer's certificate
	legacyTLS bool // a handshake limited to TLS 1.0-1.1 succeeds
	anonymous bool // USER anonymous logs in
	anonWrite bool // anonymous STOR into upload/ succeeds
	bounce    bool // after an anonymous login, PORT to 198.51.100.1 is accepted
}

// expectedTraits is the behaviour each configuration template is written
// to produce; see the comments in internal/testpeers/testdata.
var expectedTraits = map[testpeers.Product]map[testpeers.Profile]traits{
	testpeers.VSFTPD: {
		testpeers.ProfileBad:      {version: true, cleartext: true, anonymous: true, anonWrite: true, bounce: true},
		testpeers.ProfileHardened: {tls: true},
	},
	testpeers.ProFTPD: {
		testpeers.ProfileBad:      {version: true, cleartext: true, tls: true, legacyTLS: true, anonymous: true, anonWrite: true, bounce: true},
		testpeers.ProfileHardened: {tls: true},
	},
	testpeers.PureFTPd: {
		// Pure-FTPd never shows its version, and 1.0.50 refuses TLS 1.0 and 1.1.
		testpeers.ProfileBad:      {cleartext: true, tls: true, anonymous: true, anonWrite: true, bounce: true},
		testpeers.ProfileHardened: {tls: true},
	},
}

// TestPeersStart starts every product in every profile and checks, with a
// hand-driven control connection, that it behaves as its profile says.
func TestPeersStart(t *testing.T) {
	for _, product := range testpeers.Products() {
		for _, profile := range testpeers.Profiles() {
			t.Run(string(product)+"/"+string(profile), func(t *testing.T) {
				want := expectedTraits[product][profile]
				peer := testpeers.Start(t, product, profile)
				if peer.PassiveMin < 45000 || peer.PassiveMax > 49999 || peer.PassiveMin > peer.PassiveMax {
					t.Errorf("passive range %d-%d outside 45000-49999", peer.PassiveMin, peer.PassiveMax)
				}
				if _, err := os.Stat(peer.ConfigPath); err != nil {
					t.Errorf("ConfigPath: %v", err)
				}
				got := observe(t, peer)
				if got != want {
					t.Errorf("traits:\n got %+v\nwant %+v", got, want)
				}
			})
		}
	}
}

// TestPeersIsolated starts two peers of one product at once: their ports
// and passive ranges must differ, and stopping one leaves the other up.
func TestPeersIsolated(t *testing.T) {
	a := testpeers.Start(t, testpeers.VSFTPD, testpeers.ProfileBad)
	var b *testpeers.Peer
	t.Run("second", func(t *testing.T) {
		b = testpeers.Start(t, testpeers.VSFTPD, testpeers.ProfileBad)
		if a.Port == b.Port || a.PID == b.PID {
			t.Errorf("same port or PID: %s pid %d, %s pid %d", a.Addr, a.PID, b.Addr, b.PID)
		}
		if a.PassiveMin <= b.PassiveMax && b.PassiveMin <= a.PassiveMax {
			t.Errorf("passive ranges overlap: %d-%d and %d-%d", a.PassiveMin, a.PassiveMax, b.PassiveMin, b.PassiveMax)
		}
	})
	// The subtest's cleanup stopped b, by its PID.
	if b != nil {
		if err := processGone(b.PID, 5*time.Second); err != nil {
			t.Error(err)
		}
		if _, err := os.Stat(b.Dir); !os.IsNotExist(err) {
			t.Errorf("peer directory %s left behind: %v", b.Dir, err)
		}
	}
	c := dialControl(t, a.Addr)
	if c.greeting.Code != 220 {
		t.Errorf("first peer after the second stopped: %s", replyText(c.greeting))
	}
}

// processGone waits until pid no longer exists (or is a zombie).
func processGone(pid int, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
		if err != nil {
			return nil
		}
		if f := strings.Fields(string(stat)); len(f) > 2 && f[2] == "Z" {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("process %d still running %v after its test ended", pid, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// observe measures a peer's traits on fresh control connections.
func observe(t *testing.T, peer *testpeers.Peer) traits {
	t.Helper()
	var got traits

	c := dialControl(t, peer.Addr)
	if c.greeting.Code != 220 {
		t.Fatalf("greeting: %s", replyText(c.greeting))
	}
	got.version = strings.Contains(c.greeting.String(), peer.UpstreamVersion)
	// A user name that exists nowhere; no password is ever sent.
	r := c.cmd("USER port21-no-such-user")
	got.cleartext = r.Code == 331
	t.Logf("USER before TLS: %s", replyText(r))

	c = dialControl(t, peer.Addr)
	if peer.CertFile != "" {
		_, state, err := c.startTLS(trusting(t, peer.CertFile))
		if err != nil {
			t.Logf("TLS: %v", err)
		}
		got.tls = err == nil && state.Version >= tls.VersionTLS12
		if got.tls {
			c = dialControl(t, peer.Addr)
			_, state, err := c.startTLS(legacyTLS(trusting(t, peer.CertFile)))
			got.legacyTLS = err == nil
			t.Logf("legacy TLS: %s, %v", tls.VersionName(state.Version), err)
		}
	} else if r := c.cmd("AUTH TLS"); r.Code == 234 {
		t.Errorf("AUTH TLS accepted by a peer without a certificate: %s", replyText(r))
	}

	c = dialControl(t, peer.Addr)
	if !loginAnonymous(c) {
		return got
	}
	got.anonymous = true
	// Only the reply counts: no transfer follows, so nothing connects anywhere.
	r = c.cmd("PORT 198,51,100,1,80,80")
	got.bounce = r.Code == 200
	t.Logf("PORT to a third party: %s", replyText(r))

	c = dialControl(t, peer.Addr)
	loginAnonymous(c)
	got.anonWrite = storeAnonymous(t, c, peer)
	return got
}

// loginAnonymous logs in as anonymous with the conventional e-mail
// address as password.
func loginAnonymous(c *control) bool {
	r := c.cmd("USER anonymous")
	if r.Code == 331 {
		r = c.cmd("PASS port21@example.com")
	}
	return r.Code == 230
}

// storeAnonymous uploads a small file into upload/ over EPSV and checks it
// arrived in the peer's anonymous root.
func storeAnonymous(t *testing.T, c *control, peer *testpeers.Peer) bool {
	t.Helper()
	if r := c.cmd("TYPE I"); r.Code != 200 {
		t.Logf("TYPE I: %s", replyText(r))
		return false
	}
	r := c.cmd("EPSV")
	if r.Code != 229 {
		t.Logf("EPSV: %s", replyText(r))
		return false
	}
	port, err := ftp.ParseEPSVReply(r.Message())
	if err != nil {
		t.Fatalf("EPSV reply %s: %v", replyText(r), err)
	}
	data, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(int(port))), 5*time.Second)
	if err != nil {
		t.Fatalf("data connection: %v", err)
	}
	defer data.Close()
	if int(port) < peer.PassiveMin || int(port) > peer.PassiveMax {
		t.Errorf("passive port %d outside the peer's range %d-%d", port, peer.PassiveMin, peer.PassiveMax)
	}
	const name, body = "port21-probe.txt", "written by TestPeersStart\n"
	if r := c.cmd("STOR upload/%s", name); r.Code != 150 && r.Code != 125 {
		t.Logf("STOR: %s", replyText(r))
		return false
	}
	data.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := data.Write([]byte(body)); err != nil {
		t.Fatalf("data: %v", err)
	}
	data.Close()
	if r := c.read(); r.Code != 226 {
		t.Logf("STOR end: %s", replyText(r))
		return false
	}
	got, err := os.ReadFile(filepath.Join(peer.AnonRoot, "upload", name))
	if err != nil || string(got) != body {
		t.Errorf("uploaded file: %q, %v", got, err)
		return false
	}
	return true
}
