package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jlaffaye/ftp"

	"github.com/port21/port21/internal/audit"
	"github.com/port21/port21/internal/config"
	wire "github.com/port21/port21/internal/ftp"
	"github.com/port21/port21/internal/users"
)

func TestRoundTripWithGoClient(t *testing.T) {
	ts := startServer(t)
	ts.addUser(t, "alice", nil)
	c := ts.dial(t, "alice", clientTLS())

	data := bytes.Repeat([]byte("port21 "), 200_000)
	if err := c.Stor("big.bin", bytes.NewReader(data)); err != nil {
		t.Fatalf("STOR: %v", err)
	}
	if got := retr(t, c, "big.bin", 0); sha256.Sum256(got) != sha256.Sum256(data) {
		t.Fatalf("download differs (%d bytes)", len(got))
	}
	// Resume a download from an offset.
	if got := retr(t, c, "big.bin", 1000); !bytes.Equal(got, data[1000:]) {
		t.Fatal("resumed download differs")
	}
	// Resume an upload: the first half is on the server, send the rest.
	half := len(data) / 2
	if err := c.Stor("resume.bin", bytes.NewReader(data[:half])); err != nil {
		t.Fatal(err)
	}
	if err := c.StorFrom("resume.bin", bytes.NewReader(data[half:]), uint64(half)); err != nil {
		t.Fatalf("STOR with REST: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(ts.home("alice"), "resume.bin")); !bytes.Equal(b, data) {
		t.Fatalf("resumed upload differs (%d bytes)", len(b))
	}
	if err := c.Append("resume.bin", strings.NewReader("tail")); err != nil {
		t.Fatalf("APPE: %v", err)
	}
	if size, err := c.FileSize("resume.bin"); err != nil || size != int64(len(data)+4) {
		t.Fatalf("SIZE after APPE = %d, %v", size, err)
	}
	if err := c.MakeDir("dir"); err != nil {
		t.Fatal(err)
	}
	if err := c.Rename("big.bin", "dir/moved.bin"); err != nil {
		t.Fatal(err)
	}
	entries, err := c.List("dir")
	if err != nil || len(entries) != 1 || entries[0].Name != "moved.bin" || entries[0].Size != uint64(len(data)) {
		t.Fatalf("LIST dir = %+v, %v", entries, err)
	}
	if err := c.Delete("dir/moved.bin"); err != nil {
		t.Fatal(err)
	}
	if err := c.RemoveDir("dir"); err != nil {
		t.Fatal(err)
	}
	names, err := c.NameList("/")
	if err != nil || strings.Join(names, ",") != "resume.bin" {
		t.Fatalf("NLST = %v, %v", names, err)
	}
}

func TestCleartextLoginRefused(t *testing.T) {
	ts := startServer(t)
	ts.addUser(t, "alice", nil)
	rc := ts.raw(t)
	rep := rc.cmd(530, "USER alice")
	if !contains(rep.Message(), "AUTH TLS") {
		t.Errorf("refusal does not say why: %q", rep.Message())
	}
	// Unknown users get the same answer: nothing to enumerate.
	rc.cmd(530, "USER nobody")
	rc.cmd(503, "PASS x")
}

func TestCleartextUserOnlyFromAllowedNetworks(t *testing.T) {
	ts := startServer(t)
	ts.addUser(t, "legacy", func(u *users.User) { u.AllowCleartext = true })
	rc := ts.raw(t)
	rc.cmd(331, "USER legacy")
	rc.cmd(230, "PASS %s", testPassword)

	// Plain FTP end to end with a client library.
	c, err := ftp.Dial(ts.addr, ftp.DialWithTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Quit()
	if err := c.Login("legacy", testPassword); err != nil {
		t.Fatal(err)
	}
	if err := c.Stor("f", strings.NewReader("hello")); err != nil {
		t.Fatal(err)
	}

	ts.addUser(t, "remote", func(u *users.User) {
		u.AllowCleartext = true
		u.Allow = []netipPrefix{mustPrefix("198.51.100.0/24")}
	})
	// From loopback some account may log in in clear, so every name gets
	// 331 (the reply must not reveal names); "remote" fails at PASS.
	rc2 := ts.raw(t)
	rc2.cmd(331, "USER remote")
	rc2.cmd(530, "PASS %s", testPassword)
}

func TestPROTCRefused(t *testing.T) {
	ts := startServer(t)
	ts.addUser(t, "alice", nil)
	rc := ts.raw(t)
	rc.startTLS(clientTLS())
	rc.cmd(331, "USER alice")
	rc.cmd(230, "PASS %s", testPassword)
	rc.cmd(200, "PBSZ 0")
	rc.cmd(534, "PROT C")
	// Without PROT P no data connection is opened.
	rc.epsv()
	rc.cmd(521, "LIST")
}

func TestDataConnectionMustResumeSession(t *testing.T) {
	ts := startServer(t)
	ts.addUser(t, "alice", nil)
	ts.addUser(t, "python", func(u *users.User) { u.TLSReuseOptional = true })

	noCache := &tls.Config{InsecureSkipVerify: true, ServerName: "localhost"}
	rc := ts.raw(t)
	rc.login("alice", clientTLS())
	addr := rc.epsv()
	rc.send("LIST")
	dc, err := dialData(t, addr, "", noCache)
	if err == nil {
		defer dc.Close()
	}
	rc.expect(150)
	rep := rc.expect(522)
	if !contains(rep.Message(), "--tls-reuse-optional") {
		t.Errorf("refusal does not name the per-user option: %q", rep.Message())
	}

	// The per-user relaxation lets a non-resuming client through.
	rc2 := ts.raw(t)
	rc2.login("python", clientTLS())
	addr = rc2.epsv()
	rc2.send("LIST")
	dc, err = dialData(t, addr, "", noCache)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, dc)
	dc.Close()
	rc2.expect(150)
	rc2.expect(226)
}

func TestTicketOfAnotherSessionRefused(t *testing.T) {
	ts := startServer(t)
	ts.addUser(t, "alice", nil)
	ts.addUser(t, "mallory", nil)
	victim := ts.raw(t)
	victimTLS := clientTLS()
	victim.login("alice", victimTLS)
	victim.cmd(257, "PWD") // reading a reply makes the client store its ticket

	attacker := ts.raw(t)
	attacker.login("mallory", clientTLS())
	addr := attacker.epsv()
	attacker.send("LIST")
	// The attacker's data connection presents the victim's ticket.
	dc, err := dialData(t, addr, "", victimTLS)
	if err == nil {
		if tc, ok := dc.(*tls.Conn); ok && tc.ConnectionState().DidResume {
			t.Error("server resumed a ticket issued to another session")
		}
		dc.Close()
	}
	attacker.expect(150)
	attacker.expect(522)
}

// TestDataConnectionSameAddressCannotBlock: on the client's own address
// (a shared NAT, or a probe on the same host), connections that are not a
// TLS client of this transfer get there first; they are refused and the
// client's own connection still carries the transfer.
func TestDataConnectionSameAddressCannotBlock(t *testing.T) {
	ts := startServer(t)
	ts.addUser(t, "alice", nil)
	cfg := clientTLS()
	rc := ts.raw(t)
	rc.login("alice", cfg)
	addr := rc.epsv()
	// A silent connection (a port probe), and one that speaks HTTP, both
	// before the client's.
	silent, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	garbage, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	garbage.Write([]byte("GET / HTTP/1.0\r\n\r\n"))
	io.Copy(io.Discard, garbage) // until the server hangs up
	garbage.Close()
	rc.transferAt(addr, "LIST", nil, 226)

	// Nothing but a failed handshake: the transfer fails after the grace.
	addr = rc.epsv()
	rc.send("LIST")
	if c, err := net.Dial("tcp", addr); err == nil {
		c.Write([]byte("\x16\x03\x01\x00\x01\x00"))
		io.Copy(io.Discard, c)
		c.Close()
	}
	rc.expect(150)
	rc.expect(425)
}

func TestDataConnectionFromAnotherAddressRefused(t *testing.T) {
	ts := startServer(t)
	ts.addUser(t, "alice", nil)
	cfg := clientTLS()
	rc := ts.raw(t)
	rc.login("alice", cfg)
	addr := rc.epsv()
	// A thief on another address connects first and gets nothing.
	thief, err := dialData(t, addr, "127.0.0.2", nil)
	if err == nil {
		thief.SetReadDeadline(time.Now().Add(2 * time.Second))
		n, _ := thief.Read(make([]byte, 1))
		if n > 0 {
			t.Error("thief read data")
		}
		thief.Close()
	}
	rc.transferAt(addr, "LIST", nil, 226)
	if !contains(ts.logs.String(), "reason=foreign-address") {
		t.Error("the refused data connection was not logged")
	}
}

// TestDataConnectionFromAnotherAddressRefusedInClear: in clear the
// passive listener accepts only once the transfer command has come, so a
// thief that connects first waits in the backlog; it must be refused then,
// never handed the file, and the client's own connection gets it.
func TestDataConnectionFromAnotherAddressRefusedInClear(t *testing.T) {
	ts := startServer(t)
	ts.addUser(t, "legacy", func(u *users.User) { u.AllowCleartext = true })
	secret := bytes.Repeat([]byte("secret "), 1000)
	writeFile(t, filepath.Join(ts.home("legacy"), "secret.txt"), secret)
	rc := ts.raw(t)
	rc.cmd(331, "USER legacy")
	rc.cmd(230, "PASS %s", testPassword)
	rc.cmd(200, "TYPE I")
	addr := rc.epsv()
	thief, err := dialData(t, addr, "127.0.0.2", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer thief.Close()
	_, got := rc.transferAt(addr, "RETR secret.txt", nil, 226)
	if !bytes.Equal(got, secret) {
		t.Errorf("the client read %d bytes, want the file's %d", len(got), len(secret))
	}
	thief.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := io.ReadAll(thief); len(n) > 0 {
		t.Errorf("thief read %d bytes", len(n))
	} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Error("the thief's connection was left open")
	}
	if !contains(ts.logs.String(), "reason=foreign-address") {
		t.Error("the refused data connection was not logged")
	}
}

func TestBounceRefused(t *testing.T) {
	ts := startServer(t)
	ts.addUser(t, "alice", nil)
	rc := ts.raw(t)
	rc.login("alice", clientTLS())
	rc.cmd(501, "PORT 127,0,0,2,195,80")      // another address
	rc.cmd(501, "PORT 127,0,0,1,0,80")        // privileged port
	rc.cmd(501, "EPRT |1|198.51.100.7|2121|") // third party
	rc.cmd(522, "EPRT |2|::1|2121|")          // other family than the control connection
	rc.cmd(200, "PORT 127,0,0,1,195,80")      // own address, high port
	rc.cmd(200, "EPRT |1|127.0.0.1|50000|")   // same, extended form
	rc.cmd(501, "PORT 127,0,0,1,300,1")       // malformed
}

func TestActiveModeOff(t *testing.T) {
	ts := startServer(t, func(c *config.Config) { c.ActiveMode = false })
	ts.addUser(t, "alice", nil)
	rc := ts.raw(t)
	rc.login("alice", clientTLS())
	rc.cmd(502, "PORT 127,0,0,1,195,80")
}

func TestActiveModeTransfer(t *testing.T) {
	ts := startServer(t)
	ts.addUser(t, "alice", nil)
	writeFile(t, filepath.Join(ts.home("alice"), "a.txt"), []byte("active"))
	cfg := clientTLS()
	c, err := ftp.Dial(ts.addr, ftp.DialWithExplicitTLS(cfg), ftp.DialWithTimeout(5*time.Second), ftp.DialWithDisabledEPSV(true))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Quit()
	if err := c.Login("alice", testPassword); err != nil {
		t.Fatal(err)
	}
	// jlaffaye has no active mode; drive PORT by hand on a raw client.
	rc := ts.raw(t)
	rc.login("alice", cfg)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	rc.cmd(200, "PORT 127,0,0,1,%d,%d", port>>8, port&255)
	rc.send("RETR a.txt")
	rc.expect(150)
	conn, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	tc := tls.Client(conn, cfg)
	got, err := io.ReadAll(tc)
	tc.Close()
	if err != nil || string(got) != "active" {
		t.Fatalf("active RETR = %q, %v", got, err)
	}
	rc.expect(226)
}

func TestALPNOtherThanFTPRefused(t *testing.T) {
	ts := startServer(t)
	rc := ts.raw(t)
	rc.cmd(234, "AUTH TLS")
	tc := tls.Client(rc.conn, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"http/1.1"}})
	if err := tc.Handshake(); err == nil {
		t.Fatal("handshake with ALPN http/1.1 succeeded (ALPACA)")
	}
}

