package faults

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
)

// rawFTPS is a control connection spoken by hand over explicit FTPS, for
// what jlaffaye/ftp does not do (STOU, a data connection never opened, an
// upload cut without close_notify). Its methods return errors, so that
// sessions running in goroutines can use it; the test* wrappers fail the
// test instead.
type rawFTPS struct {
	conn *tls.Conn
	r    *bufio.Reader
	cfg  *tls.Config
	addr string
	d    *net.Dialer // data connections come from the same address
}

// openRaw connects with d, logs in and sets PROT P and TYPE I.
func openRaw(addr string, d *net.Dialer, user, password string) (*rawFTPS, error) {
	c, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	c.SetDeadline(time.Now().Add(30 * time.Second))
	rc := &rawFTPS{r: bufio.NewReader(c), addr: addr, d: d,
		cfg: &tls.Config{InsecureSkipVerify: true, ServerName: "port21", ClientSessionCache: tls.NewLRUClientSessionCache(4), NextProtos: []string{"ftp"}}}
	fail := func(err error) (*rawFTPS, error) { c.Close(); return nil, err }
	if _, err := rc.expect("220"); err != nil {
		return fail(err)
	}
	fmt.Fprintf(c, "AUTH TLS\r\n")
	if _, err := rc.expect("234"); err != nil {
		return fail(err)
	}
	rc.conn = tls.Client(c, rc.cfg)
	rc.r = bufio.NewReader(rc.conn)
	for _, step := range [][2]string{{"331", "USER " + user}, {"230", "PASS " + password}, {"200", "PBSZ 0"}, {"200", "PROT P"}, {"200", "TYPE I"}} {
		if _, err := rc.cmd(step[0], step[1]); err != nil {
			return fail(err)
		}
	}
	return rc, nil
}

func dialRaw(t *testing.T, addr, user, password string) *rawFTPS {
	t.Helper()
	rc, err := openRaw(addr, &net.Dialer{Timeout: 5 * time.Second}, user, password)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rc.conn.Close() })
	return rc
}

// expect reads one reply (the last line of a multi-line one) and checks
// its code; it returns the reply's text.
func (rc *rawFTPS) expect(code string) (string, error) {
	for {
		line, err := rc.r.ReadString('\n')
		if err != nil {
			return "", fmt.Errorf("waiting for %s: %w", code, err)
		}
		if len(line) >= 4 && line[3] == ' ' {
			if line[:3] != code {
				return "", fmt.Errorf("got %q, want %s", strings.TrimSpace(line), code)
			}
			return strings.TrimSpace(line[4:]), nil
		}
	}
}

func (rc *rawFTPS) cmd(code, line string) (string, error) {
	if _, err := fmt.Fprintf(rc.conn, "%s\r\n", line); err != nil {
		return "", err
	}
	return rc.expect(code)
}

// epsv asks for a passive port and returns its address.
func (rc *rawFTPS) epsv() (string, error) {
	msg, err := rc.cmd("229", "EPSV")
	if err != nil {
		return "", err
	}
	i, j := strings.Index(msg, "(|||"), strings.LastIndex(msg, "|)")
	if i < 0 || j < i {
		return "", fmt.Errorf("EPSV reply %q", msg)
	}
	host, _, _ := net.SplitHostPort(rc.addr)
	return net.JoinHostPort(host, msg[i+4:j]), nil
}

// data sends command over a fresh passive data connection, handshaken
// (resuming the control connection's session), and returns it with the
// text of the 150 reply. The caller closes it.
func (rc *rawFTPS) data(command string) (*tls.Conn, string, error) {
	addr, err := rc.epsv()
	if err != nil {
		return nil, "", err
	}
	c, err := rc.d.Dial("tcp", addr)
	if err != nil {
		return nil, "", err
	}
	c.SetDeadline(time.Now().Add(30 * time.Second))
	fmt.Fprintf(rc.conn, "%s\r\n", command)
	dc := tls.Client(c, rc.cfg)
	if err := dc.Handshake(); err != nil {
		c.Close()
		return nil, "", fmt.Errorf("data connection handshake: %w", err)
	}
	prelim, err := rc.expect("150")
	if err != nil {
		c.Close()
		return nil, "", err
	}
	return dc, prelim, nil
}
