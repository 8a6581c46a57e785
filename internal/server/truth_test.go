package server

import (
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"hash/crc32"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/port21/port21/internal/config"
	wire "github.com/port21/port21/internal/ftp"
)

// Older hash commands answer "213 <hex>" with their own algorithm,
// whatever OPTS HASH selected.
func TestXHashCommands(t *testing.T) {
	ts := startServer(t)
	ts.addUser(t, "alice", nil)
	data := []byte("hash me, please\n")
	writeFile(t, filepath.Join(ts.home("alice"), "my file.txt"), data)
	crc := crc32.ChecksumIEEE(data)
	tests := []struct {
		verb, want string
	}{
		{"XSHA256", fmt.Sprintf("%x", sha256.Sum256(data))},
		{"XSHA1", fmt.Sprintf("%x", sha1.Sum(data))},
		{"XSHA", fmt.Sprintf("%x", sha1.Sum(data))},
		{"XMD5", fmt.Sprintf("%x", md5.Sum(data))},
		{"XCRC", fmt.Sprintf("%08x", crc)},
	}
	rc := ts.raw(t)
	rc.login("alice", clientTLS())
	rc.cmd(200, "OPTS HASH MD5")
	for _, tt := range tests {
		for _, arg := range []string{"my file.txt", `"my file.txt"`} {
			if got := rc.cmd(213, "%s %s", tt.verb, arg).Message(); got != tt.want {
				t.Errorf("%s %s = %q, want %q", tt.verb, arg, got, tt.want)
			}
		}
		rc.cmd(550, "%s missing", tt.verb)
		rc.cmd(501, "%s", tt.verb)
	}
	// HASH still answers in the draft's form, with the selected algorithm.
	if got := rc.cmd(213, "HASH my file.txt").Message(); !strings.HasPrefix(got, "MD5 0-16 ") {
		t.Errorf("HASH = %q", got)
	}
}

// REIN logs out and resets the session; the control connection and its
// TLS stay, and the next login starts from scratch (PROT included).
func TestREIN(t *testing.T) {
	ts := startServer(t)
	ts.addUser(t, "alice", nil)
	ts.addUser(t, "bob", nil)
	writeFile(t, filepath.Join(ts.home("alice"), "sub", "a.txt"), []byte("a"))
	writeFile(t, filepath.Join(ts.home("bob"), "b.txt"), []byte("b"))
	cfg := clientTLS()
	rc := ts.raw(t)
	rc.login("alice", cfg)
	rc.cmd(250, "CWD sub")
	rc.cmd(200, "TYPE I")
	rc.cmd(200, "OPTS HASH MD5")
	rc.epsv() // a data plan that REIN must drop
	rc.cmd(220, "REIN")
	for _, c := range []string{"PWD", "LIST", "CWD /", "HASH b.txt"} {
		rc.cmd(530, "%s", c)
	}
	rc.cmd(503, "AUTH TLS") // TLS is still on
	rc.cmd(503, "PROT P")   // PBSZ must come again
	rc.cmd(331, "USER bob")
	rc.cmd(230, "PASS %s", testPassword)
	if got := rc.cmd(257, "PWD").Message(); !strings.HasPrefix(got, `"/"`) {
		t.Errorf("PWD after REIN = %q", got)
	}
	if got := rc.cmd(213, "HASH b.txt").Message(); !strings.HasPrefix(got, "SHA-256 ") {
		t.Errorf("HASH after REIN = %q: the algorithm was not reset", got)
	}
	rc.epsv()
	rc.cmd(521, "NLST") // PROT was reset
	rc.cmd(200, "PBSZ 0")
	rc.cmd(200, "PROT P")
	_, got := rc.transfer("NLST", nil, 226) // the data connection resumes the same TLS session
	if string(got) != "b.txt\r\n" {
		t.Errorf("NLST as bob = %q", got)
	}
	if !strings.Contains(ts.logs.String(), "logout (REIN)") {
		t.Error("REIN not logged")
	}
	if !strings.Contains(rc.cmd(214, "HELP REIN").Message(), "log out") {
		t.Error("HELP REIN does not describe it")
	}
}