func TestPlaintextAfterAUTHDiscarded(t *testing.T) {
	ts := startServer(t)
	ts.addUser(t, "legacy", func(u *users.User) { u.AllowCleartext = true })
	rc := ts.raw(t)
	// An injected command rides in the same packet as AUTH TLS.
	rc.send("AUTH TLS\r\nUSER legacy")
	rc.expect(234)
	tc := tls.Client(rc.conn, clientTLS())
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	rc.conn, rc.r = tc, newReader(tc)
	// Had USER been executed, PASS would log in; it must be out of sequence.
	rc.cmd(503, "PASS %s", testPassword)
	if !contains(ts.logs.String(), "discarded plaintext") {
		t.Error("discarded plaintext not logged")
	}
}

func TestUploadWithoutCloseNotifyDiscarded(t *testing.T) {
	ts := startServer(t)
	ts.addUser(t, "alice", nil)
	cfg := clientTLS()
	rc := ts.raw(t)
	rc.login("alice", cfg)
	addr := rc.epsv()
	rc.send("STOR cut.bin")
	dc, err := dialData(t, addr, "", cfg)
	if err != nil {
		t.Fatal(err)
	}
	rc.expect(150)
	dc.Write(bytes.Repeat([]byte("x"), 100_000))
	// A forged FIN: TCP closes with no close_notify.
	dc.(*tls.Conn).NetConn().Close()
	rep := rc.expect(426)
	if !contains(rep.Message(), "close_notify") {
		t.Errorf("reply does not say why: %q", rep.Message())
	}
	if _, err := os.Stat(filepath.Join(ts.home("alice"), "cut.bin")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("truncated upload stored: %v", err)
	}
	// The same upload closed properly is kept.
	rc.transfer("STOR whole.bin", []byte("whole"), 226)
	if b, _ := os.ReadFile(filepath.Join(ts.home("alice"), "whole.bin")); string(b) != "whole" {
		t.Errorf("upload = %q", b)
	}
}

