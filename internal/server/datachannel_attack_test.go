package server

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/port21/port21/internal/config"
	"github.com/port21/port21/internal/users"
)

// Attacks on the data channel: each test does what an intruder on the
// victim's own address (a shared NAT, a local user, a port sweeper) would
// do, and fails if it gets anything.

// recordingCache is a client session cache that counts the tickets it is
// handed.
type recordingCache struct {
	tls.ClientSessionCache
	mu   sync.Mutex
	puts int
}

func newRecordingCache() *recordingCache {
	return &recordingCache{ClientSessionCache: tls.NewLRUClientSessionCache(8)}
}

func (c *recordingCache) Put(key string, cs *tls.ClientSessionState) {
	if cs != nil {
		c.mu.Lock()
		c.puts++
		c.mu.Unlock()
	}
	c.ClientSessionCache.Put(key, cs)
}

func (c *recordingCache) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.puts
}

var tlsVersions = []struct {
	name string
	v    uint16
}{{"TLS1.2", tls.VersionTLS12}, {"TLS1.3", tls.VersionTLS13}}

func clientTLSVersion(v uint16, cache tls.ClientSessionCache) *tls.Config {
	cfg := clientTLS()
	cfg.MinVersion, cfg.MaxVersion = v, v
	if cache != nil {
		cfg.ClientSessionCache = cache
	}
	return cfg
}

// intrude connects to a data address from the victim's address with cfg,
// completes whatever handshake the server allows and reads all it is sent,
// which makes a TLS 1.3 client take any ticket the server sends after the
// handshake. It returns what it read and whether its handshake resumed.
func intrude(t *testing.T, addr string, cfg *tls.Config) (got []byte, resumed bool) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, false
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	tc := tls.Client(c, cfg)
	if err := tc.Handshake(); err != nil {
		return nil, false
	}
	got, _ = io.ReadAll(tc)
	return got, tc.ConnectionState().DidResume
}

// TestDataTakeoverThroughTicket is the attack of the hostile review: with no
// account, complete a full handshake on the victim's passive port, keep the
// ticket the server hands out, and resume it on the victim's next passive
// port, on a sibling session's, and (TLS 1.2) on its own later ports.
func TestDataTakeoverThroughTicket(t *testing.T) {
	for _, tv := range tlsVersions {
		t.Run(tv.name, func(t *testing.T) {
			ts := startServer(t)
			ts.addUser(t, "alice", nil)
			secret := bytes.Repeat([]byte("alice's secret "), 1000)
			writeFile(t, ts.home("alice")+"/secret.txt", secret)

			victim := ts.raw(t)
			victim.login("alice", clientTLSVersion(tv.v, nil))
			victim.cmd(257, "PWD")
			sibling := ts.raw(t)
			sibling.login("alice", clientTLSVersion(tv.v, nil))
			sibling.cmd(257, "PWD")

			// The intruder has a control connection of its own but no
			// account: its tickets are sealed for a session nobody logged in to.
			loot := newRecordingCache()
			intruder := ts.raw(t)
			intruder.startTLS(clientTLSVersion(tv.v, loot))
			intruder.cmd(530, "PWD")

			// Step 1: a full handshake on the victim's passive port,
			// before the victim's own connection.
			addr := victim.epsv()
			got, resumed := intrude(t, addr, clientTLSVersion(tv.v, loot))
			if len(got) > 0 || resumed {
				t.Fatalf("intruder's full handshake was taken as the data connection (%d bytes)", len(got))
			}
			// The probe did not fail the victim's transfer.
			if _, body := victim.transferAt(addr, "RETR secret.txt", nil, 226); !bytes.Equal(body, secret) {
				t.Fatalf("victim got %d bytes after the probe", len(body))
			}

			// Step 2: whatever ticket it got, resumed on the victim's next
			// port, on a sibling session's, and on a port of its own.
			for _, target := range []*rawClient{victim, sibling} {
				addr := target.epsv()
				got, resumed := intrude(t, addr, clientTLSVersion(tv.v, loot))
				if len(got) > 0 || resumed {
					t.Fatalf("intruder resumed a data connection with a looted ticket (%d bytes)", len(got))
				}
				if _, body := target.transferAt(addr, "RETR secret.txt", nil, 226); !bytes.Equal(body, secret) {
					t.Fatalf("owner got %d bytes after the intrusion", len(body))
				}
			}

			// An upload the intruder tries to write into.
			addr = victim.epsv()
			victim.send("STOR upload.txt")
			if _, resumed := intrude(t, addr, clientTLSVersion(tv.v, loot)); resumed {
				t.Fatal("intruder resumed the upload's data connection")
			}
			dc, err := dialData(t, addr, "", victim.tls)
			if err != nil {
				t.Fatal(err)
			}
			victim.expect(150)
			dc.Write([]byte("from alice"))
			dc.Close()
			victim.expect(226)
			if b, _ := os.ReadFile(ts.home("alice") + "/upload.txt"); string(b) != "from alice" {
				t.Fatalf("upload holds %q", b)
			}
		})
	}
}

