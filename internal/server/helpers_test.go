package server

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jlaffaye/ftp"

	"github.com/port21/port21/internal/audit"
	"github.com/port21/port21/internal/certs"
	"github.com/port21/port21/internal/config"
	wire "github.com/port21/port21/internal/ftp"
	"github.com/port21/port21/internal/users"
)

const testPassword = "correct horse battery staple"

// testServer is a real server on a loopback port with a real user store.
type testServer struct {
	srv   *Server
	addr  string
	dir   string
	store *users.Store
	logs  *syncBuffer
	// stop ends the server and waits for it (also done at cleanup).
	stop func()
}

// startServer takes options of three kinds: func(*config.Config) to change
// the configuration, an audit.Observer to receive the events, and
// func(*Options, *users.Store) to change the server's Options (another
// Hasher, wrapped Accounts, a FailDelay) once the store is open.
func startServer(t testing.TB, opts ...any) *testServer {
	t.Helper()
	dir := t.TempDir()
	cfg := config.Default()
	cfg.DataDir = dir
	cfg.Listen = "127.0.0.1:0"
	cfg.PassivePorts = "30000-39999"
	cfg.DataTimeout = config.Duration{Duration: 5 * time.Second}
	cfg.ShutdownTimeout = config.Duration{Duration: time.Second}
	var events *audit.Sink
	var mods []func(*Options, *users.Store)
	for _, o := range opts {
		switch o := o.(type) {
		case func(*config.Config):
			o(&cfg)
		case audit.Observer:
			events = audit.NewSink(nil, o)
		case func(*Options, *users.Store):
			mods = append(mods, o)
		default:
			t.Fatalf("startServer: unknown option %T", o)
		}
	}
	dir = cfg.DataDir // an option may share a data directory (a restart)
	v, err := cfg.Validate()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	store, err := users.OpenStore(ctx, filepath.Join(dir, "users.db"))
	if err != nil {
		t.Fatal(err)
	}
	cert, err := certs.LoadOrCreate(filepath.Join(dir, "tls"), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	o := Options{
		Config:    v,
		Cert:      cert.TLS,
		Accounts:  store,
		Bans:      store,
		Passwords: users.NewHasher(2),
		Logger:    slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		FailDelay: -1,
		Events:    events,
	}
	for _, mod := range mods {
		mod(&o, store)
	}
	srv, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", v.Listen)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln, false) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			<-done
			store.Close()
		})
	}
	ts := &testServer{srv: srv, addr: ln.Addr().String(), dir: dir, store: store, logs: logs, stop: stop}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	return ts
}

// addUser creates an account with testPassword; mod adjusts it first.
func (ts *testServer) addUser(t testing.TB, name string, mod func(*users.User)) {
	t.Helper()
	h, err := users.NewHasher(1).Hash(context.Background(), testPassword)
	if err != nil {
		t.Fatal(err)
	}
	u := users.User{Name: name, Hash: h}
	if mod != nil {
		mod(&u)
	}
	if err := ts.store.Add(context.Background(), u); err != nil {
		t.Fatal(err)
	}
}

func (ts *testServer) home(name string) string { return filepath.Join(ts.dir, "home", name) }

// clientTLS resumes sessions the way FTPS clients must: a session cache
// keyed by a fixed server name, so data connections find the control
// connection's ticket.
func clientTLS() *tls.Config {
	return &tls.Config{
		InsecureSkipVerify: true,
		ServerName:         "localhost",
		ClientSessionCache: tls.NewLRUClientSessionCache(8),
		NextProtos:         []string{"ftp"},
	}
}

// dial logs in with jlaffaye/ftp over explicit FTPS.
func (ts *testServer) dial(t *testing.T, user string, cfg *tls.Config) *ftp.ServerConn {
	t.Helper()
	c, err := ftp.Dial(ts.addr, ftp.DialWithExplicitTLS(cfg), ftp.DialWithTimeout(5*time.Second))
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	if err := c.Login(user, testPassword); err != nil {
		t.Fatalf("login: %v", err)
	}
	t.Cleanup(func() { c.Quit() })
	return c
}

// retr downloads name from offset with the Go client and returns it all.
func retr(t testing.TB, c *ftp.ServerConn, name string, offset uint64) []byte {
	t.Helper()
	r, err := c.RetrFrom(name, offset)
	if err != nil {
		t.Fatalf("RETR %s from %d: %v", name, offset, err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("RETR %s: %v", name, err)
	}
	return b
}

// rawClient speaks the control protocol by hand, for what a client
// library would not let a test do.
type rawClient struct {
	t    *testing.T
	conn net.Conn
	r    *wire.Reader
	tls  *tls.Config
	from string // the local address data connections come from
}

func (ts *testServer) raw(t *testing.T) *rawClient { t.Helper(); return ts.rawFrom(t, "") }

// rawFrom is raw from the local address from (a loopback address other
// than 127.0.0.1, to be another client), or the default for "".
func (ts *testServer) rawFrom(t *testing.T, from string) *rawClient {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second}
	if from != "" {
		d.LocalAddr = net.TCPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr(from), 0))
	}
	c, err := d.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(20 * time.Second))
	rc := &rawClient{t: t, conn: c, r: wire.NewReader(c), from: from}
	t.Cleanup(func() { c.Close() })
	rc.expect(220)
	return rc
}