// REIN cannot be used to guess more passwords on one connection than
// allowed: failures are not forgotten.
func TestREINKeepsFailures(t *testing.T) {
	ts := startServer(t, func(c *config.Config) { c.MaxLoginFailures = 100 })
	ts.addUser(t, "alice", nil)
	rc := ts.raw(t)
	rc.startTLS(clientTLS())
	for range maxFailuresPerConn - 1 {
		rc.cmd(331, "USER alice")
		rc.cmd(530, "PASS wrong")
	}
	rc.cmd(331, "USER alice")
	rc.cmd(230, "PASS %s", testPassword)
	rc.cmd(220, "REIN")
	rc.cmd(331, "USER alice")
	rc.cmd(421, "PASS wrong")
}

// A client that refuses the certificate gets a log line that says so, not
// just crypto/tls's words.
func TestCertificateRefusedHint(t *testing.T) {
	ts := startServer(t)
	c, err := net.DialTimeout("tcp", ts.addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	r := newReader(c)
	readLine := func() string {
		l, err := r.ReadLine()
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	readLine()
	fmt.Fprintf(c, "AUTH TLS\r\n")
	readLine()
	tc := tls.Client(c, &tls.Config{ServerName: "localhost", NextProtos: []string{"ftp"}}) // verifies, and fails
	if err := tc.Handshake(); err == nil {
		t.Fatal("handshake with an untrusted certificate succeeded")
	}
	tc.Close()
	waitLog(t, ts, "client probably refused the server's certificate")
}

func TestHandshakeHint(t *testing.T) {
	tests := []struct {
		err  string
		want string
	}{
		{"local error: tls: bad record MAC", "refused the server's certificate"},
		{"remote error: tls: bad certificate", "refused the server's certificate"},
		{"remote error: tls: unknown certificate authority", "refused the server's certificate"},
		{"remote error: tls: protocol version not supported", "tls-min-version"},
		{"tls: client offered only unsupported versions: [303]", "tls-min-version"},
		{"tls: client requested unsupported application protocols", ""},
		{"EOF", ""},
	}
	for _, tt := range tests {
		got := handshakeHint(errors.New(tt.err))
		if tt.want == "" && got != "" || !strings.Contains(got, tt.want) {
			t.Errorf("handshakeHint(%q) = %q, want it to mention %q", tt.err, got, tt.want)
		}
	}
	if h := uploadResetHint(fmt.Errorf("read: %w", syscall.ECONNRESET), true); !strings.Contains(h, "nothing was stored") {
		t.Errorf("uploadResetHint = %q", h)
	}
	if h := uploadResetHint(syscall.ECONNRESET, false); h != "" {
		t.Errorf("uploadResetHint in clear = %q", h)
	}
}

// A TLS upload cut by a TCP reset is logged with a hint.
func TestUploadResetHint(t *testing.T) {
	ts := startServer(t)
	ts.addUser(t, "alice", nil)
	cfg := clientTLS()
	rc := ts.raw(t)
	rc.login("alice", cfg)
	addr := rc.epsv()
	rc.send("STOR up.bin")
	dc, err := dialData(t, addr, "", cfg)
	if err != nil {
		t.Fatal(err)
	}
	rc.expect(150)
	dc.Write(make([]byte, 64<<10))
	time.Sleep(100 * time.Millisecond)
	raw := dc.(*tls.Conn).NetConn().(*net.TCPConn)
	raw.SetLinger(0)
	raw.Close()
	rc.expect(426)
	waitLog(t, ts, "reset the data connection instead of closing TLS")
	if _, err := os.Stat(filepath.Join(ts.home("alice"), "up.bin")); err == nil {
		t.Error("a reset upload was stored")
	}
}

// HASH runs in the background: ABOR and QUIT stop it at once, and so does
// server shutdown.
func TestHASHIsAbortable(t *testing.T) {
	ts := startServer(t)
	ts.addUser(t, "alice", nil)
	big := filepath.Join(ts.home("alice"), "huge")
	writeFile(t, big, nil)
	// Sparse, 64 GiB: SHA-256 at even 3 GB/s takes over 20 s, so an end
	// within the 10 s allowed below (room for a loaded machine) is the
	// abort's; the 451s say too that the hash did not finish.
	if err := os.Truncate(big, 64<<30); err != nil {
		t.Fatal(err)
	}
	t.Run("ABOR", func(t *testing.T) {
		rc := ts.raw(t)
		rc.login("alice", clientTLS())
		rc.send("HASH huge")
		time.Sleep(50 * time.Millisecond)
		start := time.Now()
		rc.cmd(200, "NOOP") // served while hashing
		rc.send("ABOR")
		rc.expect(451)
		rc.expect(226)
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("ABOR took %v", d)
		}
		rc.cmd(257, "PWD")
	})
	t.Run("QUIT", func(t *testing.T) {
		rc := ts.raw(t)
		rc.login("alice", clientTLS())
		rc.send("XSHA256 huge")
		time.Sleep(50 * time.Millisecond)
		start := time.Now()
		rc.send("QUIT")
		rc.expect(451)
		rc.expect(221)
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("QUIT took %v", d)
		}
	})
	t.Run("shutdown", func(t *testing.T) {
		// A second listener on the same server, with its own context.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- ts.srv.Serve(ctx, ln, false) }()
		other := *ts
		other.addr = ln.Addr().String()
		rc := other.raw(t)
		rc.login("alice", clientTLS())
		rc.send("HASH huge")
		time.Sleep(50 * time.Millisecond)
		start := time.Now()
		cancel()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Fatal("shutdown waited for the hash")
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("shutdown took %v", d)
		}
		// Whatever the session said before it closed, it was no hash.
		rc.conn.SetDeadline(time.Now().Add(10 * time.Second))
		for {
			rep, err := wire.ReadReply(rc.r)
			if err != nil {
				break
			}
			if rep.Code == 213 {
				t.Errorf("the hash completed: %q", rep.Message())
			}
		}
	})
}

