package server

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jlaffaye/ftp"

	"github.com/port21/port21/internal/config"
)

// TestHostileClientsLegitimateUnharmed: while a legitimate client on its own
// address transfers files without pause, hostile clients on other
// addresses do what attackers do to FTP servers: slowloris, connection
// floods, command floods, over-long lines, garbage and truncated TLS
// handshakes, a client that never reads its replies, and thousands of PASV
// in one session. Every legitimate transfer must succeed, byte for byte.
func TestHostileClientsLegitimateUnharmed(t *testing.T) {
	ts := startServer(t, func(c *config.Config) {
		c.LoginTimeout = config.Duration{Duration: 3 * time.Second}
		c.MaxLoginFailures = 0 // this test is about load, not bans
	})
	ts.addUser(t, "alice", nil)
	ts.addUser(t, "mallory", nil)
	// The legitimate client, on its own address, throughout.
	d := net.Dialer{Timeout: 10 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.3.100")}}
	c, err := ftp.Dial(ts.addr, ftp.DialWithExplicitTLS(clientTLS()), ftp.DialWithDialer(d), ftp.DialWithTimeout(10*time.Second))
	if err != nil {
		t.Fatalf("legitimate client: %v", err)
	}
	if err := c.Login("alice", testPassword); err != nil {
		t.Fatalf("legitimate login: %v", err)
	}
	// The attacks run for duration from now; the legitimate client has
	// logged in already, since that alone can take a while on a busy machine.
	const duration = 4 * time.Second
	stop := make(chan struct{})
	time.AfterFunc(duration, func() { close(stop) })
	stopped := func() bool {
		select {
		case <-stop:
			return true
		default:
			return false
		}
	}
	var attackers sync.WaitGroup
	attack := func(name, from string, f func(dial func() (net.Conn, error))) {
		attackers.Add(1)
		go func() {
			defer attackers.Done()
			d := net.Dialer{Timeout: 2 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
			f(func() (net.Conn, error) {
				c, err := d.Dial("tcp", ts.addr)
				if err == nil {
					c.SetDeadline(time.Now().Add(duration + 2*time.Second))
				}
				return c, err
			})
		}()
	}
	// Slowloris: many connections, a byte now and then, never a line.
	attack("slowloris", "127.0.3.1", func(dial func() (net.Conn, error)) {
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for i := 0; i < 200 && !stopped(); i++ {
			if c, err := dial(); err == nil {
				conns = append(conns, c)
			}
		}
		for !stopped() {
			for _, c := range conns {
				c.Write([]byte("N"))
			}
			time.Sleep(500 * time.Millisecond)
		}
	})
	// A connection flood: connect and hang up, as fast as possible.
	attack("flood", "127.0.3.2", func(dial func() (net.Conn, error)) {
		for !stopped() {
			if c, err := dial(); err == nil {
				c.Close()
			}
		}
	})
	// Garbage where a TLS handshake belongs, and handshakes cut short.
	attack("tls garbage", "127.0.3.3", func(dial func() (net.Conn, error)) {
		for i := 0; !stopped(); i++ {
			c, err := dial()
			if err != nil {
				continue
			}
			r := newReader(c)
			r.ReadLine()
			c.Write([]byte("AUTH TLS\r\n"))
			r.ReadLine()
			if i%2 == 0 {
				c.Write(bytes.Repeat([]byte{0x16, 0x03, 0x01, 0xff}, 64))
			} else {
				c.Write([]byte{0x16, 0x03, 0x01, 0x02, 0x00, 0x01})
			}
			c.Close()
		}
	})
	// Logged in: a command flood, lines past the limit, thousands of PASV.
	attack("command flood", "127.0.3.4", func(dial func() (net.Conn, error)) {
		c, err := dial()
		if err != nil {
			return
		}
		defer c.Close()
		r := newReader(c)
		r.ReadLine()
		tc := loginRaw(c, r, "mallory")
		if tc == nil {
			return
		}
		long := strings.Repeat("A", 64<<10)
		for i := 0; !stopped(); i++ {
			switch i % 3 {
			case 0:
				fmt.Fprintf(tc, "NOOP\r\n")
			case 1:
				fmt.Fprintf(tc, "PASV\r\n")
			case 2:
				fmt.Fprintf(tc, "SIZE %s\r\n", long)
			}
		}
	})
	// Logged in and never reading a reply: the server must not block on it.
	attack("never reads", "127.0.3.5", func(dial func() (net.Conn, error)) {
		c, err := dial()
		if err != nil {
			return
		}
		defer c.Close()
		r := newReader(c)
		r.ReadLine()
		tc := loginRaw(c, r, "mallory")
		if tc == nil {
			return
		}
		for !stopped() {
			if _, err := fmt.Fprintf(tc, "HELP\r\nFEAT\r\nSTAT\r\n"); err != nil {
				return
			}
		}
	})

	var done, failed atomic.Int64
	for i := 0; (!stopped() || done.Load() < 3) && failed.Load() < 10; i++ {
		body := bytes.Repeat([]byte(fmt.Sprintf("file %d ", i)), 2000+i)
		name := fmt.Sprintf("legit-%d", i%10)
		if err := c.Stor(name, bytes.NewReader(body)); err != nil {
			failed.Add(1)
			t.Errorf("legitimate STOR: %v", err)
			continue
		}
		r, err := c.Retr(name)
		if err != nil {
			failed.Add(1)
			t.Errorf("legitimate RETR: %v", err)
			continue
		}
		got, err := io.ReadAll(r)
		r.Close()
		if err != nil || sha256.Sum256(got) != sha256.Sum256(body) {
			failed.Add(1)
			t.Errorf("legitimate download differs (%d of %d bytes, %v)", len(got), len(body), err)
		}
		done.Add(1)
	}
	c.Quit()
	attackers.Wait()
	t.Logf("legitimate round trips: %d, failed: %d", done.Load(), failed.Load())
	if done.Load() == 0 {
		t.Error("the legitimate client got nothing done")
	}
	// And the server still takes a new client.
	after := ts.dial(t, "alice", clientTLS())
	if _, err := after.List("/"); err != nil {
		t.Errorf("after the attacks: %v", err)
	}
}

// loginRaw logs in over explicit FTPS on an open control connection and
// returns the TLS connection, or nil if anything failed.
func loginRaw(c net.Conn, r interface{ ReadLine() (string, error) }, user string) *tls.Conn {
	c.Write([]byte("AUTH TLS\r\n"))
	if line, err := r.ReadLine(); err != nil || !strings.HasPrefix(line, "234") {
		return nil
	}
	tc := tls.Client(c, clientTLS())
	if err := tc.Handshake(); err != nil {
		return nil
	}
	tr := newReader(tc)
	fmt.Fprintf(tc, "USER %s\r\nPASS %s\r\n", user, testPassword)
	tr.ReadLine()
	if line, err := tr.ReadLine(); err != nil || !strings.HasPrefix(line, "230") {
		return nil
	}
	return tc
}