// singleUseCache hands out each ticket once, as OpenSSL clients such as curl
// do with TLS 1.3 tickets (RFC 8446 C.4 asks clients not to reuse them).
type singleUseCache struct{ tls.ClientSessionCache }

func (c singleUseCache) Get(key string) (*tls.ClientSessionState, bool) {
	cs, ok := c.ClientSessionCache.Get(key)
	if ok {
		c.ClientSessionCache.Put(key, nil)
	}
	return cs, ok
}

// TestDataTicketsForSingleUseClients: a client that uses each ticket once
// (curl's upload then download in one session, over TLS 1.3) resumes on
// every data connection: a data connection that resumed hands out the
// ticket for the next one.
func TestDataTicketsForSingleUseClients(t *testing.T) {
	for _, tv := range tlsVersions {
		t.Run(tv.name, func(t *testing.T) {
			ts := startServer(t)
			ts.addUser(t, "alice", nil)
			rc := ts.raw(t)
			rc.login("alice", clientTLSVersion(tv.v, singleUseCache{tls.NewLRUClientSessionCache(8)}))
			rc.cmd(257, "PWD")
			// Like curl: close_notify, then read until the server's.
			addr := rc.epsv()
			rc.send("STOR f")
			dc, err := dialData(t, addr, "", rc.tls)
			if err != nil {
				t.Fatal(err)
			}
			rc.expect(150)
			dc.Write([]byte("up"))
			dc.(*tls.Conn).CloseWrite()
			io.ReadAll(dc)
			dc.Close()
			rc.expect(226)
			if _, got := rc.transfer("RETR f", nil, 226); string(got) != "up" {
				t.Fatalf("got %q", got)
			}
			rc.transfer("LIST", nil, 226)
		})
	}
}

// TestProbeDoesNotFailTransfer: a port probe that completes a TLS handshake
// (nmap, a scanner) after the transfer command, before the client's own
// connection, is refused and the transfer still succeeds.
func TestProbeDoesNotFailTransfer(t *testing.T) {
	for _, tv := range tlsVersions {
		t.Run(tv.name, func(t *testing.T) {
			ts := startServer(t)
			ts.addUser(t, "alice", nil)
			writeFile(t, ts.home("alice")+"/f", []byte("payload"))
			rc := ts.raw(t)
			rc.login("alice", clientTLSVersion(tv.v, nil))
			addr := rc.epsv()
			rc.send("RETR f")
			given := newRecordingCache()
			if got, _ := intrude(t, addr, clientTLSVersion(tv.v, given)); len(got) > 0 {
				t.Fatal("the probe got data")
			}
			if tv.v == tls.VersionTLS13 && given.count() > 0 {
				t.Error("a TLS 1.3 data connection that did not resume issued a ticket")
			}
			dc, err := dialData(t, addr, "", rc.tls)
			if err != nil {
				t.Fatal(err)
			}
			rc.expect(150)
			got, _ := io.ReadAll(dc)
			dc.Close()
			rc.expect(226)
			if string(got) != "payload" {
				t.Fatalf("got %q", got)
			}
		})
	}
}

// TestSilentConnectionsCannotExhaustDescriptors: many silent connections to
// one passive port from the client's address hold at most maxDataHandshakes
// descriptors, and the client's own connection still gets through.
func TestSilentConnectionsCannotExhaustDescriptors(t *testing.T) {
	// The passive port must stay open through the wait below.
	ts := startServer(t, func(c *config.Config) { c.DataTimeout = config.Duration{Duration: 30 * time.Second} })
	ts.addUser(t, "alice", nil)
	rc := ts.raw(t)
	rc.login("alice", clientTLS())
	addr := rc.epsv()
	const n = 60
	// The server ends a held handshake dataHandshakeTimeout after its
	// accept, so none before start+10 s: a read that is still waiting at
	// start+8 s is one the server holds, however slow the machine.
	start := time.Now()
	deadline := start.Add(dataHandshakeTimeout - 2*time.Second)
	conns := make([]net.Conn, 0, n)
	for i := 0; i < n; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns = append(conns, c)
	}
	// The server closes all but the newest few; a closed one reads EOF
	// or a reset, an open one times out.
	var mu sync.Mutex
	open := 0
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.SetReadDeadline(deadline)
			_, err := c.Read(make([]byte, 1))
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				mu.Lock()
				open++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	t.Logf("%d of %d silent connections held", open, n)
	if open > maxDataHandshakes {
		t.Errorf("%d of %d silent connections are still held, want at most %d", open, n, maxDataHandshakes)
	}
	rc.conn.SetDeadline(time.Now().Add(20 * time.Second))
	rc.transferAt(addr, "LIST", nil, 226)
}

