package server

import (
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/port21/port21/internal/certs"
	"github.com/port21/port21/internal/config"
	wire "github.com/port21/port21/internal/ftp"
	"github.com/port21/port21/internal/users"
)

// PROXY protocol (issue 9): a trusted load balancer names the client in a
// header, and that address is the session's for every check; anyone else's
// header is ignored. The "proxy" in these tests is the test itself,
// connecting from 127.0.0.1 and writing the header by hand.

func trustLoopback1(c *config.Config) { c.TrustedProxies = []string{"127.0.0.1/32"} }

func proxyV1(client string) []byte {
	ap := netip.MustParseAddrPort(client)
	return fmt.Appendf(nil, "PROXY TCP4 %s 127.0.0.1 %d 21\r\n", ap.Addr(), ap.Port())
}

func proxyV2(client string) []byte {
	ap := netip.MustParseAddrPort(client)
	src := ap.Addr().As4()
	b := []byte("\r\n\r\n\x00\r\nQUIT\n\x21\x11\x00\x0c")
	b = append(b, src[:]...)
	b = append(b, 127, 0, 0, 1)
	b = binary.BigEndian.AppendUint16(b, ap.Port())
	return binary.BigEndian.AppendUint16(b, 21)
}

// dialWithHeader connects from the loopback address from, writes header,
// and returns the connection.
func dialWithHeader(t *testing.T, addr, from string, header []byte) net.Conn {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second, LocalAddr: net.TCPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr(from), 0))}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := c.Write(header); err != nil {
		t.Fatal(err)
	}
	return c
}

// proxied is a raw client behind the test's "proxy" at 127.0.0.1, for the
// client the header names: its data connections come from that address,
// directly, as they do behind a real load balancer.
func (ts *testServer) proxied(t *testing.T, header []byte, client string) *rawClient {
	t.Helper()
	return ts.proxiedVia(t, "127.0.0.1", header, client)
}

// proxiedVia is proxied through a proxy at another loopback address.
func (ts *testServer) proxiedVia(t *testing.T, proxy string, header []byte, client string) *rawClient {
	t.Helper()
	c := dialWithHeader(t, ts.addr, proxy, header)
	rc := &rawClient{t: t, conn: c, r: wire.NewReader(c), from: client}
	rc.expect(220)
	return rc
}

// closedSilently reports whether the server closed c without a byte (a
// close with the header unread is a reset).
func closedSilently(c net.Conn) bool {
	c.SetReadDeadline(time.Now().Add(15 * time.Second))
	b, err := io.ReadAll(c)
	return len(b) == 0 && (err == nil || errors.Is(err, syscall.ECONNRESET))
}

func TestProxyHeaderIsTheClientAddress(t *testing.T) {
	ts := startServer(t, trustLoopback1)
	ts.addUser(t, "alice", nil)
	for _, tc := range []struct {
		name   string
		header []byte
	}{{"v1", proxyV1("127.0.0.9:40001")}, {"v2", proxyV2("127.0.0.9:40002")}} {
		t.Run(tc.name, func(t *testing.T) {
			rc := ts.proxied(t, tc.header, "127.0.0.9")
			rc.login("alice", clientTLS())
			rc.cmd(200, "TYPE I")
			if !eventually(2*time.Second, func() bool {
				return strings.Contains(ts.logs.String(), "client=127.0.0.9:4000") && strings.Contains(ts.logs.String(), "proxy=127.0.0.1:")
			}) {
				t.Errorf("log does not name the PROXY client and the proxy:\n%s", ts.logs.String())
			}
			// A passive transfer, data connection straight from the client.
			writeFile(t, ts.home("alice")+"/f.txt", []byte("hello through the proxy\n"))
			if _, got := rc.transfer("RETR f.txt", nil, 226); string(got) != "hello through the proxy\n" {
				t.Errorf("RETR got %q", got)
			}
		})
	}
}

// STAT shows the address the session believes, so it must be the client's.
func TestProxyStatShowsTheClient(t *testing.T) {
	ts := startServer(t, trustLoopback1)
	ts.addUser(t, "alice", nil)
	rc := ts.proxied(t, proxyV1("127.0.0.9:40010"), "127.0.0.9")
	rc.login("alice", clientTLS())
	if rep := rc.cmd(211, "STAT"); !strings.Contains(rep.Message(), "Connected from 127.0.0.9") {
		t.Errorf("STAT: %q", rep.Message())
	}
}