func TestABOR(t *testing.T) {
	ts := startServer(t)
	ts.addUser(t, "alice", nil)
	writeFile(t, filepath.Join(ts.home("alice"), "big"), bytes.Repeat([]byte("y"), 64<<20))
	cfg := clientTLS()
	rc := ts.raw(t)
	rc.login("alice", cfg)
	addr := rc.epsv()
	rc.send("RETR big")
	dc, err := dialData(t, addr, "", cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer dc.Close()
	rc.expect(150)
	dc.Read(make([]byte, 1024)) // the transfer is under way; stop reading
	rc.send("ABOR")
	rc.expect(426)
	rc.expect(226)
	rc.cmd(200, "NOOP")
}

func TestBanAfterFailedLogins(t *testing.T) {
	ts := startServer(t, func(c *config.Config) { c.MaxLoginFailures = 3 })
	ts.addUser(t, "alice", nil)
	for i := 0; i < 2; i++ {
		rc := ts.raw(t)
		rc.startTLS(clientTLS())
		rc.cmd(331, "USER alice")
		rc.cmd(530, "PASS wrong")
	}
	rc := ts.raw(t)
	rc.startTLS(clientTLS())
	rc.cmd(331, "USER alice")
	rc.cmd(421, "PASS wrong")
	// A banned address is dropped at accept (issue 8), before a byte,
	// right password or not.
	c, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if line, err := io.ReadAll(c); len(line) != 0 || err != nil {
		t.Fatalf("banned client got %q, %v; want the connection closed with nothing sent", line, err)
	}
}

func TestReadOnlyUser(t *testing.T) {
	ts := startServer(t)
	ts.addUser(t, "reader", func(u *users.User) { u.ReadOnly = true })
	writeFile(t, filepath.Join(ts.home("reader"), "f"), []byte("data"))
	c := ts.dial(t, "reader", clientTLS())
	if err := c.Stor("new", strings.NewReader("x")); err == nil {
		t.Error("read-only user could upload")
	}
	if err := c.Delete("f"); err == nil {
		t.Error("read-only user could delete")
	}
	if b := retr(t, c, "f", 0); string(b) != "data" {
		t.Errorf("RETR = %q", b)
	}
}

func TestFEATBeforeLogin(t *testing.T) {
	ts := startServer(t)
	rc := ts.raw(t)
	rep := rc.cmd(211, "FEAT")
	for _, want := range []string{"AUTH TLS", "EPSV", "MLST", "UTF8", "REST STREAM", "HASH", "MFMT"} {
		if !contains(rep.Message(), want) {
			t.Errorf("FEAT lacks %s: %q", want, rep.Message())
		}
	}
	rc.cmd(530, "LIST")
	rc.cmd(500, "BOGUS")
	rc.cmd(221, "QUIT")
}

func TestFileCommands(t *testing.T) {
	ts := startServer(t)
	ts.addUser(t, "alice", nil)
	writeFile(t, filepath.Join(ts.home("alice"), "sub", "f.txt"), []byte("line1\nline2\n"))
	rc := ts.raw(t)
	rc.login("alice", clientTLS())
	rc.cmd(257, "PWD")
	rc.cmd(250, "CWD sub")
	if rep := rc.cmd(257, "PWD"); !contains(rep.Message(), `"/sub"`) {
		t.Errorf("PWD = %q", rep.Message())
	}
	rc.cmd(250, "CDUP")
	if rep := rc.cmd(213, "SIZE sub/f.txt"); rep.Message() != "12" {
		t.Errorf("SIZE = %q", rep.Message())
	}
	rc.cmd(213, "MFMT 20200102030405 sub/f.txt")
	if rep := rc.cmd(213, "MDTM sub/f.txt"); rep.Message() != "20200102030405" {
		t.Errorf("MDTM = %q", rep.Message())
	}
	sum := sha256.Sum256([]byte("line1\nline2\n"))
	if rep := rc.cmd(213, "HASH sub/f.txt"); !contains(rep.Message(), "SHA-256 0-12 "+hexString(sum[:])) {
		t.Errorf("HASH = %q", rep.Message())
	}
	rc.cmd(200, "OPTS HASH MD5")
	rc.cmd(213, "HASH sub/f.txt")
	rc.cmd(501, "OPTS HASH WHIRLPOOL")
	if rep := rc.cmd(250, "MLST sub/f.txt"); !contains(rep.Message(), "type=file;size=12;") {
		t.Errorf("MLST = %q", rep.Message())
	}
	rc.cmd(550, "CWD nowhere")
	rc.cmd(550, "RMD /")
	rc.cmd(350, "RNFR sub/f.txt")
	rc.cmd(250, "RNTO g.txt")
	rc.cmd(503, "RNTO h.txt")
	rc.cmd(550, "SIZE sub")
	rc.cmd(200, "TYPE I")
	rc.cmd(504, "TYPE E")
	rc.cmd(200, "MODE S")
	rc.cmd(504, "MODE B")
	rc.cmd(200, "STRU F")
	rc.cmd(202, "ALLO 100")
	rc.cmd(211, "STAT")
	rc.cmd(213, "STAT /")
	rc.cmd(214, "HELP")
	rc.cmd(215, "SYST")
	// Replies never show the real path of the home.
	rc.epsv()
	rep := rc.cmd(550, "RETR /etc/passwd")
	if contains(rep.Message(), ts.dir) {
		t.Errorf("reply leaks the real path: %q", rep.Message())
	}
}

func TestASCIIMode(t *testing.T) {
	ts := startServer(t)
	ts.addUser(t, "alice", nil)
	writeFile(t, filepath.Join(ts.home("alice"), "unix.txt"), []byte("a\nb\r\nc\n"))
	cfg := clientTLS()
	rc := ts.raw(t)
	rc.login("alice", cfg)
	rc.cmd(200, "TYPE A")
	if _, got := rc.transfer("RETR unix.txt", nil, 226); string(got) != "a\r\nb\r\nc\r\n" {
		t.Errorf("ASCII RETR = %q", got)
	}
	rc.transfer("STOR dos.txt", []byte("x\r\ny\r\nlone\rcr\r"), 226)
	if b, _ := os.ReadFile(filepath.Join(ts.home("alice"), "dos.txt")); string(b) != "x\ny\nlone\rcr\r" {
		t.Errorf("ASCII STOR stored %q", b)
	}
}

func TestIPv6(t *testing.T) {
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skip("no IPv6 loopback:", err)
	}
	ln.Close()
	ts := startServer(t, func(c *config.Config) { c.Listen = "[::1]:0" })
	ts.addUser(t, "alice", nil)
	c := ts.dial(t, "alice", clientTLS())
	if err := c.Stor("v6", strings.NewReader("six")); err != nil {
		t.Fatal(err)
	}
	if b := retr(t, c, "v6", 0); string(b) != "six" {
		t.Errorf("got %q", b)
	}
}