func (rc *rawClient) read() wire.Reply {
	rc.t.Helper()
	rep, err := wire.ReadReply(rc.r)
	if err != nil {
		rc.t.Fatalf("read reply: %v", err)
	}
	return rep
}

func (rc *rawClient) expect(code int) wire.Reply {
	rc.t.Helper()
	rep := rc.read()
	if rep.Code != code {
		rc.t.Fatalf("got %d %q, want %d", rep.Code, rep.Message(), code)
	}
	return rep
}

func (rc *rawClient) send(format string, args ...any) {
	rc.t.Helper()
	if _, err := fmt.Fprintf(rc.conn, format+"\r\n", args...); err != nil {
		rc.t.Fatalf("send: %v", err)
	}
}

// cmd sends a command and checks the reply code.
func (rc *rawClient) cmd(code int, format string, args ...any) wire.Reply {
	rc.t.Helper()
	rc.send(format, args...)
	return rc.expect(code)
}

// startTLS runs AUTH TLS and the client handshake.
func (rc *rawClient) startTLS(cfg *tls.Config) {
	rc.t.Helper()
	rc.cmd(234, "AUTH TLS")
	tc := tls.Client(rc.conn, cfg)
	if err := tc.Handshake(); err != nil {
		rc.t.Fatalf("handshake: %v", err)
	}
	rc.conn, rc.tls = tc, cfg
	rc.r = wire.NewReader(tc)
}

// login does AUTH TLS, USER, PASS, PBSZ 0, PROT P.
func (rc *rawClient) login(user string, cfg *tls.Config) {
	rc.t.Helper()
	rc.startTLS(cfg)
	rc.cmd(331, "USER %s", user)
	rc.cmd(230, "PASS %s", testPassword)
	rc.cmd(200, "PBSZ 0")
	rc.cmd(200, "PROT P")
}

// epsv returns the passive data address.
func (rc *rawClient) epsv() string {
	rc.t.Helper()
	rep := rc.cmd(229, "EPSV")
	port, err := wire.ParseEPSVReply(rep.Message())
	if err != nil {
		rc.t.Fatal(err)
	}
	host, _, _ := net.SplitHostPort(rc.conn.RemoteAddr().String())
	return net.JoinHostPort(host, fmt.Sprint(port))
}

// transfer runs one data command over a fresh passive connection: it sends
// body (for uploads), reads what the server sends (for downloads), and
// expects 150 and then want on the control connection.
func (rc *rawClient) transfer(cmd string, body []byte, want int) (ftpReply, []byte) {
	rc.t.Helper()
	return rc.transferAt(rc.epsv(), cmd, body, want)
}

// transferAt is transfer over a passive address already obtained.
func (rc *rawClient) transferAt(addr, cmd string, body []byte, want int) (ftpReply, []byte) {
	rc.t.Helper()
	rc.send("%s", cmd)
	var cfg *tls.Config
	if rc.tls != nil {
		cfg = rc.tls
	}
	dc, err := dialData(rc.t, addr, rc.from, cfg)
	if err != nil {
		rc.t.Fatalf("%s: data connection: %v", cmd, err)
	}
	prelim := rc.expect(150)
	var got []byte
	if body != nil {
		dc.Write(body)
	} else {
		got, _ = io.ReadAll(dc)
	}
	dc.Close()
	rc.expect(want)
	return prelim, got
}

type ftpReply = wire.Reply

// dialData connects to a data address, optionally from a given local IP,
// and wraps it in TLS with cfg when cfg is not nil.
func dialData(t *testing.T, addr string, from string, cfg *tls.Config) (net.Conn, error) {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second}
	if from != "" {
		d.LocalAddr = net.TCPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr(from), 0))
	}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if cfg == nil {
		return c, nil
	}
	tc := tls.Client(c, cfg)
	if err := tc.Handshake(); err != nil {
		c.Close()
		return nil, err
	}
	return tc, nil
}

// syncBuffer is the server log of a test: the server writes it from many
// goroutines while the test reads it.
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

func writeFile(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

type netipPrefix = netip.Prefix

func mustPrefix(s string) netip.Prefix { return netip.MustParsePrefix(s) }

func newReader(c net.Conn) *wire.Reader { return wire.NewReader(c) }

func hexString(b []byte) string { return fmt.Sprintf("%x", b) }