// From a trusted proxy, anything but a valid header with a TCP client
// address is refused, without a reply, and never hangs.
func TestProxyTrustedPeerMustSendAValidHeader(t *testing.T) {
	ts := startServer(t, trustLoopback1, func(c *config.Config) { c.LoginTimeout = config.Duration{Duration: 2 * time.Second} })
	for _, tc := range []struct{ name, header string }{
		{"FTP without a header", "USER alice\r\n"},
		{"v1 UNKNOWN", "PROXY UNKNOWN\r\n"},
		{"v1 malformed", "PROXY TCP4 127.0.0.9 127.0.0.1 99999 21\r\n"},
		{"v1 too long", "PROXY TCP4 " + strings.Repeat("1", 300) + "\r\n"},
		{"v2 UNIX", "\r\n\r\n\x00\r\nQUIT\n\x21\x31\x00\xd8" + strings.Repeat("\x00", 216)},
		{"v2 length above the bound", "\r\n\r\n\x00\r\nQUIT\n\x21\x11\xff\xff" + strings.Repeat("\x00", 2000)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dialWithHeader(t, ts.addr, "127.0.0.1", []byte(tc.header))
			if !closedSilently(c) {
				t.Error("not closed without a reply")
			}
		})
	}
	// Below 8 s: room for a loaded machine, yet a close only at
	// proxyHeaderTimeout (10 s), not the login time-out, still fails.
	t.Run("nothing at all", func(t *testing.T) {
		start := time.Now()
		c := dialWithHeader(t, ts.addr, "127.0.0.1", nil)
		if !closedSilently(c) {
			t.Error("not closed without a reply")
		}
		if d := time.Since(start); d > 8*time.Second {
			t.Errorf("a silent proxy connection held for %v (login-timeout 2s)", d)
		}
	})
	t.Run("half a header", func(t *testing.T) {
		start := time.Now()
		c := dialWithHeader(t, ts.addr, "127.0.0.1", []byte("PROXY TCP4 127.0"))
		if !closedSilently(c) {
			t.Error("not closed without a reply")
		}
		if d := time.Since(start); d > 8*time.Second {
			t.Errorf("a stalled header held for %v (login-timeout 2s)", d)
		}
	})
	if !strings.Contains(ts.logs.String(), "no valid PROXY protocol header from a trusted proxy") {
		t.Errorf("refusals not logged:\n%s", ts.logs.String())
	}
}

// A v2 LOCAL header is the proxy's own health check: served, as the proxy.
func TestProxyV2LocalIsTheProxy(t *testing.T) {
	ts := startServer(t, trustLoopback1)
	c := dialWithHeader(t, ts.addr, "127.0.0.1", []byte("\r\n\r\n\x00\r\nQUIT\n\x20\x00\x00\x00"))
	r := wire.NewReader(c)
	if rep, err := wire.ReadReply(r); err != nil || rep.Code != 220 {
		t.Fatalf("LOCAL: %v %v", rep, err)
	}
}

