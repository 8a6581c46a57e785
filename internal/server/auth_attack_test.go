package server

// Attacks from the security review of issue 7, each run against a real
// server on loopback. Every test here failed before its fix.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/port21/port21/internal/config"
	wire "github.com/port21/port21/internal/ftp"
	"github.com/port21/port21/internal/users"
)

// startServerWith is startServer with a configuration change and a hook on
// the server's Options; either may be nil.
func startServerWith(t *testing.T, conf func(*config.Config), mod func(*Options, *users.Store)) *testServer {
	t.Helper()
	var opts []any
	if conf != nil {
		opts = append(opts, conf)
	}
	if mod != nil {
		opts = append(opts, mod)
	}
	return startServer(t, opts...)
}

// try sends a command and returns the reply, or the read error.
func (rc *rawClient) try(format string, args ...any) (wire.Reply, error) {
	if _, err := fmt.Fprintf(rc.conn, format+"\r\n", args...); err != nil {
		return wire.Reply{}, err
	}
	return wire.ReadReply(rc.r)
}

func hashOf(t *testing.T, password string) string {
	t.Helper()
	h, err := users.NewHasher(1).Hash(context.Background(), password)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

var loopback = netip.MustParseAddr("127.0.0.1")

// Issue 7, item 1: guess 4, log in to your own account, repeat. A login
// used to clear the address's failures, so this never ended in a ban.
func TestBanNotResetByOwnLogin(t *testing.T) {
	ts := startServer(t, func(c *config.Config) { c.MaxLoginFailures = 5 })
	ts.addUser(t, "alice", nil)
	ts.addUser(t, "mallory", nil)
	guess := func() wire.Reply {
		rc := ts.raw(t)
		rc.startTLS(clientTLS())
		rc.cmd(331, "USER alice")
		rep, err := rc.try("PASS guess")
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	for i := 0; i < 4; i++ {
		if rep := guess(); rep.Code != 530 {
			t.Fatalf("guess %d: %d %q", i+1, rep.Code, rep.Message())
		}
	}
	own := ts.raw(t)
	own.login("mallory", clientTLS())
	if rep := guess(); rep.Code != 421 || !contains(rep.Message(), "banned") {
		t.Fatalf("fifth guess after a login to another account: %d %q, want a ban", rep.Code, rep.Message())
	}
}

// countingPasswords counts password checks.
type countingPasswords struct {
	*users.Hasher
	mu     sync.Mutex
	checks int
}

func (p *countingPasswords) Verify(ctx context.Context, encoded, password string) (bool, bool, error) {
	p.mu.Lock()
	p.checks++
	p.mu.Unlock()
	return p.Hasher.Verify(ctx, encoded, password)
}

func (p *countingPasswords) DummyVerify(ctx context.Context, password string) error {
	p.mu.Lock()
	p.checks++
	p.mu.Unlock()
	return p.Hasher.DummyVerify(ctx, password)
}

// Issue 7, item 1: PASS on a connection opened before the address was
// banned is refused without checking the password.
func TestPASSRefusedOnceBanned(t *testing.T) {
	pw := &countingPasswords{Hasher: users.NewHasher(1)}
	ts := startServerWith(t, func(c *config.Config) { c.MaxLoginFailures = 3 }, func(o *Options, _ *users.Store) {
		o.Passwords = pw
	})
	ts.addUser(t, "alice", nil)
	rc := ts.raw(t)
	rc.startTLS(clientTLS())
	rc.cmd(331, "USER alice")
	for i := 0; i < 3; i++ { // banned by failures the server saw elsewhere
		ts.srv.defender.Fail(loopback)
	}
	rep, err := rc.try("PASS %s", testPassword)
	if err != nil || rep.Code != 421 {
		t.Fatalf("PASS while banned: %d %q %v, want 421", rep.Code, rep.Message(), err)
	}
	if _, err := rc.try("NOOP"); err == nil {
		t.Fatal("session goes on after the refusal")
	}
	pw.mu.Lock()
	defer pw.mu.Unlock()
	if pw.checks != 0 {
		t.Fatalf("%d password checks for a banned address", pw.checks)
	}
}

// Issue 7, item 1: 12 connections opened before the ban made 30 guesses
// against a limit of 5. Now the ban ends every connection of the address
// that is not logged in; logged-in ones stay.
func TestBanEndsPreOpenedConnections(t *testing.T) {
	ts := startServer(t, func(c *config.Config) {
		c.MaxLoginFailures = 5
		c.MaxClientsPerIP = 64 // room for 12 pre-login connections
	})
	ts.addUser(t, "alice", nil)
	ts.addUser(t, "bob", nil)
	bob := ts.raw(t)
	bob.login("bob", clientTLS())
	conns := make([]*rawClient, 12)
	for i := range conns {
		conns[i] = ts.raw(t)
		conns[i].startTLS(clientTLS())
		conns[i].cmd(331, "USER alice")
	}
	guesses := 0
	for _, rc := range conns {
		for range maxFailuresPerConn {
			rep, err := rc.try("PASS guess")
			if err != nil || !contains(rep.Message(), "Login incorrect") {
				break // ended by the ban, or refused unchecked
			}
			guesses++
			if rep.Code != 530 {
				break
			}
			if _, err := rc.try("USER alice"); err != nil {
				break
			}
		}
	}
	if guesses > 5 {
		t.Fatalf("%d guesses checked with a limit of 5", guesses)
	}
	bob.cmd(200, "NOOP") // a logged-in session of the address is not ended
}

// Issue 7, item 2: 200 wrong passwords from 100 addresses delayed a real
// login 22 s, and when the budget ran out the timeout counted as a failure
// of the real user's address. Now the queue is bounded, overload answers
// 421 busy, and only real mismatches count.
func TestLoginFloodDoesNotBanRealUser(t *testing.T) {
	ts := startServerWith(t, func(c *config.Config) { c.MaxLoginFailures = 2 }, func(o *Options, _ *users.Store) {
		o.Passwords = users.NewHasherQueue(1, 1, time.Second)
	})
	ts.addUser(t, "alice", nil)
	const flooders = 24
	conns := make([]*rawClient, flooders)
	for i := range conns {
		conns[i] = ts.rawFrom(t, fmt.Sprintf("127.0.1.%d", i+1))
		conns[i].startTLS(clientTLS())
		conns[i].cmd(331, "USER alice")
	}
	victim := ts.raw(t)
	victim.startTLS(clientTLS())
	victim.cmd(331, "USER alice")

	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		busy  []int // flooders answered busy
		codes = map[int]int{}
	)
	for i, rc := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fmt.Fprintf(rc.conn, "PASS wrong\r\n")
			rep, err := wire.ReadReply(rc.r)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				codes[-1]++
				return
			}
			codes[rep.Code]++
			if rep.Code == 421 && contains(rep.Message(), "busy") {
				busy = append(busy, i)
			}
		}()
	}
	rep, err := victim.try("PASS %s", testPassword)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case rep.Code == 230:
	case rep.Code == 421 && contains(rep.Message(), "busy"):
	default:
		t.Fatalf("real login during a flood: %d %q, want 230 or 421 busy", rep.Code, rep.Message())
	}
	if n := ts.srv.defender.Failures(loopback); n != 0 {
		t.Fatalf("the real user's address has %d failures", n)
	}
	if len(busy) == 0 {
		t.Fatalf("no flood login was answered busy: %v", codes)
	}
	for _, i := range busy {
		if n := ts.srv.defender.Failures(netip.MustParseAddr(fmt.Sprintf("127.0.1.%d", i+1))); n != 0 {
			t.Errorf("a login answered busy counted %d failures", n)
		}
	}
	// Once the flood is over the real user gets in.
	again := ts.raw(t)
	again.login("alice", clientTLS())
}

