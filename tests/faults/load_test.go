package faults

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jlaffaye/ftp"
)

// loadSettings reads the load test's knobs: PORT21_SOAK (a duration such
// as 10m) makes the short default run a soak; PORT21_LOAD_SESSIONS changes
// how many sessions run at once.
func loadSettings(t *testing.T) (sessions int, d time.Duration) {
	sessions, d = 200, 20*time.Second
	if v := os.Getenv("PORT21_LOAD_SESSIONS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("PORT21_LOAD_SESSIONS=%q: want a positive number", v)
		}
		sessions = n
	}
	if v := os.Getenv("PORT21_SOAK"); v != "" {
		soak, err := time.ParseDuration(v)
		if err != nil || soak <= 0 {
			t.Fatalf("PORT21_SOAK=%q: want a duration such as 10m", v)
		}
		d = soak
	}
	return sessions, d
}

const (
	loadTLSPassword   = "a long password for the load test"
	loadPlainPassword = "another long password, sent in clear"
	// Each session keeps at most this many files, so a soak's disk use is
	// bounded (200 sessions x 16 files x at most 128 KiB).
	loadMaxFiles = 16
	loadMaxSize  = 128 << 10
)

// loadClient is one session of the load test and what it knows it stored.
type loadClient struct {
	c      *ftp.ServerConn
	user   string
	dir    string // its own directory, under the account's home
	sums   map[string][32]byte
	names  []string
	shared [32]byte // the SHA-256 of /shared.bin
	rnd    *mrand.Rand
}

func dialLoad(addr, from, user string, secure bool) (*ftp.ServerConn, error) {
	d := net.Dialer{Timeout: 30 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	opts := []ftp.DialOption{ftp.DialWithDialer(d), ftp.DialWithTimeout(30 * time.Second)}
	password := loadPlainPassword
	if secure {
		// A cache per session: data connections resume its own ticket.
		cfg := &tls.Config{InsecureSkipVerify: true, ServerName: "port21", ClientSessionCache: tls.NewLRUClientSessionCache(4)}
		opts = append(opts, ftp.DialWithExplicitTLS(cfg))
		password = loadTLSPassword
	}
	c, err := ftp.Dial(addr, opts...)
	if err != nil {
		return nil, fmt.Errorf("dial from %s: %w", from, err)
	}
	if err := c.Login(user, password); err != nil {
		c.Quit()
		return nil, fmt.Errorf("login %s from %s: %w", user, from, err)
	}
	return c, nil
}

// step runs one operation chosen at random and returns its error.
func (l *loadClient) step(k int) error {
	op := l.rnd.IntN(10)
	switch {
	case op < 3 || len(l.names) == 0:
		return l.upload(fmt.Sprintf("%s/f%05d", l.dir, k))
	case op == 3:
		// Replace a file: the new content must win whole.
		return l.upload(l.names[l.rnd.IntN(len(l.names))])
	case op < 6:
		name := l.names[l.rnd.IntN(len(l.names))]
		return l.download(name, l.sums[name])
	case op == 6:
		return l.download("/shared.bin", l.shared)
	case op == 7:
		entries, err := l.c.List(l.dir)
		if err != nil {
			return fmt.Errorf("LIST %s: %w", l.dir, err)
		}
		if len(entries) != len(l.names) {
			return fmt.Errorf("LIST %s: %d entries, want %d", l.dir, len(entries), len(l.names))
		}
		return nil
	case op == 8:
		names, err := l.c.NameList(l.dir)
		if err != nil {
			return fmt.Errorf("NLST %s: %w", l.dir, err)
		}
		if len(names) != len(l.names) {
			return fmt.Errorf("NLST %s: %d names, want %d", l.dir, len(names), len(l.names))
		}
		return nil
	default:
		j := l.rnd.IntN(len(l.names))
		from := l.names[j]
		to := fmt.Sprintf("%s/r%05d", l.dir, k)
		if err := l.c.Rename(from, to); err != nil {
			return fmt.Errorf("RNFR %s RNTO %s: %w", from, to, err)
		}
		l.sums[to] = l.sums[from]
		delete(l.sums, from)
		l.names[j] = to
		return nil
	}
}

func (l *loadClient) upload(name string) error {
	if _, ok := l.sums[name]; !ok && len(l.names) >= loadMaxFiles {
		// Make room: delete the oldest file.
		old := l.names[0]
		if err := l.c.Delete(old); err != nil {
			return fmt.Errorf("DELE %s: %w", old, err)
		}
		delete(l.sums, old)
		l.names = l.names[1:]
	}
	body := make([]byte, 1+l.rnd.IntN(loadMaxSize))
	rand.Read(body)
	if err := l.c.Stor(name, bytes.NewReader(body)); err != nil {
		return fmt.Errorf("STOR %s (%d bytes): %w", name, len(body), err)
	}
	if _, ok := l.sums[name]; !ok {
		l.names = append(l.names, name)
	}
	l.sums[name] = sha256.Sum256(body)
	return nil
}

func (l *loadClient) download(name string, want [32]byte) error {
	r, err := l.c.Retr(name)
	if err != nil {
		return fmt.Errorf("RETR %s: %w", name, err)
	}
	h := sha256.New()
	n, err := io.Copy(h, r)
	if cerr := r.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("RETR %s after %d bytes: %w", name, n, err)
	}
	if [32]byte(h.Sum(nil)) != want {
		return fmt.Errorf("RETR %s: %d bytes that are not what was stored", name, n)
	}
	return nil
}