// Attack: a client that is not a trusted proxy sends a header naming an
// address that is allowed, or not banned. It is not believed: the session
// is the sender's, so the allow list still drops it, the ban still holds,
// and the header is a bad command.
func TestProxySpoofedHeaderFromUntrustedPeer(t *testing.T) {
	t.Run("does not change the address", func(t *testing.T) {
		ts := startServer(t, trustLoopback1)
		ts.addUser(t, "alice", nil)
		c := dialWithHeader(t, ts.addr, "127.0.0.2", proxyV1("127.0.0.9:40020"))
		rc := &rawClient{t: t, conn: c, r: wire.NewReader(c), from: "127.0.0.2"}
		rc.expect(220)
		rc.expect(500) // "PROXY TCP4 ..." is no FTP command
		rc.login("alice", clientTLS())
		if rep := rc.cmd(211, "STAT"); !strings.Contains(rep.Message(), "Connected from 127.0.0.2") {
			t.Errorf("STAT: %q", rep.Message())
		}
		if strings.Contains(ts.logs.String(), "127.0.0.9") {
			t.Errorf("the spoofed address reached the log:\n%s", ts.logs.String())
		}
	})
	t.Run("cannot pass the allow list", func(t *testing.T) {
		ts := startServer(t, trustLoopback1, func(c *config.Config) { c.Allow = []string{"127.0.0.9"} })
		for _, h := range [][]byte{proxyV1("127.0.0.9:40021"), proxyV2("127.0.0.9:40022")} {
			c := dialWithHeader(t, ts.addr, "127.0.0.2", h)
			if !closedSilently(c) {
				t.Error("a spoofed allowed address got through")
			}
		}
		// Through the trusted proxy, the same address is allowed.
		ts.proxied(t, proxyV1("127.0.0.9:40023"), "127.0.0.9")
	})
	t.Run("cannot shed a ban", func(t *testing.T) {
		ts := startServer(t, trustLoopback1, func(c *config.Config) { c.MaxLoginFailures = 1 })
		ts.addUser(t, "alice", nil)
		rc := ts.rawFrom(t, "127.0.0.2")
		rc.startTLS(clientTLS())
		rc.cmd(331, "USER alice")
		rc.send("PASS wrong")
		rc.read()
		if !eventually(3*time.Second, func() bool { b, _ := ts.srv.defender.Banned(netip.MustParseAddr("127.0.0.2")); return b }) {
			t.Fatal("127.0.0.2 not banned")
		}
		for _, h := range [][]byte{proxyV1("127.0.0.9:40024"), proxyV2("127.0.0.9:40025")} {
			c := dialWithHeader(t, ts.addr, "127.0.0.2", h)
			if !closedSilently(c) {
				t.Error("a banned address got through with a spoofed header")
			}
		}
	})
}