func TestRESTAppliesToOneTransfer(t *testing.T) {
	ts := startServer(t)
	ts.addUser(t, "alice", nil)
	writeFile(t, filepath.Join(ts.home("alice"), "f"), []byte("0123456789"))
	c := ts.dial(t, "alice", clientTLS())
	for _, tc := range []struct {
		offset uint64
		want   string
	}{{4, "456789"}, {0, "0123456789"}} {
		if b := retr(t, c, "f", tc.offset); string(b) != tc.want {
			t.Errorf("offset %d: got %q, want %q", tc.offset, b, tc.want)
		}
	}
}

func TestIdleAndLoginTimeouts(t *testing.T) {
	second := config.Duration{Duration: time.Second}
	slow := startServer(t, func(c *config.Config) { c.LoginTimeout = second })
	anon := slow.raw(t)
	if rep := anon.read(); rep.Code != 421 || !contains(rep.Message(), "Login timeout") {
		t.Errorf("not logged in: got %d %q", rep.Code, rep.Message())
	}
	// The login itself may be slow on a loaded machine; only idleness after it counts.
	idle := startServer(t, func(c *config.Config) { c.IdleTimeout = second })
	idle.addUser(t, "alice", nil)
	rc := idle.raw(t)
	rc.login("alice", clientTLS())
	if rep := rc.read(); rep.Code != 421 || !contains(rep.Message(), "Idle timeout") {
		t.Errorf("idle: got %d %q", rep.Code, rep.Message())
	}
}