// TestTricklingHandshakeHasAbsoluteDeadline: a connection that sends its
// ClientHello a byte at a time cannot keep its handshake alive past the
// handshake deadline (the stall timer must not count it as progress).
func TestTricklingHandshakeHasAbsoluteDeadline(t *testing.T) {
	ts := startServer(t, func(c *config.Config) { c.DataTimeout = config.Duration{Duration: 2 * time.Second} })
	ts.addUser(t, "alice", nil)
	rc := ts.raw(t)
	rc.login("alice", clientTLS())
	addr := rc.epsv()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	hello := []byte("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")
	closed := make(chan struct{})
	go func() {
		io.Copy(io.Discard, c)
		close(closed)
	}()
	start := time.Now()
	for i := 0; ; i++ {
		select {
		case <-closed:
			return
		case <-time.After(300 * time.Millisecond):
		}
		if time.Since(start) > 8*time.Second {
			t.Fatal("a trickling handshake is still open after 8 s (data-timeout 2 s)")
		}
		c.Write(hello[i%len(hello) : i%len(hello)+1])
	}
}

// TestPassivePortsPerAddressBounded: sessions of one address cannot hold
// more passive ports than max-passive-per-ip, and another address still
// gets one.
func TestPassivePortsPerAddressBounded(t *testing.T) {
	ts := startServer(t, func(c *config.Config) { c.MaxPassivePerIP = 2 })
	ts.addUser(t, "alice", nil)
	var holders []*rawClient
	for i := 0; i < 2; i++ {
		rc := ts.raw(t)
		rc.login("alice", clientTLS())
		rc.epsv()
		holders = append(holders, rc)
	}
	third := ts.raw(t)
	third.login("alice", clientTLS())
	if rep := third.cmd(425, "EPSV"); !strings.Contains(rep.Message(), "Too many passive") {
		t.Errorf("EPSV past the limit: %q", rep.Message())
	}
	// Another EPSV in the same session replaces its port: no new slot.
	holders[0].epsv()
	holders[0].epsv()
	// Another address is not affected.
	other := ts.rawFrom(t, "127.0.0.2")
	other.login("alice", clientTLS())
	other.epsv()
	// A finished transfer gives its slot back.
	holders[1].transfer("LIST", nil, 226)
	third.transfer("LIST", nil, 226)
}

func TestEPRTUnknownProtocol(t *testing.T) {
	ts := startServer(t)
	ts.addUser(t, "alice", nil)
	rc := ts.raw(t)
	rc.login("alice", clientTLS())
	// RFC 2428 section 2: 522 and the protocols the server speaks.
	if rep := rc.cmd(522, "EPRT |3|127.0.0.1|5000|"); !strings.Contains(rep.Message(), "(1)") {
		t.Errorf("522 does not name the protocol to use: %q", rep.Message())
	}
	rc.cmd(501, "EPRT |1|not-an-address|5000|")
}

// TestRetiredTicketsPerAccount: an account that ends sessions in a loop
// cannot push another account's recently ended sessions out of memory, and
// what it keeps of its own is bounded.
func TestRetiredTicketsPerAccount(t *testing.T) {
	ts := startServer(t)
	srv := ts.srv
	sealer, err := newTicketSealer()
	if err != nil {
		t.Fatal(err)
	}
	until := time.Now().Add(time.Hour)
	srv.mu.Lock()
	defer srv.mu.Unlock()
	srv.retireLocked("alice", retired{tickets: sealer, until: until})
	for i := 0; i < 10_000; i++ {
		srv.retireLocked("mallory", retired{tickets: sealer, until: until})
	}
	if len(srv.retired["alice"]) != 1 {
		t.Error("another account's loop pushed out alice's ended session")
	}
	if n := len(srv.retired["mallory"]); n > maxRetiredPerAccount {
		t.Errorf("mallory keeps %d ended sessions, want at most %d", n, maxRetiredPerAccount)
	}
	srv.retireLocked("bob", retired{tickets: sealer, until: time.Now().Add(-time.Second)})
	srv.retireLocked("bob", retired{tickets: sealer, until: until})
	if len(srv.retired["bob"]) != 1 {
		t.Error("an expired entry was kept")
	}
}