// Attack: a client behind the proxy guesses passwords. The ban is for its
// own address, not the proxy's, so other clients behind the same proxy
// still get in, and the banned client does not, through the proxy or not.
func TestProxyBanIsForTheClient(t *testing.T) {
	ts := startServer(t, trustLoopback1, func(c *config.Config) { c.MaxLoginFailures = 2 })
	ts.addUser(t, "alice", nil)
	for i := range 2 {
		rc := ts.proxied(t, proxyV1(fmt.Sprintf("127.0.0.9:%d", 40030+i)), "127.0.0.9")
		rc.startTLS(clientTLS())
		rc.cmd(331, "USER alice")
		rc.send("PASS wrong")
		rc.read() // 530, or 421 when this failure bans
	}
	if !eventually(3*time.Second, func() bool { b, _ := ts.srv.defender.Banned(netip.MustParseAddr("127.0.0.9")); return b }) {
		t.Fatalf("127.0.0.9 not banned:\n%s", ts.logs.String())
	}
	if b, _ := ts.srv.defender.Banned(netip.MustParseAddr("127.0.0.1")); b {
		t.Fatal("the proxy's address was banned")
	}
	bans, err := ts.store.Bans(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var stored []string
	for _, b := range bans {
		stored = append(stored, b.Prefix.String())
	}
	if len(stored) != 1 || stored[0] != "127.0.0.9/32" {
		t.Errorf("bans in the store: %v, want only 127.0.0.9/32", stored)
	}
	// The banned client, through the proxy: dropped before a byte.
	if c := dialWithHeader(t, ts.addr, "127.0.0.1", proxyV1("127.0.0.9:40040")); !closedSilently(c) {
		t.Error("banned client got through the proxy")
	}
	// Another client through the same proxy logs in.
	rc := ts.proxied(t, proxyV2("127.0.0.10:40041"), "127.0.0.10")
	rc.login("alice", clientTLS())
}

// Attack: the data connection comes from the proxy's address (or anyone's
// but the client's). Data connections do not go through the proxy, so one
// from its address is not the client's: refused, and the client's own
// still gets the transfer.
func TestProxyDataConnectionFromTheProxyIsRefused(t *testing.T) {
	ts := startServer(t, trustLoopback1)
	ts.addUser(t, "alice", func(u *users.User) { u.TLSReuseOptional = true })
	writeFile(t, ts.home("alice")+"/f.txt", []byte("secret\n"))
	rc := ts.proxied(t, proxyV1("127.0.0.9:40050"), "127.0.0.9")
	rc.login("alice", clientTLS())
	rc.cmd(200, "TYPE I")
	addr := rc.epsv()
	thief, err := dialData(t, addr, "127.0.0.1", nil)
	if err == nil {
		thief.SetReadDeadline(time.Now().Add(3 * time.Second))
		if b, _ := io.ReadAll(thief); len(b) != 0 {
			t.Fatalf("the proxy's address got %q", b)
		}
		thief.Close()
	}
	if !eventually(2*time.Second, func() bool {
		return strings.Contains(ts.logs.String(), "reason=foreign-address")
	}) {
		t.Fatalf("no refusal logged:\n%s", ts.logs.String())
	}
	if _, got := rc.transferAt(addr, "RETR f.txt", nil, 226); string(got) != "secret\n" {
		t.Errorf("the client's own data connection got %q", got)
	}
}

// Attack: behind a proxy on the same host every client would look like
// loopback, where an account with allow-cleartext and no allow list may
// log in without TLS. With the PROXY address, a remote client is remote.
func TestProxyRemoteClientIsNotLoopback(t *testing.T) {
	ts := startServer(t, trustLoopback1)
	ts.addUser(t, "alice", func(u *users.User) { u.AllowCleartext = true })
	rc := ts.proxied(t, proxyV1("192.0.2.7:40060"), "192.0.2.7")
	if rep := rc.cmd(530, "USER alice"); !strings.Contains(rep.Message(), "TLS required") {
		t.Errorf("USER in clear from a remote client: %q", rep.Message())
	}
	// The same header from the loopback client it names: cleartext is fine.
	rc = ts.proxied(t, proxyV1("127.0.0.9:40061"), "127.0.0.9")
	rc.cmd(331, "USER alice")
	rc.cmd(230, "PASS %s", testPassword)
}

// passive-host: the client's network picks the PASV address, with the
// PROXY-reported address as the client's; EPSV is unchanged.
func TestPassiveHostByClientNetwork(t *testing.T) {
	ts := startServer(t, func(c *config.Config) {
		c.TrustedProxies = []string{"127.0.0.5"}
		c.PassiveHost = []config.PassiveHost{
			{Networks: []string{"127.0.0.2/32"}, Host: "127.0.0.3"},
			{Networks: []string{"127.0.0.9/32", "10.0.0.0/8"}, Host: "127.0.0.4"},
		}
	})
	ts.addUser(t, "alice", nil)
	pasvHost := func(rc *rawClient) string {
		rep := rc.cmd(227, "PASV")
		ap, err := wire.ParsePASVReply(rep.Message())
		if err != nil {
			t.Fatalf("PASV reply %q: %v", rep.Message(), err)
		}
		return ap.Addr().String()
	}
	for _, tc := range []struct {
		name string
		rc   func() *rawClient
		want string
	}{
		{"127.0.0.1, no rule: the local address", func() *rawClient { return ts.rawFrom(t, "127.0.0.1") }, "127.0.0.1"},
		{"127.0.0.2, its rule", func() *rawClient { return ts.rawFrom(t, "127.0.0.2") }, "127.0.0.3"},
		{"127.0.0.9 through the proxy", func() *rawClient { return ts.proxiedVia(t, "127.0.0.5", proxyV2("127.0.0.9:40070"), "127.0.0.9") }, "127.0.0.4"},
		{"10.1.2.3 through the proxy", func() *rawClient { return ts.proxiedVia(t, "127.0.0.5", proxyV1("10.1.2.3:40071"), "10.1.2.3") }, "127.0.0.4"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rc := tc.rc()
			rc.login("alice", clientTLS())
			if got := pasvHost(rc); got != tc.want {
				t.Errorf("PASV announced %s, want %s", got, tc.want)
			}
			if rep := rc.cmd(229, "EPSV"); !strings.HasPrefix(rep.Message(), "Entering Extended Passive Mode (|||") {
				t.Errorf("EPSV: %q", rep.Message())
			}
		})
	}
	// And the announced address is one a client uses: from 127.0.0.1, a
	// transfer over PASV.
	writeFile(t, ts.home("alice")+"/f.txt", []byte("pasv\n"))
	rc := ts.rawFrom(t, "127.0.0.1")
	rc.login("alice", clientTLS())
	rc.cmd(200, "TYPE I")
	rep := rc.cmd(227, "PASV")
	ap, _ := wire.ParsePASVReply(rep.Message())
	if _, got := rc.transferAt(ap.String(), "RETR f.txt", nil, 226); string(got) != "pasv\n" {
		t.Errorf("RETR over PASV got %q", got)
	}
}

