package peers

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/port21/port21/internal/ftp"
)

// control is a minimal FTP control connection for checking what a peer
// does, command by command, without a client library's opinions.
type control struct {
	t    testing.TB
	conn net.Conn
	r    *ftp.Reader
	// greeting is the 220 reply.
	greeting ftp.Reply
}

// dialControl connects to addr and reads the greeting. Every exchange is
// bounded by one deadline for the whole connection.
func dialControl(t testing.TB, addr string) *control {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	c := &control{t: t, conn: conn, r: ftp.NewReader(conn)}
	c.greeting = c.read()
	return c
}

func (c *control) read() ftp.Reply {
	c.t.Helper()
	reply, err := ftp.ReadReplyLimit(c.r, 200)
	if err != nil {
		c.t.Fatalf("reading reply: %v", err)
	}
	return reply
}

// cmd sends one command line and returns the reply.
func (c *control) cmd(format string, args ...any) ftp.Reply {
	c.t.Helper()
	line := fmt.Sprintf(format, args...)
	if _, err := fmt.Fprintf(c.conn, "%s\r\n", line); err != nil {
		c.t.Fatalf("sending %q: %v", line, err)
	}
	return c.read()
}

// startTLS sends AUTH TLS and, if the server agrees (234), runs the
// handshake with cfg. It returns the AUTH reply, and the connection state
// or the handshake error.
func (c *control) startTLS(cfg *tls.Config) (ftp.Reply, tls.ConnectionState, error) {
	c.t.Helper()
	reply := c.cmd("AUTH TLS")
	if reply.Code != 234 {
		return reply, tls.ConnectionState{}, fmt.Errorf("AUTH TLS answered %d", reply.Code)
	}
	tc := tls.Client(c.conn, cfg)
	if err := tc.Handshake(); err != nil {
		return reply, tls.ConnectionState{}, err
	}
	c.conn = tc
	c.r = ftp.NewReader(tc)
	return reply, tc.ConnectionState(), nil
}

// trusting returns a TLS client configuration that trusts only the peer's
// own self-signed certificate and checks it for 127.0.0.1.
func trusting(t testing.TB, certFile string) *tls.Config {
	t.Helper()
	pem, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatalf("no certificate in %s", certFile)
	}
	return &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
}

// legacyTLS returns cfg limited to TLS 1.0 and 1.1 with the CBC suites
// those versions need: a handshake succeeds only if the server still
// accepts a legacy protocol.
func legacyTLS(cfg *tls.Config) *tls.Config {
	cfg = cfg.Clone()
	cfg.MinVersion = tls.VersionTLS10
	cfg.MaxVersion = tls.VersionTLS11
	cfg.CipherSuites = []uint16{
		tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
		tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
		tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
		tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
	}
	return cfg
}

// replyText is a reply on one line, for messages.
func replyText(r ftp.Reply) string {
	return strings.ReplaceAll(r.String(), "\r\n", " | ")
}
