package faults

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jlaffaye/ftp"
)

// TestAbandonedSessionsReleaseEverything: 40 sessions at once against the
// real binary walk away from their transfers in every way a client can:
// closing a download's data connection half-way, cutting an upload
// (without close_notify), closing the control connection in the middle of
// a download, and asking for a transfer whose data connection never comes
// (425 after data-timeout). Once they are gone the server holds no more
// sockets, no file under the homes, and no more goroutines than before;
// no temporary file is left and no cut upload stands under its name.
func TestAbandonedSessionsReleaseEverything(t *testing.T) {
	data := t.TempDir()
	srv, password := start(t, data, "--metrics-listen", "127.0.0.1:0", "--data-timeout", "2s",
		"--passive-ports", "28000-28999", "--max-clients-per-ip", "32")
	homes := filepath.Join(data, "home")
	home := filepath.Join(homes, "port21")
	if err := os.MkdirAll(home, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, "big.bin"), bytes.Repeat([]byte("b"), 64<<20), 0o640); err != nil {
		t.Fatal(err)
	}
	warm := srv.dial(t, password)
	if _, err := warm.NameList("/"); err != nil {
		t.Fatal(err)
	}
	warm.Quit()
	settle(10*time.Second, func() bool { return srv.metrics(t)["port21_sessions"] == 0 })
	time.Sleep(time.Second)
	baseSockets, _, _ := srv.fdsOf(homes)
	baseG := srv.metrics(t)["go_goroutines"]

	// dial logs in over FTPS and returns the control connection too.
	dial := func(from string) (*ftp.ServerConn, net.Conn, error) {
		var mu sync.Mutex
		var control net.Conn
		d := net.Dialer{Timeout: 10 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
		cfg := &tls.Config{InsecureSkipVerify: true, ServerName: "port21", ClientSessionCache: tls.NewLRUClientSessionCache(4)}
		c, err := ftp.Dial(srv.addr, ftp.DialWithExplicitTLS(cfg), ftp.DialWithTimeout(10*time.Second),
			// With a dial function jlaffaye leaves the data connections'
			// TLS to it: the first connection is the control connection,
			// the others get TLS here (lazily, as jlaffaye does).
			ftp.DialWithDialFunc(func(network, address string) (net.Conn, error) {
				nc, err := d.Dial(network, address)
				if err != nil {
					return nil, err
				}
				mu.Lock()
				defer mu.Unlock()
				if control == nil {
					control = nc
					return nc, nil
				}
				return tls.Client(nc, cfg), nil
			}))
		if err != nil {
			return nil, nil, err
		}
		if err := c.Login("port21", password); err != nil {
			return nil, nil, err
		}
		mu.Lock()
		defer mu.Unlock()
		return c, control, nil
	}
	ways := []func(i int, from string) error{
		func(i int, from string) error { // a download's data connection closed half-way
			c, _, err := dial(from)
			if err != nil {
				return err
			}
			defer c.Quit()
			r, err := c.Retr("big.bin")
			if err != nil {
				return fmt.Errorf("RETR: %w", err)
			}
			io.CopyN(io.Discard, r, 1<<20)
			r.Close() // the server answers 426; the session goes on
			_, err = c.NameList("/")
			return err
		},
		func(i int, from string) error { // an upload cut without close_notify
			rc, err := openRaw(srv.addr, rawDialer(from), "port21", password)
			if err != nil {
				return err
			}
			defer rc.conn.Close()
			dc, _, err := rc.data(fmt.Sprintf("STOR cut%02d.bin", i))
			if err != nil {
				return err
			}
			dc.Write(bytes.Repeat([]byte("c"), 1<<20))
			dc.NetConn().Close() // TCP FIN, no close_notify
			if _, err := rc.expect("426"); err != nil {
				return fmt.Errorf("an upload cut short: %w", err)
			}
			_, err = rc.cmd("221", "QUIT")
			return err
		},
		func(i int, from string) error { // the control connection closed mid-download
			c, control, err := dial(from)
			if err != nil {
				return err
			}
			r, err := c.Retr("big.bin")
			if err != nil {
				return fmt.Errorf("RETR: %w", err)
			}
			io.CopyN(io.Discard, r, 1<<20)
			control.Close()
			// Not reading for a moment lets the server's abort win the
			// race on a loaded machine: past it, only what the socket
			// buffers hold (a few MiB) can still arrive, never the rest.
			time.Sleep(time.Second)
			n, _ := io.Copy(io.Discard, r)
			r.Close()
			if n >= 32<<20 {
				return fmt.Errorf("the whole download came after the control connection closed")
			}
			return nil
		},
		func(i int, from string) error { // a data connection that never comes
			rc, err := openRaw(srv.addr, rawDialer(from), "port21", password)
			if err != nil {
				return err
			}
			defer rc.conn.Close()
			if _, err := rc.epsv(); err != nil {
				return err
			}
			fmt.Fprintf(rc.conn, "RETR big.bin\r\n")
			if _, err := rc.expect("150"); err != nil {
				return err
			}
			msg, err := rc.expect("425")
			if err != nil {
				return err
			}
			if !strings.Contains(msg, "No data connection") {
				return fmt.Errorf("425 says %q", msg)
			}
			_, err = rc.cmd("221", "QUIT")
			return err
		},
	}
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			from := fmt.Sprintf("127.0.30.%d", 1+i/8)
			if err := ways[i%len(ways)](i, from); err != nil {
				errs <- fmt.Errorf("session %d: %w", i, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		t.Logf("server log:\n%s", srv.logText())
	}

	if !settle(15*time.Second, func() bool { return srv.metrics(t)["port21_sessions"] == 0 }) {
		t.Errorf("%v sessions still open", srv.metrics(t)["port21_sessions"])
	}
	if !settle(10*time.Second, func() bool { s, f, _ := srv.fdsOf(homes); return s <= baseSockets && f == 0 }) {
		s, f, _ := srv.fdsOf(homes)
		t.Errorf("server sockets: %d before, %d after; files open under the homes: %d (%s)", baseSockets, s, f, srv.fdSummary())
	}
	if !settle(10*time.Second, func() bool { return srv.metrics(t)["go_goroutines"] <= baseG+10 }) {
		t.Errorf("server goroutines: %v before, %v after", baseG, srv.metrics(t)["go_goroutines"])
	}
	if left := temporaries(t, home); len(left) > 0 {
		t.Errorf("temporary uploads left: %v", left)
	}
	entries, _ := os.ReadDir(home)
	for _, e := range entries {
		if e.Name() != "big.bin" {
			t.Errorf("%s stands in the home after its upload was cut", e.Name())
		}
	}
}

func rawDialer(from string) *net.Dialer {
	return &net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
}
