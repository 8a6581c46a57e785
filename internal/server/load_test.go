package server

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jlaffaye/ftp"

	"github.com/port21/port21/internal/config"
	"github.com/port21/port21/internal/users"
)

// envInt reads a test knob from the environment: the default suite runs a
// short load, PORT21_LOAD_SESSIONS and PORT21_LOAD_SECONDS make it a soak.
func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

func openFDs() int {
	entries, _ := os.ReadDir("/proc/self/fd")
	return len(entries)
}

// settle waits until cond holds or the time runs out, and says which.
func settle(d time.Duration, cond func() bool) bool {
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}

func (ts *testServer) sessionCount() int {
	ts.srv.mu.Lock()
	defer ts.srv.mu.Unlock()
	return len(ts.srv.sessions)
}

// TestLoadMixed: many concurrent FTPS sessions from several addresses
// upload, download (checking every byte by SHA-256), list and rename for a
// bounded time. No operation may fail, and once they have quit the server
// holds no more goroutines or file descriptors than before.
func TestLoadMixed(t *testing.T) {
	sessions := envInt("PORT21_LOAD_SESSIONS", 60)
	duration := time.Duration(envInt("PORT21_LOAD_SECONDS", 3)) * time.Second
	ts := startServer(t, func(c *config.Config) {
		c.MaxClients = sessions + 10
		c.MaxClientsPerIP = sessions
	})
	ts.addUser(t, "load", nil)
	baseG, baseFD := runtime.NumGoroutine(), openFDs()

	var ops, failures atomic.Int64
	var firstErr sync.Once
	fail := func(err error) {
		failures.Add(1)
		firstErr.Do(func() { t.Errorf("first failure: %v", err) })
	}
	var wg sync.WaitGroup
	stop := time.Now().Add(duration)
	for i := 0; i < sessions; i++ {
		// Eight sessions per source address: all of 127/8 is local.
		from := fmt.Sprintf("127.0.%d.%d", 10+i/8/250, 1+(i/8)%250)
		d := net.Dialer{Timeout: 10 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
		c, err := ftp.Dial(ts.addr, ftp.DialWithExplicitTLS(clientTLS()), ftp.DialWithDialer(d), ftp.DialWithTimeout(20*time.Second))
		if err != nil {
			t.Fatalf("session %d: dial: %v", i, err)
		}
		if err := c.Login("load", testPassword); err != nil {
			t.Fatalf("session %d: login: %v", i, err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Quit()
			dir := fmt.Sprintf("s%03d", i)
			if err := c.MakeDir(dir); err != nil {
				fail(err)
				return
			}
			sums := map[string][32]byte{}
			var names []string
			for k := 0; time.Now().Before(stop); k++ {
				ops.Add(1)
				switch op := k % 4; {
				case op == 0 || len(names) == 0:
					n, _ := rand.Int(rand.Reader, big.NewInt(64<<10))
					body := make([]byte, 1+n.Int64())
					rand.Read(body)
					name := fmt.Sprintf("%s/f%04d", dir, k)
					if err := c.Stor(name, bytes.NewReader(body)); err != nil {
						fail(fmt.Errorf("STOR %s: %w", name, err))
						continue
					}
					sums[name] = sha256.Sum256(body)
					names = append(names, name)
				case op == 1:
					name := names[k%len(names)]
					r, err := c.Retr(name)
					if err != nil {
						fail(fmt.Errorf("RETR %s: %w", name, err))
						continue
					}
					got, err := io.ReadAll(r)
					r.Close()
					if err != nil || sha256.Sum256(got) != sums[name] {
						fail(fmt.Errorf("RETR %s: %d bytes differ (%v)", name, len(got), err))
					}
				case op == 2:
					entries, err := c.List(dir)
					if err != nil || len(entries) != len(names) {
						fail(fmt.Errorf("LIST %s: %d entries, want %d (%v)", dir, len(entries), len(names), err))
					}
				default:
					j := k % len(names)
					to := names[j] + "r"
					if err := c.Rename(names[j], to); err != nil {
						fail(fmt.Errorf("RNFR/RNTO %s: %w", names[j], err))
						continue
					}
					sums[to] = sums[names[j]]
					delete(sums, names[j])
					names[j] = to
				}
			}
		}()
	}
	wg.Wait()
	t.Logf("%d sessions, %d operations in %s, %d failures", sessions, ops.Load(), duration, failures.Load())
	if !settle(5*time.Second, func() bool { return ts.sessionCount() == 0 }) {
		t.Errorf("%d sessions still open after every client quit", ts.sessionCount())
	}
	if !settle(5*time.Second, func() bool { return runtime.NumGoroutine() <= baseG+5 }) {
		t.Errorf("goroutines: %d before, %d after; %s", baseG, runtime.NumGoroutine(), goroutineSummary())
	}
	// The store keeps up to 8 database connections open, two files each.
	if !settle(5*time.Second, func() bool { return openFDs() <= baseFD+18 }) {
		t.Errorf("file descriptors: %d before, %d after: %s", baseFD, openFDs(), fdSummary())
	}
}

// fdSummary names what the process's descriptors point to.
func fdSummary() string {
	entries, _ := os.ReadDir("/proc/self/fd")
	counts := map[string]int{}
	for _, e := range entries {
		target, _ := os.Readlink("/proc/self/fd/" + e.Name())
		if i := strings.IndexAny(target, ":["); i > 0 && !strings.HasPrefix(target, "/") {
			target = target[:i]
		}
		counts[target]++
	}
	return fmt.Sprint(counts)
}

// TestAbandonedTransfersReleaseEverything: a client that hangs up in the
// middle of a download or an upload (its data connection, or its control
// connection), a data connection that never comes after EPSV or PASV (425,
// and the port is free again), an active-mode connection refused or never
// handshaken (425), EPSV without a transfer, and ABOR at every
// phase (after PASV, before the data connection, during a download or an
// upload, after the transfer), under TLS and in clear: each leaves no session, goroutine,
// descriptor, passive slot, passive port or temporary file behind, and no
// file under the name of an upload that did not finish.
func TestAbandonedTransfersReleaseEverything(t *testing.T) {
	ts := startServer(t, func(c *config.Config) {
		c.DataTimeout = config.Duration{Duration: time.Second}
		c.MaxPassivePerIP = 2
		// Two ports in all (below the ephemeral range, see passive_test.go):
		// a port not given back shows at the end.
		c.PassivePorts = "29120-29121"
		c.ActiveMode = true
	})
	ts.addUser(t, "alice", func(u *users.User) { u.AllowCleartext = true })
	writeFile(t, filepath.Join(ts.home("alice"), "big.bin"), bytes.Repeat([]byte("b"), 32<<20))
	baseG, baseFD := runtime.NumGoroutine(), openFDs()

	phases := map[string]func(rc *rawClient){
		"hang up mid-download": func(rc *rawClient) {
			addr := rc.epsv()
			rc.send("RETR big.bin")
			dc, err := dialData(rc.t, addr, "", rc.tls)
			if err != nil {
				rc.t.Fatal(err)
			}
			rc.expect(150)
			dc.Read(make([]byte, 1<<16))
			dc.Close()
		},
		"hang up mid-upload": func(rc *rawClient) {
			addr := rc.epsv()
			rc.send("STOR up.bin")
			dc, err := dialData(rc.t, addr, "", rc.tls)
			if err != nil {
				rc.t.Fatal(err)
			}
			rc.expect(150)
			dc.Write(bytes.Repeat([]byte("u"), 1<<20))
			if tc, ok := dc.(interface{ NetConn() net.Conn }); ok {
				dc = tc.NetConn() // no close_notify
			} else if tcp, ok := dc.(*net.TCPConn); ok {
				// In clear a FIN is how a file ends (stream mode), and
				// the server rightly keeps what came before it: only a
				// reset cuts an upload off.
				tcp.SetLinger(0)
			}
			dc.Close()
		},
		"data connection never comes": func(rc *rawClient) {
			rc.epsv()
			rc.send("RETR big.bin")
			rc.expect(150)
			rc.expect(425)
		},
		"EPSV without a transfer": func(rc *rawClient) {
			rc.epsv()
			rc.epsv()
		},
		"ABOR before the data connection": func(rc *rawClient) {
			rc.epsv()
			rc.send("RETR big.bin")
			rc.expect(150)
			rc.send("ABOR")
			for rep := rc.read(); rep.Code != 226 && rep.Code != 225; rep = rc.read() {
			}
		},
		"PASV, RETR, and no data connection": func(rc *rawClient) {
			rc.pasv()
			rc.send("RETR big.bin")
			rc.expect(150)
			if rep := rc.expect(425); !strings.Contains(rep.Message(), "No data connection arrived") {
				rc.t.Errorf("425 says %q", rep.Message())
			}
			// The port came back: the session gets one again at once.
			rc.pasv()
		},
		"PORT to a port where nothing listens": func(rc *rawClient) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				rc.t.Fatal(err)
			}
			port := ln.Addr().(*net.TCPAddr).Port
			ln.Close()
			rc.cmd(200, "PORT 127,0,0,1,%d,%d", port>>8, port&0xff)
			rc.send("RETR big.bin")
			rc.expect(150)
			rc.expect(425)
		},
		"PORT to a client that accepts and never speaks": func(rc *rawClient) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				rc.t.Fatal(err)
			}
			defer ln.Close()
			accepted := make(chan net.Conn, 1)
			go func() {
				if c, err := ln.Accept(); err == nil {
					accepted <- c
				}
			}()
			port := ln.Addr().(*net.TCPAddr).Port
			rc.cmd(200, "PORT 127,0,0,1,%d,%d", port>>8, port&0xff)
			rc.send("RETR big.bin")
			rc.expect(150)
			if rc.tls != nil {
				rc.expect(425) // the handshake's deadline
			} else {
				rc.expect(426) // in clear the download starts, and stalls
			}
			select {
			case c := <-accepted:
				c.Close()
			case <-time.After(5 * time.Second):
				rc.t.Error("the server never connected")
			}
		},
		"PASV and no transfer within data-timeout": func(rc *rawClient) {
			addr := fmt.Sprintf("127.0.0.1:%d", rc.pasv())
			// The port is free again after data-timeout (1 s here): an
			// unused listener must not hold it until the session ends.
			var c net.Conn
			var err error
			if !settle(5*time.Second, func() bool {
				if c, err = net.DialTimeout("tcp", addr, time.Second); err == nil {
					c.Close()
				}
				return err != nil
			}) {
				rc.t.Errorf("the passive port %s still accepts 5 s after PASV, past data-timeout", addr)
			}
			rc.send("RETR big.bin")
			rc.expect(150)
			rc.expect(425)
		},
		"ABOR after PASV, before any transfer": func(rc *rawClient) {
			addr := fmt.Sprintf("127.0.0.1:%d", rc.pasv())
			rc.cmd(226, "ABOR")
			// The listener is closed: nothing accepts there any more.
			if c, err := net.DialTimeout("tcp", addr, 2*time.Second); err == nil {
				c.Close()
				rc.t.Errorf("the passive port %s still accepts after ABOR", addr)
			}
		},
		"ABOR after the transfer": func(rc *rawClient) {
			rc.transfer("NLST", nil, 226)
			rc.cmd(226, "ABOR")
			rc.transfer("NLST", nil, 226) // the session goes on
		},
		"ABOR during an upload": func(rc *rawClient) {
			addr := rc.epsv()
			rc.send("STOR abor-up.bin")
			dc, err := dialData(rc.t, addr, "", rc.tls)
			if err != nil {
				rc.t.Fatal(err)
			}
			defer dc.Close()
			rc.expect(150)
			dc.Write(bytes.Repeat([]byte("u"), 1<<20))
			rc.send("ABOR")
			rc.expect(426) // the transfer's end, then ABOR's own reply
			rc.expect(226)
		},
		"control connection closed mid-download": func(rc *rawClient) {
			addr := rc.epsv()
			rc.send("RETR big.bin")
			dc, err := dialData(rc.t, addr, "", rc.tls)
			if err != nil {
				rc.t.Fatal(err)
			}
			defer dc.Close()
			rc.expect(150)
			dc.Read(make([]byte, 1<<16))
			rc.conn.Close()
			// The server ends the transfer: the download stops short. Read
			// at most 8 MiB, slowly enough for the abort to come first and
			// steadily enough that the data time-out does not end it
			// instead, until the session is gone; the abort resets the
			// connection, so what is left to drain is what the socket
			// buffers held.
			dc.SetDeadline(time.Now().Add(30 * time.Second))
			var n int64
			buf := make([]byte, 16<<10)
			for i := 0; i < 500 && ts.sessionCount() > 0; i++ {
				m, err := dc.Read(buf)
				n += int64(m)
				if err != nil {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			if !settle(10*time.Second, func() bool { return ts.sessionCount() == 0 }) {
				rc.t.Error("the session outlived its control connection by 10 s")
			}
			m, _ := io.Copy(io.Discard, dc)
			n += m
			rc.t.Logf("%d bytes after the control connection closed", n)
			if n >= 32<<20 {
				rc.t.Errorf("the whole file came after the control connection closed")
			}
		},
		"ABOR during a download": func(rc *rawClient) {
			addr := rc.epsv()
			rc.send("RETR big.bin")
			dc, err := dialData(rc.t, addr, "", rc.tls)
			if err != nil {
				rc.t.Fatal(err)
			}
			defer dc.Close()
			rc.expect(150)
			dc.Read(make([]byte, 1<<16))
			rc.send("ABOR")
			rc.expect(426)
			rc.expect(226)
		},
	}
	// In clear too: there the passive listener accepts in the transfer's
	// goroutine, not in one of its own.
	for _, secure := range []bool{true, false} {
		for name, phase := range phases {
			if !secure {
				name += " (clear)"
			}
			t.Run(name, func(t *testing.T) {
				// One at a time: the last phase's session has let go.
				if !settle(10*time.Second, func() bool { return ts.sessionCount() == 0 }) {
					t.Fatalf("%d sessions still open", ts.sessionCount())
				}
				rc := ts.raw(t)
				if secure {
					rc.login("alice", clientTLS())
				} else {
					rc.cmd(331, "USER alice")
					rc.cmd(230, "PASS %s", testPassword)
				}
				phase(rc)
				rc.conn.Close()
			})
		}
	}
	if !settle(10*time.Second, func() bool { return ts.sessionCount() == 0 }) {
		t.Errorf("%d sessions still open", ts.sessionCount())
	}
	if !settle(10*time.Second, func() bool { return runtime.NumGoroutine() <= baseG+3 }) {
		t.Errorf("goroutines: %d before, %d after; %s", baseG, runtime.NumGoroutine(), goroutineSummary())
	}
	if !settle(10*time.Second, func() bool { return openFDs() <= baseFD+3 }) {
		t.Errorf("file descriptors: %d before, %d after", baseFD, openFDs())
	}
	entries, _ := os.ReadDir(ts.home("alice"))
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".port21-upload-") {
			t.Errorf("temporary upload %s left behind", e.Name())
		}
	}
	if _, err := os.Stat(filepath.Join(ts.home("alice"), "up.bin")); err == nil {
		t.Error("an upload cut off stands under its name")
	}
	if _, err := os.Stat(filepath.Join(ts.home("alice"), "abor-up.bin")); err == nil {
		t.Error("an aborted upload stands under its name")
	}
	// Every passive slot and port came back: the address may hold its
	// maximum again, on the only two ports there are, and transfer.
	rc1, rc2 := ts.raw(t), ts.raw(t)
	rc1.login("alice", clientTLS())
	rc2.login("alice", clientTLS())
	a1, a2 := rc1.epsv(), rc2.epsv()
	rc1.transferAt(a1, "NLST", nil, 226)
	rc2.transferAt(a2, "NLST", nil, 226)
}

// goroutineSummary counts the live goroutines by the function they were
// created in, for a leak report that fits on a screen.
func goroutineSummary() string {
	buf := make([]byte, 8<<20)
	buf = buf[:runtime.Stack(buf, true)]
	counts := map[string]int{}
	for _, g := range strings.Split(string(buf), "\n\n") {
		if i := strings.Index(g, "created by "); i >= 0 {
			line, _, _ := strings.Cut(g[i+len("created by "):], "\n")
			counts[line]++
		}
	}
	var out []string
	for k, v := range counts {
		out = append(out, fmt.Sprintf("%d x %s", v, k))
	}
	return strings.Join(out, "; ")
}