// openssl passwd -6 -salt saltsalt 'correct horse battery staple'
const sha512Hash = "$6$saltsalt$CPgxBHZBXfhC6lX1yxpdEsbQfXmg3WXVj8AoVwyNFLfb5AtbfM8k6A8yehv1z6sgzoH/DUIs7YK9hVnGhTjhW/"

// fixedCostPasswords checks passwords at fixed, unequal costs (argon2id,
// legacy, dummy), so a timing test measures the server's equalising and
// not how fast a loaded machine runs a real 64 MiB argon2id. Every account
// of these tests has testPassword.
type fixedCostPasswords struct{ argon2id, legacy, dummy time.Duration }

func (p fixedCostPasswords) Verify(ctx context.Context, encoded, password string) (bool, bool, error) {
	cost := p.legacy
	if strings.HasPrefix(encoded, "$argon2id$") {
		cost = p.argon2id
	}
	time.Sleep(cost)
	return password == testPassword, false, nil
}

func (p fixedCostPasswords) DummyVerify(ctx context.Context, password string) error {
	time.Sleep(p.dummy)
	return nil
}

func (p fixedCostPasswords) Hash(ctx context.Context, password string) (string, error) {
	return "", errors.New("fixedCostPasswords: no hashing")
}

// Issue 7, item 3: a wrong password for a legacy-hash account was
// answered sooner (or later) than one for an unknown name, because the
// dummy check always costs an argon2id. Now every failure is answered at
// PASS+FailDelay whatever it cost, and every failure says the same.
func TestFailedLoginsLookAlike(t *testing.T) {
	const floor, extra = 2 * time.Second, 1200 * time.Millisecond
	ts := startServerWith(t, func(c *config.Config) { c.MaxLoginFailures = 0 }, func(o *Options, _ *users.Store) {
		// The legacy check costs 1.2 s more than argon2id or the dummy.
		o.Passwords = fixedCostPasswords{argon2id: 100 * time.Millisecond, legacy: 100*time.Millisecond + extra, dummy: 100 * time.Millisecond}
		o.FailDelay = floor
	})
	ts.addUser(t, "modern", nil)
	ts.addUser(t, "legacy", func(u *users.User) { u.Hash = sha512Hash })
	ts.addUser(t, "elsewhere", func(u *users.User) { u.Allow = []netip.Prefix{mustPrefix("198.51.100.0/24")} })
	cases := []struct{ name, user, password string }{
		{"unknown user", "nobody", "guess"},
		{"wrong password, argon2id", "modern", "guess"},
		{"wrong password, legacy hash", "legacy", "guess"},
		{"right password, network not allowed", "elsewhere", testPassword},
	}
	var (
		took   []time.Duration
		answer string
	)
	for _, c := range cases {
		rc := ts.raw(t)
		rc.startTLS(clientTLS())
		rc.cmd(331, "USER %s", c.user)
		start := time.Now()
		rep, err := rc.try("PASS %s", c.password)
		d := time.Since(start)
		if err != nil {
			t.Fatal(err)
		}
		got := fmt.Sprintf("%d %s", rep.Code, rep.Message())
		t.Logf("%s: %v, %q", c.name, d.Round(time.Millisecond), got)
		if answer == "" {
			answer = got
		}
		if got != answer || rep.Code != 530 {
			t.Errorf("%s answered %q, %s answered %q", c.name, got, cases[0].name, answer)
		}
		if d < floor-50*time.Millisecond {
			t.Errorf("%s answered after %v, before FailDelay %v", c.name, d, floor)
		}
		took = append(took, d)
	}
	lo, hi := took[0], took[0]
	for _, d := range took {
		lo, hi = min(lo, d), max(hi, d)
	}
	// The legacy check costs 1.2 s more than the others; the answers must
	// not show it. 0.6 s leaves room for a loaded machine.
	if hi-lo > extra/2 {
		t.Errorf("failed logins took from %v to %v: the cost of the check shows", lo, hi)
	}
}

