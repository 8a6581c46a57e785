package scan

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/port21/port21/internal/finding"
	"github.com/port21/port21/internal/ftp"
)

// Limits on what one connection may make the scanner read. The service on
// the other end is untrusted: it may send an endless multi-line reply, a
// line of megabytes, or trickle one byte a minute. Lines are capped by
// ftp.Reader, replies by maxReplyLines, the whole connection by
// maxConnBytes, and time by the per-target deadline.
const (
	maxReplyLines = 200
	maxConnBytes  = 1 << 20
	// maxEvidence bounds one reply as recorded in a finding.
	maxEvidence = 2048
)

// ErrTooMuchData reports a service that sent more than the scanner reads
// from one connection.
var ErrTooMuchData = errors.New("scan: service sent too much data")

// capReader fails once more than n bytes have been read through it.
type capReader struct {
	r io.Reader
	n int
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.n <= 0 {
		return 0, ErrTooMuchData
	}
	if len(p) > c.n {
		p = p[:c.n]
	}
	n, err := c.r.Read(p)
	c.n -= n
	return n, err
}

// conn is one control connection to the target, plain or TLS.
type conn struct {
	raw  net.Conn
	c    net.Conn // raw, or the TLS connection over it
	r    *ftp.Reader
	cr   *capReader
	tls  *tls.ConnectionState
	stop func() bool // unregisters the close-on-cancel hook
	// deadline is the target's deadline, set on the connection.
	deadline time.Time
}

// newConn wraps c, whose deadline the caller has set. Cancelling ctx closes
// the connection, which unblocks any read or write at once.
func newConn(ctx context.Context, c net.Conn) *conn {
	cc := &conn{raw: c, c: c}
	cc.deadline, _ = ctx.Deadline()
	cc.cr = &capReader{r: c, n: maxConnBytes}
	cc.r = ftp.NewReader(cc.cr)
	cc.stop = context.AfterFunc(ctx, func() { c.Close() })
	return cc
}

// close says QUIT, without waiting long for the answer, and closes.
func (c *conn) close() {
	c.stop()
	_ = c.c.SetDeadline(time.Now().Add(500 * time.Millisecond))
	_, _ = ftp.Command{Verb: "QUIT"}.WriteTo(c.c)
	c.c.Close()
}

// reply reads one reply.
func (c *conn) reply() (ftp.Reply, error) {
	r, err := ftp.ReadReplyLimit(c.r, maxReplyLines)
	if err != nil {
		return r, fmt.Errorf("read reply: %w", err)
	}
	return r, nil
}

// errClosing reports a 421 reply: the server is closing the connection.
var errClosing = errors.New("the server closed the connection (421)")

// cmd sends one command and reads its reply; ev records the exchange, with
// the argument of PASS masked. Every line goes through ftp.Command, which
// refuses CR, LF and NUL, so a name taken from a listing cannot smuggle a
// second command. A 421 reply is returned with errClosing: the connection is
// no use after it.
func (c *conn) cmd(line string) (ftp.Reply, finding.Evidence, error) {
	ev := finding.Evidence{Sent: maskPass(line)}
	verb, arg, _ := strings.Cut(line, " ")
	if _, err := (ftp.Command{Verb: verb, Arg: arg}).WriteTo(c.c); err != nil {
		return ftp.Reply{}, ev, fmt.Errorf("send %s: %w", verb, err)
	}
	r, err := c.reply()
	if err != nil {
		return r, ev, fmt.Errorf("%s: %w", verb, err)
	}
	ev.Received = replyText(r)
	if r.Code == ftp.CodeServiceNotAvailable {
		return r, ev, fmt.Errorf("%s: %w: %s", verb, errClosing, replyText(r))
	}
	return r, ev, nil
}

// isEOF reports a connection that ended, between lines or inside one.
func isEOF(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// handshakeTimeout bounds a TLS handshake within the target's time-out:
// a plain server that waits for a command never answers a ClientHello.
const handshakeTimeout = 5 * time.Second

// startTLS upgrades the connection with cfg. Bytes the server sent before
// the handshake are discarded: they were not protected.
func (c *conn) startTLS(cfg *tls.Config) error {
	tc := tls.Client(c.raw, cfg)
	hs := time.Now().Add(handshakeTimeout)
	if !c.deadline.IsZero() && c.deadline.Before(hs) {
		hs = c.deadline
	}
	_ = c.raw.SetDeadline(hs)
	err := tc.Handshake()
	_ = c.raw.SetDeadline(c.deadline)
	if err != nil {
		return err
	}
	st := tc.ConnectionState()
	c.tls = &st
	c.c = tc
	c.cr.r = tc
	c.r.Reset(c.cr)
	return nil
}

func maskPass(line string) string {
	if len(line) >= 5 && strings.EqualFold(line[:5], "PASS ") {
		return line[:5] + "****"
	}
	return line
}

// replyText renders a reply as it was received, codes and all, one line per
// line, made safe to print.
func replyText(r ftp.Reply) string {
	var b strings.Builder
	for i, l := range r.Lines {
		if i > 0 {
			b.WriteByte('\n')
		}
		switch {
		case len(r.Lines) == 1:
			fmt.Fprintf(&b, "%d %s", r.Code, l)
		case i == 0:
			fmt.Fprintf(&b, "%d-%s", r.Code, l)
		case i == len(r.Lines)-1:
			fmt.Fprintf(&b, "%d %s", r.Code, l)
		default:
			b.WriteString(l)
		}
		if b.Len() > maxEvidence {
			break
		}
	}
	return clean(b.String(), maxEvidence)
}

// message is a reply's text without codes, lines joined by "\n", made safe:
// the form fingerprint.Observation wants.
func message(r ftp.Reply) string {
	return clean(strings.Join(r.Lines, "\n"), maxEvidence)
}

// clean makes text from the network safe to store and print: valid UTF-8,
// no control characters but newlines and tabs (a banner must not be able to
// move a terminal's cursor or colour a report), at most max bytes.
func clean(s string, max int) string {
	var b strings.Builder
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		if b.Len() >= max {
			b.WriteString("...")
			break
		}
		switch {
		case r == '\n' || r == '\t':
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0:
			fmt.Fprintf(&b, "\\x%02x", r)
		case r == utf8.RuneError:
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