// On an implicit-TLS listener the header comes first, before the TLS
// handshake, as HAProxy sends it.
func TestProxyHeaderBeforeImplicitTLS(t *testing.T) {
	ts := startServer(t, trustLoopback1)
	ts.addUser(t, "alice", nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- ts.srv.Serve(t.Context(), ln, true) }()
	t.Cleanup(func() { ln.Close(); <-done })
	c := dialWithHeader(t, ln.Addr().String(), "127.0.0.1", proxyV2("127.0.0.9:40080"))
	tc := tls.Client(c, clientTLS())
	if err := tc.Handshake(); err != nil {
		t.Fatalf("handshake after the header: %v", err)
	}
	rc := &rawClient{t: t, conn: tc, r: wire.NewReader(tc), tls: clientTLS(), from: "127.0.0.9"}
	rc.expect(220)
	rc.cmd(331, "USER alice")
	rc.cmd(230, "PASS %s", testPassword)
	if rep := rc.cmd(211, "STAT"); !strings.Contains(rep.Message(), "Connected from 127.0.0.9") {
		t.Errorf("STAT: %q", rep.Message())
	}
}

// Active mode behind a proxy: PORT may name only the client's own
// (PROXY-reported) address; the proxy's address is a third party's.
func TestProxyPORTOnlyToTheClient(t *testing.T) {
	ts := startServer(t, trustLoopback1)
	ts.addUser(t, "alice", nil)
	rc := ts.proxied(t, proxyV1("127.0.0.9:40090"), "127.0.0.9")
	rc.login("alice", clientTLS())
	if rep := rc.cmd(501, "PORT 127,0,0,1,195,80"); !strings.Contains(rep.Message(), "your own address (127.0.0.9)") {
		t.Errorf("PORT to the proxy: %q", rep.Message())
	}
	rc.cmd(200, "PORT 127,0,0,9,195,80")
}

// trusted-proxies and passive-host take effect on reload, for the next
// connection: a peer that was a client becomes a proxy that must send a
// header, and PASV answers by the new rules.
func TestProxyKeysReload(t *testing.T) {
	ts := startServer(t)
	ts.addUser(t, "alice", nil)
	ts.rawFrom(t, "127.0.0.1") // a plain client, before
	cfg := config.Default()
	cfg.DataDir, cfg.Listen, cfg.PassivePorts = ts.dir, "127.0.0.1:1", "30000-39999"
	cfg.TrustedProxies = []string{"127.0.0.1"}
	cfg.PassiveHost = []config.PassiveHost{{Networks: []string{"127.0.0.9"}, Host: "127.0.0.4"}}
	v, err := cfg.Validate()
	if err != nil {
		t.Fatal(err)
	}
	cert, err := certs.LoadOrCreate(filepath.Join(ts.dir, "tls"), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ts.srv.Reload(v, cert.TLS); err != nil {
		t.Fatal(err)
	}
	if c := dialWithHeader(t, ts.addr, "127.0.0.1", []byte("USER alice\r\n")); !closedSilently(c) {
		t.Error("after the reload, 127.0.0.1 without a header was served")
	}
	rc := ts.proxied(t, proxyV1("127.0.0.9:40100"), "127.0.0.9")
	rc.login("alice", clientTLS())
	rep := rc.cmd(227, "PASV")
	if ap, err := wire.ParsePASVReply(rep.Message()); err != nil || ap.Addr().String() != "127.0.0.4" {
		t.Errorf("PASV after the reload: %q", rep.Message())
	}
}