// Issue 7, item 3b: before TLS, USER of a cleartext account got 331 and
// every other name 530. Now the reply depends on the address only.
func TestUSERBeforeTLSRevealsNoNames(t *testing.T) {
	t.Run("no cleartext account from here", func(t *testing.T) {
		ts := startServer(t)
		ts.addUser(t, "alice", nil)
		ts.addUser(t, "remote", func(u *users.User) {
			u.AllowCleartext = true
			u.Allow = []netip.Prefix{mustPrefix("198.51.100.0/24")}
		})
		rc := ts.raw(t)
		want := rc.cmd(530, "USER nobody").Message()
		for _, name := range []string{"alice", "remote"} {
			if got := rc.cmd(530, "USER %s", name).Message(); got != want {
				t.Errorf("USER %s: %q, USER nobody: %q", name, got, want)
			}
		}
	})
	t.Run("a cleartext account from here", func(t *testing.T) {
		ts := startServer(t)
		ts.addUser(t, "alice", nil)                                           // TLS only
		ts.addUser(t, "lan", func(u *users.User) { u.AllowCleartext = true }) // clear from loopback
		want := ""
		for _, name := range []string{"nobody", "alice"} {
			rc := ts.raw(t)
			got := rc.cmd(331, "USER %s", name).Message()
			if want == "" {
				want = got
			} else if got != want {
				t.Errorf("USER %s: %q, USER nobody: %q", name, got, want)
			}
			// Even alice's right password fails in clear, as "Login
			// incorrect", and counts as a failure like any guess.
			before := ts.srv.defender.Failures(loopback)
			if got := rc.cmd(530, "PASS %s", testPassword).Message(); got != "Login incorrect." {
				t.Errorf("PASS for %s in clear: %q", name, got)
			}
			if ts.srv.defender.Failures(loopback) != before+1 {
				t.Errorf("cleartext PASS for %s not counted as a failure", name)
			}
		}
		rc := ts.raw(t)
		if got := rc.cmd(331, "USER lan").Message(); got != want {
			t.Errorf("USER lan: %q, USER nobody: %q", got, want)
		}
		rc.cmd(230, "PASS %s", testPassword) // cleartext accounts still work
	})
}

