package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/port21/port21/internal/ftp"
)

// session is a control connection of the Go client that logs in and holds
// idle sessions: the same client for every server.
type session struct {
	conn net.Conn
	r    *ftp.Reader
}

// sessionTimeout bounds each exchange of the Go client.
const sessionTimeout = 30 * time.Second

// dialSession connects and reads the greeting.
func dialSession(ctx context.Context, addr string) (*session, error) {
	d := net.Dialer{Timeout: sessionTimeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("connect %s: %w", addr, err)
	}
	s := &session{conn: conn, r: ftp.NewReader(conn)}
	if err := s.expect(ctx, "", ftp.CodeServiceReady); err != nil {
		conn.Close()
		return nil, fmt.Errorf("greeting from %s: %w", addr, err)
	}
	return s, nil
}

// expect sends line (unless empty) and reads a reply with the code want.
func (s *session) expect(ctx context.Context, line string, want int) error {
	deadline := time.Now().Add(sessionTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	s.conn.SetDeadline(deadline)
	if line != "" {
		if _, err := s.conn.Write([]byte(line + "\r\n")); err != nil {
			return fmt.Errorf("send %s: %w", verb(line), err)
		}
	}
	reply, err := ftp.ReadReplyLimit(s.r, 100)
	if err != nil {
		return fmt.Errorf("reply to %s: %w", verb(line), err)
	}
	if reply.Code != want {
		return fmt.Errorf("%s: got %q, want %d", verb(line), reply.String(), want)
	}
	return nil
}

// verb names a command without its argument, so a password never reaches
// an error message.
func verb(line string) string {
	if line == "" {
		return "greeting"
	}
	v, _, _ := strings.Cut(line, " ")
	return v
}

// login opens a session and logs in, over TLS (AUTH TLS, a full handshake:
// tlsConf has no session cache) when tlsConf is not nil.
func login(ctx context.Context, addr, user, password string, tlsConf *tls.Config) (*session, error) {
	s, err := dialSession(ctx, addr)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*session, error) {
		s.conn.Close()
		return nil, fmt.Errorf("login %s at %s: %w", user, addr, err)
	}
	if tlsConf != nil {
		if err := s.expect(ctx, "AUTH TLS", ftp.CodeAuthOK); err != nil {
			return fail(err)
		}
		tc := tls.Client(s.conn, tlsConf)
		if err := tc.HandshakeContext(ctx); err != nil {
			return fail(fmt.Errorf("TLS handshake: %w", err))
		}
		s.conn, s.r = tc, ftp.NewReader(tc)
	}
	if err := s.expect(ctx, "USER "+user, ftp.CodeNeedPassword); err != nil {
		return fail(err)
	}
	if err := s.expect(ctx, "PASS "+password, ftp.CodeLoggedIn); err != nil {
		return fail(err)
	}
	return s, nil
}

// quit says QUIT, waits for 221 and closes (with close_notify under TLS).
func (s *session) quit(ctx context.Context) error {
	err := s.expect(ctx, "QUIT", ftp.CodeClosing)
	s.conn.Close() // the server may have closed first: only the 221 counts
	return err
}