// TestLoad: 200 sessions at once against the real binary (three in four
// over explicit FTPS, the rest in clear), from 25 loopback addresses, upload,
// replace, download (every byte checked by SHA-256, their own files and one
// they all share), list (MLSD and NLST), rename and delete for 20 s
// (PORT21_SOAK=10m for a soak), while SIGHUP reloads the server at random
// moments. No operation may fail, every file on disk must hold what its
// session last stored, and once the clients have quit the server's
// descriptors (/proc/PID/fd) and goroutines (go_goroutines) come back to
// what they were before the load.
func TestLoad(t *testing.T) {
	sessions, duration := loadSettings(t)
	data := t.TempDir()
	addUser(t, data, "load", loadTLSPassword)
	addUser(t, data, "plain", loadPlainPassword, "--allow-cleartext")
	srv, _ := start(t, data, "--metrics-listen", "127.0.0.1:0",
		"--passive-ports", "28000-28999", "--max-clients", strconv.Itoa(sessions+64), "--max-clients-per-ip", "32", "--max-passive-per-ip", "16")
	shared := make([]byte, 1<<20)
	rand.Read(shared)
	for _, user := range []string{"load", "plain"} {
		if err := os.MkdirAll(filepath.Join(data, "home", user), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(data, "home", user, "shared.bin"), shared, 0o640); err != nil {
			t.Fatal(err)
		}
	}

	// A warm-up session of each kind, so that the baseline includes what
	// the server keeps once it has served anyone (the store's pool).
	for i, secure := range []bool{true, false} {
		user := map[bool]string{true: "load", false: "plain"}[secure]
		c, err := dialLoad(srv.addr, "127.0.0.1", user, secure)
		if err != nil {
			t.Fatal(err)
		}
		l := &loadClient{c: c, dir: "/", sums: map[string][32]byte{}, shared: sha256.Sum256(shared), rnd: mrand.New(mrand.NewPCG(uint64(i), 1))}
		if err := l.download("/shared.bin", l.shared); err != nil {
			t.Fatal(err)
		}
		c.Quit()
	}
	settle(10*time.Second, func() bool { return srv.metrics(t)["port21_sessions"] == 0 })
	time.Sleep(time.Second)
	homes := filepath.Join(data, "home")
	baseFD, baseG, baseSummary := srv.fds(t), srv.metrics(t)["go_goroutines"], srv.fdSummary()
	baseSockets, _, basePipes := srv.fdsOf(homes)

	var ops, failures atomic.Int64
	var errMu sync.Mutex
	var errs []error
	fail := func(err error) {
		failures.Add(1)
		errMu.Lock()
		defer errMu.Unlock()
		if len(errs) < 10 {
			errs = append(errs, err)
		}
	}

	// Log in first, then run the operations for the whole duration. The
	// server checks passwords (argon2id) one per core and refuses a login
	// that waits 5 s for its turn: four logins at a time keep the queue
	// short even on a loaded machine.
	clients := make([]*loadClient, sessions)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			// Eight sessions per source address: all of 127/8 is local.
			from := fmt.Sprintf("127.0.%d.%d", 20+i/8/250, 1+(i/8)%250)
			secure := i%4 != 3
			user := map[bool]string{true: "load", false: "plain"}[secure]
			c, err := dialLoad(srv.addr, from, user, secure)
			if err != nil {
				fail(fmt.Errorf("session %d: %w", i, err))
				return
			}
			dir := fmt.Sprintf("/s%03d", i)
			if err := c.MakeDir(dir); err != nil {
				fail(fmt.Errorf("session %d: MKD %s: %w", i, dir, err))
				c.Quit()
				return
			}
			clients[i] = &loadClient{c: c, user: user, dir: dir, sums: map[string][32]byte{}, shared: sha256.Sum256(shared),
				rnd: mrand.New(mrand.NewPCG(uint64(i), uint64(time.Now().UnixNano())))}
		}()
	}
	wg.Wait()
	if failures.Load() > 0 {
		t.Fatalf("%d of %d sessions could not start: %v", failures.Load(), sessions, errs)
	}

	stop := time.Now().Add(duration)
	for _, l := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; time.Now().Before(stop); k++ {
				ops.Add(1)
				if err := l.step(k); err != nil {
					fail(fmt.Errorf("%s %s: %w", l.user, l.dir, err))
					return // the session's state is unknown now
				}
			}
		}()
	}
	// SIGHUP at random moments while the transfers run.
	hups := 0
	for time.Now().Before(stop) {
		time.Sleep(time.Duration(200+mrand.IntN(1800)) * time.Millisecond)
		if err := srv.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatalf("SIGHUP: %v (the server died)\n%s", err, srv.logText())
		}
		hups++
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		t.Fatalf("sessions still running 2 minutes after the end of the load; %d operations, errors so far: %v", ops.Load(), errs)
	}
	t.Logf("%d sessions, %d operations in %s, %d SIGHUPs, %d failures", sessions, ops.Load(), duration, hups, failures.Load())
	for _, err := range errs {
		t.Error(err)
	}
	for _, l := range clients {
		if err := l.c.Quit(); err != nil {
			t.Errorf("%s: QUIT: %v", l.dir, err)
		}
	}
	if srv.cmd.ProcessState != nil {
		t.Fatalf("the server exited during the load:\n%s", srv.logText())
	}

	// What is on disk is exactly what the sessions stored.
	for _, l := range clients {
		home := filepath.Join(data, "home", l.user)
		entries, err := os.ReadDir(filepath.Join(home, l.dir))
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != len(l.names) {
			t.Errorf("%s: %d files on disk, the session stored %d", l.dir, len(entries), len(l.names))
		}
		for name, want := range l.sums {
			b, err := os.ReadFile(filepath.Join(home, name))
			if err != nil || sha256.Sum256(b) != want {
				t.Errorf("%s: on disk %d bytes (%v), not what was stored", path.Join(l.user, name), len(b), err)
			}
		}
	}

	if !settle(20*time.Second, func() bool { return srv.metrics(t)["port21_sessions"] == 0 }) {
		t.Errorf("%v sessions still open after every client quit", srv.metrics(t)["port21_sessions"])
	}
	// Every connection and every file of a transfer is closed. Other
	// descriptors may grow a little and stay: the store keeps up to 8
	// connections (2 descriptors each), and Go keeps the pipes of splice
	// (plain uploads) in a pool that only the garbage collector empties,
	// so pipes are not counted.
	if !settle(10*time.Second, func() bool { s, f, _ := srv.fdsOf(homes); return s <= baseSockets && f == 0 }) {
		s, f, _ := srv.fdsOf(homes)
		t.Errorf("server sockets: %d before the load, %d after; files open under the homes: %d (%s)", baseSockets, s, f, srv.fdSummary())
	}
	const fdSlack, goroutineSlack = 16, 10
	notPipes := func() int { _, _, p := srv.fdsOf(homes); return srv.fds(t) - p }
	if !settle(10*time.Second, func() bool { return notPipes() <= baseFD-basePipes+fdSlack }) {
		t.Errorf("server descriptors: %d before the load (%s), %d after (%s)", baseFD, baseSummary, srv.fds(t), srv.fdSummary())
	}
	if !settle(10*time.Second, func() bool { return srv.metrics(t)["go_goroutines"] <= baseG+goroutineSlack }) {
		t.Errorf("server goroutines: %v before the load, %v after", baseG, srv.metrics(t)["go_goroutines"])
	}
}