// racingAccounts runs a `port21 user passwd` between the rehash's
// verification and its write.
type racingAccounts struct {
	*users.Store
	passwd string // the new hash
	raced  chan struct{}
}

func (a *racingAccounts) ReplaceHash(ctx context.Context, name, old, hash string) error {
	if err := a.Store.SetHash(ctx, name, a.passwd); err != nil {
		return err
	}
	defer close(a.raced)
	return a.Store.ReplaceHash(ctx, name, old, hash)
}

// Issue 7, item 4: the rehash after a legacy login overwrote a password
// change made meanwhile, so the old password worked again.
func TestRehashDoesNotUndoPasswordChange(t *testing.T) {
	const newPassword = "a brand new password"
	ra := &racingAccounts{passwd: hashOf(t, newPassword), raced: make(chan struct{})}
	ts := startServerWith(t, nil, func(o *Options, s *users.Store) {
		ra.Store = s
		o.Accounts = ra
	})
	ts.addUser(t, "old", func(u *users.User) { u.Hash = sha512Hash })
	rc := ts.raw(t)
	rc.login("old", clientTLS())
	select {
	case <-ra.raced:
	case <-time.After(20 * time.Second):
		t.Fatal("no rehash")
	}
	u, err := ts.store.Get(context.Background(), "old")
	if err != nil {
		t.Fatal(err)
	}
	if u.Hash != ra.passwd {
		t.Fatal("the rehash overwrote the password change")
	}
	loginResult := func(password string) int {
		c := ts.raw(t)
		c.startTLS(clientTLS())
		c.cmd(331, "USER old")
		rep, err := c.try("PASS %s", password)
		if err != nil {
			t.Fatal(err)
		}
		return rep.Code
	}
	if code := loginResult(testPassword); code != 530 {
		t.Errorf("old password after passwd: %d, want 530", code)
	}
	if code := loginResult(newPassword); code != 230 {
		t.Errorf("new password: %d, want 230", code)
	}
}

// Issue 7, item 4: the verification cache must never let an old password
// in after a password change.
func TestVerifiedCacheForgetsOldPassword(t *testing.T) {
	ts := startServer(t)
	ts.addUser(t, "alice", nil)
	first := ts.raw(t)
	first.login("alice", clientTLS()) // cached now
	if err := ts.store.SetHash(context.Background(), "alice", hashOf(t, "new password")); err != nil {
		t.Fatal(err)
	}
	rc := ts.raw(t)
	rc.startTLS(clientTLS())
	rc.cmd(331, "USER alice")
	rc.cmd(530, "PASS %s", testPassword)
	rc.cmd(331, "USER alice")
	rc.cmd(230, "PASS new password")
}