// TestImplicitTLSBanner: on the implicit port TLS is already on, so the
// banner must not tell the client to send AUTH TLS.
func TestImplicitTLSBanner(t *testing.T) {
	ts := startServer(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ts.srv.Serve(ctx, ln, true) }()
	defer func() { cancel(); <-done }()
	c, err := tls.Dial("tcp", ln.Addr().String(), clientTLS())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	line, err := newReader(c).ReadLine()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(line, "220 ") || strings.Contains(line, "AUTH TLS") {
		t.Errorf("implicit TLS banner: %q", line)
	}
}

// TestUploadFromClientThatNeverReads: OpenSSL clients such as gftp, Perl
// Net::FTP and netkit ftp-ssl write an upload and close without ever
// reading their data socket. Over TLS 1.3 the ticket a resumed data
// connection gets comes after the handshake, stays unread, and the kernel
// answers their close with a reset that loses the upload's end (so the
// server discards it, 426); over TLS 1.2 the ticket is part of the
// handshake and such clients work. The README says so.
func TestUploadFromClientThatNeverReads(t *testing.T) {
	ts := startServer(t)
	ts.addUser(t, "alice", nil)
	rc := ts.raw(t)
	rc.login("alice", clientTLSVersion(tls.VersionTLS12, nil))
	rc.cmd(257, "PWD")
	body := bytes.Repeat([]byte("never reads "), 100_000)
	for i := 0; i < 3; i++ {
		addr := rc.epsv()
		rc.send("STOR up.bin")
		raw, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		dc := tls.Client(&recordAtATime{Conn: raw}, rc.tls)
		if err := dc.Handshake(); err != nil {
			t.Fatal(err)
		}
		rc.expect(150)
		if _, err := dc.Write(body); err != nil {
			t.Fatal(err)
		}
		dc.Close() // close_notify, then close, with nothing read
		rc.expect(226)
		if b, _ := os.ReadFile(ts.home("alice") + "/up.bin"); !bytes.Equal(b, body) {
			t.Fatalf("stored %d of %d bytes", len(b), len(body))
		}
	}
}

// recordAtATime reads TLS records one at a time, as OpenSSL does without
// read-ahead, so a record the client never asks for stays in the socket.
type recordAtATime struct {
	net.Conn
	left int // bytes of the current record not yet read
}

func (r *recordAtATime) Read(b []byte) (int, error) {
	if r.left == 0 {
		var hdr [5]byte
		n, err := io.ReadFull(r.Conn, hdr[:min(len(b), 5)])
		if err != nil || n < 5 {
			return copy(b, hdr[:n]), err
		}
		r.left = int(hdr[3])<<8 | int(hdr[4])
		return copy(b, hdr[:]), nil
	}
	n, err := r.Conn.Read(b[:min(len(b), r.left)])
	r.left -= n
	return n, err
}

// TestRetiredSiblingTicketExpires: the ticket of an ended session of the
// same account from the same address is honoured for ticketLifetime, then
// never again: a ticket kept from an old session cannot open a data
// connection later.
func TestRetiredSiblingTicketExpires(t *testing.T) {
	var offset atomic.Int64 // how far the server's clock runs ahead
	ts := startServer(t, func(o *Options, _ *users.Store) {
		o.Now = func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	})
	ts.addUser(t, "alice", nil)
	old := clientTLS()
	first := ts.raw(t)
	first.login("alice", old)
	first.cmd(257, "PWD") // the client stores the first session's ticket
	first.cmd(221, "QUIT")
	if !settle(5*time.Second, func() bool { return ts.sessionCount() == 0 }) {
		t.Fatal("the session did not end")
	}

	try := func() (resumed bool) {
		rc := ts.raw(t)
		rc.login("alice", clientTLS())
		addr := rc.epsv()
		rc.send("LIST")
		dc, err := dialData(t, addr, "", old) // presents the ended session's ticket
		if err == nil {
			resumed = dc.(*tls.Conn).ConnectionState().DidResume
			io.Copy(io.Discard, dc)
			dc.Close()
		}
		rc.expect(150)
		if resumed {
			rc.expect(226)
		} else {
			rc.expect(522)
		}
		// Ended too: the ticket its data connection handed out counts as
		// a retired sibling's from now on.
		rc.cmd(221, "QUIT")
		if !settle(5*time.Second, func() bool { return ts.sessionCount() == 0 }) {
			t.Fatal("the session did not end")
		}
		return resumed
	}
	if !try() {
		t.Fatal("a recently ended sibling's ticket was refused")
	}
	offset.Store(int64(ticketLifetime + time.Minute))
	if try() {
		t.Error("the ticket of a session that ended more than ticketLifetime ago was resumed")
	}
}