func TestImplicitTLS(t *testing.T) {
	ts := startServer(t)
	ts.addUser(t, "alice", nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ts.srv.Serve(ctx, ln, true) }()
	defer func() { cancel(); <-done }()

	c, err := ftp.Dial(ln.Addr().String(), ftp.DialWithTLS(clientTLS()), ftp.DialWithTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Quit()
	if err := c.Login("alice", testPassword); err != nil {
		t.Fatal(err)
	}
	// Data is protected from the start: no PBSZ/PROT needed on port 990.
	if err := c.Stor("implicit", strings.NewReader("990")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(ts.home("alice"), "implicit")); string(b) != "990" {
		t.Errorf("stored %q", b)
	}
	// A plain client on the implicit port gets no banner in clear.
	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	raw.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if n, _ := raw.Read(make([]byte, 10)); n > 0 {
		t.Error("implicit TLS port spoke in clear")
	}
}

// rclone shares one session cache slot across its control connections: a
// data connection may present the ticket of a sibling session of the same
// account from the same address, and that is accepted.
func TestTicketOfSiblingSessionAccepted(t *testing.T) {
	ts := startServer(t)
	ts.addUser(t, "alice", nil)
	shared := clientTLS()
	first := ts.raw(t)
	first.login("alice", shared)
	first.cmd(257, "PWD")
	second := ts.raw(t)
	second.login("alice", clientTLS())
	addr := second.epsv()
	second.send("LIST")
	dc, err := dialData(t, addr, "", shared) // presents the first session's ticket
	if err != nil {
		t.Fatal(err)
	}
	if !dc.(*tls.Conn).ConnectionState().DidResume {
		t.Error("sibling ticket not resumed")
	}
	io.Copy(io.Discard, dc)
	dc.Close()
	second.expect(150)
	second.expect(226)
}

// An upload whose data connection never comes leaves no temporary file.
func TestRefusedUploadLeavesNothing(t *testing.T) {
	ts := startServer(t)
	ts.addUser(t, "alice", nil)
	rc := ts.raw(t)
	rc.login("alice", clientTLS())
	for _, verb := range []string{"STOR f", "APPE f", "STOU"} {
		addr := rc.epsv()
		rc.send(verb)
		if dc, err := dialData(t, addr, "", &tls.Config{InsecureSkipVerify: true}); err == nil {
			dc.Close()
		}
		rc.expect(150)
		rc.expect(522)
	}
	entries, _ := os.ReadDir(ts.home("alice"))
	for _, e := range entries {
		t.Errorf("left behind: %s", e.Name())
	}
}

// "EPRT |2|::|port|" means the client's own address (lftp on IPv6).
func TestUnspecifiedActiveAddressIsTheClient(t *testing.T) {
	ts := startServer(t)
	ts.addUser(t, "alice", nil)
	rc := ts.raw(t)
	rc.login("alice", clientTLS())
	rc.cmd(200, "PORT 0,0,0,0,195,80")
	rc.cmd(522, "EPRT |2|::|50000|") // wrong family for an IPv4 session
	rc.cmd(200, "EPRT |1|0.0.0.0|50000|")
}

// The data time-out is for stalls: a slow upload that keeps moving
// outlives it, in clear and under TLS; a stalled one does not.
func TestSlowTransferIsNotAStall(t *testing.T) {
	ts := startServer(t, func(c *config.Config) { c.DataTimeout = config.Duration{Duration: 3 * time.Second} })
	ts.addUser(t, "alice", nil)
	ts.addUser(t, "legacy", func(u *users.User) { u.AllowCleartext = true })
	for _, secure := range []bool{true, false} {
		cfg := clientTLS()
		rc := ts.raw(t)
		user := "legacy"
		if secure {
			rc.login("alice", cfg)
			user = "alice"
		} else {
			rc.cmd(331, "USER legacy")
			rc.cmd(230, "PASS %s", testPassword)
			cfg = nil
		}
		// rawFrom's 20 s deadline ran from before a possibly slow login.
		rc.conn.SetDeadline(time.Now().Add(30 * time.Second))
		addr := rc.epsv()
		rc.send("STOR slow")
		dc, err := dialData(t, addr, "", cfg)
		if err != nil {
			t.Fatal(err)
		}
		rc.expect(150)
		// 4.5 s in all, well past the 3 s time-out; each 4 KiB chunk (or
		// TLS record) arrives within 0.3 s of the last, well inside it.
		for i := 0; i < 15; i++ {
			dc.Write(bytes.Repeat([]byte("s"), 5000))
			time.Sleep(300 * time.Millisecond)
		}
		dc.Close()
		rc.expect(226)
		if b, _ := os.ReadFile(filepath.Join(ts.home(user), "slow")); len(b) != 75000 {
			t.Errorf("secure=%v: stored %d bytes, want 75000", secure, len(b))
		}
		// A client that stops sending is cut off.
		addr = rc.epsv()
		rc.send("STOR stalled")
		dc, err = dialData(t, addr, "", cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer dc.Close()
		rc.expect(150)
		dc.Write([]byte("partial"))
		rc.expect(426)
	}
}

func TestSTOUAndEPSVALL(t *testing.T) {
	ts := startServer(t)
	ts.addUser(t, "alice", nil)
	writeFile(t, filepath.Join(ts.home("alice"), "report.txt"), []byte("taken"))
	rc := ts.raw(t)
	rc.login("alice", clientTLS())
	rep, _ := rc.transfer("STOU report.txt", []byte("unique"), 226)
	name := strings.TrimPrefix(rep.Message(), "FILE: ")
	if name == "report.txt" || name == rep.Message() {
		t.Fatalf("STOU named %q", rep.Message())
	}
	if b, _ := os.ReadFile(filepath.Join(ts.home("alice"), name)); string(b) != "unique" {
		t.Errorf("STOU stored %q in %s", b, name)
	}
	if b, _ := os.ReadFile(filepath.Join(ts.home("alice"), "report.txt")); string(b) != "taken" {
		t.Error("STOU overwrote the existing file")
	}
	// After EPSV ALL only EPSV may set up data connections (RFC 2428).
	rc.cmd(200, "EPSV ALL")
	rc.cmd(503, "PASV")
	rc.cmd(503, "PORT 127,0,0,1,195,80")
	rc.epsv()
}

// An imported legacy hash logs in and is replaced by argon2id.
func TestLegacyHashRehashedAtLogin(t *testing.T) {
	ts := startServer(t)
	// openssl passwd -6 -salt saltsalt 'correct horse battery staple'
	const legacy = "$6$saltsalt$CPgxBHZBXfhC6lX1yxpdEsbQfXmg3WXVj8AoVwyNFLfb5AtbfM8k6A8yehv1z6sgzoH/DUIs7YK9hVnGhTjhW/"
	ts.addUser(t, "old", func(u *users.User) { u.Hash = legacy })
	ts.dial(t, "old", clientTLS())
	deadline := time.Now().Add(10 * time.Second)
	for {
		u, err := ts.store.Get(context.Background(), "old")
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(u.Hash, "$argon2id$") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("hash not upgraded: %.10s...", u.Hash)
		}
		time.Sleep(50 * time.Millisecond)
	}
	ts.dial(t, "old", clientTLS()) // the new hash verifies too
}

// countingMetrics observes the events as the metrics package does.
type countingMetrics struct {
	mu                     sync.Mutex
	sessions, ok, failed   int
	transfers, transferred int64
}

func (m *countingMetrics) Observe(e audit.Event) {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch e := e.(type) {
	case audit.Connect:
		m.sessions++
	case audit.Login:
		m.ok++
	case audit.LoginFailed:
		m.failed++
	case audit.Transfer:
		m.transfers++
		m.transferred += e.Bytes
	}
}

func TestMetricsAreReported(t *testing.T) {
	m := &countingMetrics{}
	ts := startServer(t, m)
	ts.addUser(t, "alice", nil)
	rc := ts.raw(t)
	rc.startTLS(clientTLS())
	rc.cmd(331, "USER alice")
	rc.cmd(530, "PASS wrong")
	c := ts.dial(t, "alice", clientTLS())
	if err := c.Stor("m", strings.NewReader("12345")); err != nil {
		t.Fatal(err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.sessions != 2 || m.ok != 1 || m.failed != 1 || m.transfers != 1 || m.transferred != 5 {
		t.Errorf("metrics: %+v", m)
	}
}

// public-host is what PASV announces (behind NAT); EPSV names no address.
func TestPublicHostInPASV(t *testing.T) {
	ts := startServer(t, func(c *config.Config) { c.PublicHost = "203.0.113.10" })
	ts.addUser(t, "alice", nil)
	rc := ts.raw(t)
	rc.login("alice", clientTLS())
	rep := rc.cmd(227, "PASV")
	ap, err := wire.ParsePASVReply(rep.Message())
	if err != nil || ap.Addr().String() != "203.0.113.10" {
		t.Errorf("PASV announced %v (%v), want 203.0.113.10", ap, err)
	}
}

// With require-close-notify off, an upload cut by a bare FIN is kept.
func TestCloseNotifyNotRequired(t *testing.T) {
	ts := startServer(t, func(c *config.Config) { c.RequireCloseNotify = false })
	ts.addUser(t, "alice", nil)
	cfg := clientTLS()
	rc := ts.raw(t)
	rc.login("alice", cfg)
	addr := rc.epsv()
	rc.send("STOR cut.bin")
	dc, err := dialData(t, addr, "", cfg)
	if err != nil {
		t.Fatal(err)
	}
	rc.expect(150)
	dc.Write([]byte("partial"))
	dc.(*tls.Conn).NetConn().Close()
	rc.expect(226)
	if b, _ := os.ReadFile(filepath.Join(ts.home("alice"), "cut.bin")); string(b) != "partial" {
		t.Errorf("stored %q", b)
	}
}