// Issue 7, item 5: a logged-in session kept its rights for ever after
// `port21 user del`, `passwd` or `mod`.
func TestAccountChangesReachLiveSessions(t *testing.T) {
	ctx := context.Background()
	ts := startServer(t)
	modify := func(t *testing.T, name string, f func(*users.User)) {
		u, err := ts.store.Get(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		f(&u)
		u.Hash = "" // keep
		if err := ts.store.Update(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	ended := func(t *testing.T, rc *rawClient, cmd string) {
		t.Helper()
		rep, err := rc.try("%s", cmd)
		if err != nil || rep.Code != 421 {
			t.Fatalf("%s after the change: %d %q %v, want 421", cmd, rep.Code, rep.Message(), err)
		}
		if _, err := rc.try("NOOP"); err == nil {
			t.Fatal("session goes on")
		}
	}
	t.Run("del", func(t *testing.T) {
		ts.addUser(t, "del", nil)
		rc := ts.raw(t)
		rc.login("del", clientTLS())
		if err := ts.store.Delete(ctx, "del"); err != nil {
			t.Fatal(err)
		}
		ended(t, rc, "NOOP")
	})
	t.Run("passwd", func(t *testing.T) {
		ts.addUser(t, "pw", nil)
		rc := ts.raw(t)
		rc.login("pw", clientTLS())
		if err := ts.store.SetHash(ctx, "pw", hashOf(t, "another one")); err != nil {
			t.Fatal(err)
		}
		ended(t, rc, "PWD")
	})
	t.Run("read-only", func(t *testing.T) {
		ts.addUser(t, "ro", nil)
		rc := ts.raw(t)
		rc.login("ro", clientTLS())
		rc.cmd(257, "MKD before")
		modify(t, "ro", func(u *users.User) { u.ReadOnly = true })
		rc.cmd(550, "MKD after")
		rc.cmd(200, "NOOP")
		modify(t, "ro", func(u *users.User) { u.ReadOnly = false })
		rc.cmd(257, "MKD again")
	})
	t.Run("allow list", func(t *testing.T) {
		ts.addUser(t, "net", nil)
		rc := ts.raw(t)
		rc.login("net", clientTLS())
		modify(t, "net", func(u *users.User) { u.Allow = []netip.Prefix{mustPrefix("198.51.100.0/24")} })
		ended(t, rc, "NOOP")
	})
	t.Run("own rehash", func(t *testing.T) {
		// The server's own rehash after a legacy login changes the hash
		// too; that must not end the session.
		ts.addUser(t, "legacy", func(u *users.User) { u.Hash = sha512Hash })
		rc := ts.raw(t)
		rc.login("legacy", clientTLS())
		deadline := time.Now().Add(20 * time.Second)
		for {
			u, err := ts.store.Get(ctx, "legacy")
			if err != nil {
				t.Fatal(err)
			}
			if strings.HasPrefix(u.Hash, "$argon2id$") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("no rehash")
			}
			time.Sleep(20 * time.Millisecond)
		}
		rc.cmd(200, "NOOP")
	})
}

// Issue 7, item 6: AUTH TLS just before the login deadline, then a stalled
// handshake, kept a pre-login connection for another DataTimeout.
func TestStalledHandshakeKeepsLoginDeadline(t *testing.T) {
	ts := startServer(t, func(c *config.Config) {
		c.LoginTimeout = config.Duration{Duration: time.Second}
		c.DataTimeout = config.Duration{Duration: 30 * time.Second}
	})
	rc := ts.raw(t)
	rc.cmd(234, "AUTH TLS")
	start := time.Now()
	rc.conn.SetReadDeadline(time.Now().Add(15 * time.Second))
	_, err := io.Copy(io.Discard, rc.conn) // never send a ClientHello
	if d := time.Since(start); err != nil || d > 10*time.Second {
		t.Fatalf("stalled handshake lived %v after AUTH TLS (%v), login timeout 1s", d, err)
	}
}

// Issue 7, item 6: idle connections that never log in could take every
// slot. They now get a quarter of an address's share (here 2 of 8).
func TestPreLoginConnectionsCapped(t *testing.T) {
	ts := startServer(t, func(c *config.Config) { c.MaxClientsPerIP = 8 })
	ts.addUser(t, "alice", nil)
	a := ts.raw(t)
	ts.raw(t)
	c, err := net.DialTimeout("tcp", ts.addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	line, _ := io.ReadAll(c)
	if !strings.HasPrefix(string(line), "421") || !contains(string(line), "waiting to log in") {
		t.Fatalf("third idle connection got %q, want 421", line)
	}
	a.login("alice", clientTLS()) // a login frees its pre-login slot
	ts.raw(t)
}
