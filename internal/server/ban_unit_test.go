package server

import (
	"bytes"
	"log/slog"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/port21/port21/internal/config"
)

// fakeConn records what a session writes and whether it was closed.
type fakeConn struct {
	net.Conn // nil: any other method panics
	out      bytes.Buffer
	closed   bool
}

func (c *fakeConn) Write(b []byte) (int, error)      { return c.out.Write(b) }
func (c *fakeConn) Close() error                     { c.closed = true; return nil }
func (c *fakeConn) SetWriteDeadline(time.Time) error { return nil }

// Issue 7, item 1: a ban ends the pre-login sessions of the whole /64 (IPv6
// has only ::1 on loopback, so this runs without sockets).
func TestBanEndsPreLoginSessionsOfThe64(t *testing.T) {
	srv := &Server{log: slog.New(slog.DiscardHandler), sessions: map[*session]struct{}{}}
	srv.cfg.Store(&config.Validated{})
	add := func(addr string, loggedIn bool) *fakeConn {
		c := &fakeConn{}
		sess := &session{srv: srv, raw: c, ctrl: c, log: srv.log, remote: netip.AddrPortFrom(netip.MustParseAddr(addr), 2121)}
		if loggedIn {
			name := "bob"
			sess.account.Store(&name)
		}
		srv.sessions[sess] = struct{}{}
		return c
	}
	same := add("fd00:21::1", false)
	sameLoggedIn := add("fd00:21::2", true)
	other64 := add("fd00:22::1", false)
	v4 := add("203.0.113.5", false)
	srv.endPreLogin(netip.MustParseAddr("fd00:21::ffff:1"), nil)
	if !same.closed || !bytes.HasPrefix(same.out.Bytes(), []byte("421 ")) {
		t.Errorf("pre-login session of the banned /64 not ended: closed=%v %q", same.closed, same.out.String())
	}
	if sameLoggedIn.closed || other64.closed || v4.closed {
		t.Errorf("ended: logged-in %v, other /64 %v, IPv4 %v; want none", sameLoggedIn.closed, other64.closed, v4.closed)
	}
}