// waitLog waits for the server log to contain s.
func waitLog(t *testing.T, ts *testServer, s string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if strings.Contains(ts.logs.String(), s) {
			return
		}
	}
	t.Fatalf("log never said %q", s)
}

// A HASH that outlasts the idle time-out is abandoned: a client cannot
// keep a disk busy by asking and going quiet.
func TestHASHBoundedByIdleTimeout(t *testing.T) {
	ts := startServer(t, func(c *config.Config) { c.IdleTimeout = config.Duration{Duration: time.Second} })
	ts.addUser(t, "alice", nil)
	big := filepath.Join(ts.home("alice"), "huge")
	writeFile(t, big, nil)
	if err := os.Truncate(big, 64<<30); err != nil {
		t.Fatal(err)
	}
	rc := ts.raw(t)
	rc.login("alice", clientTLS())
	start := time.Now()
	rc.send("HASH huge")
	if rep := rc.expect(451); !strings.Contains(rep.Message(), "too long") {
		t.Errorf("HASH past the idle time-out: %q", rep.Message())
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("HASH was abandoned after %v", d)
	}
}

// On the implicit TLS port, REIN leaves data protected, as a new session
// there starts.
func TestREINImplicitTLS(t *testing.T) {
	ts := startServer(t)
	ts.addUser(t, "alice", nil)
	writeFile(t, filepath.Join(ts.home("alice"), "f"), []byte("f"))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ts.srv.Serve(ctx, ln, true) }()
	defer func() { cancel(); <-done }()
	cfg := clientTLS()
	c, err := tls.Dial("tcp", ln.Addr().String(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	rc := &rawClient{t: t, conn: c, r: newReader(c), tls: cfg}
	rc.expect(220)
	rc.cmd(331, "USER alice")
	rc.cmd(230, "PASS %s", testPassword)
	rc.cmd(220, "REIN")
	rc.cmd(331, "USER alice")
	rc.cmd(230, "PASS %s", testPassword)
	if _, got := rc.transfer("NLST", nil, 226); string(got) != "f\r\n" {
		t.Errorf("NLST after REIN = %q", got)
	}
}
