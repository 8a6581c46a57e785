package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/port21/port21/internal/config"
	"github.com/port21/port21/internal/users"
)

// dialFrom connects to the server from a loopback source address and
// returns whatever the server sends until it closes or 3 s pass.
func dialFrom(t *testing.T, addr, from string) ([]byte, error) {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second, LocalAddr: net.TCPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr(from), 0))}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	buf := make([]byte, 512)
	n, err := c.Read(buf)
	return buf[:n], err
}

// dropped reports whether a connection from from is closed before a byte.
func dropped(t *testing.T, addr, from string) bool {
	t.Helper()
	got, err := dialFrom(t, addr, from)
	return len(got) == 0 && err != nil && !errors.Is(err, os.ErrDeadlineExceeded)
}

// Issue 8: global allow and deny lists drop a connection at accept, before
// a byte; deny wins over allow.
func TestAllowDenyListsDropBeforeAnyByte(t *testing.T) {
	ts := startServer(t, func(c *config.Config) {
		c.Allow = []string{"127.0.0.0/24"}
		c.Deny = []string{"127.0.0.3"}
	})
	if !dropped(t, ts.addr, "127.0.0.3") {
		t.Error("a denied address (inside allow) got a byte")
	}
	if !dropped(t, ts.addr, "127.0.1.1") {
		t.Error("an address outside allow got a byte")
	}
	if got, _ := dialFrom(t, ts.addr, "127.0.0.2"); !bytes.HasPrefix(got, []byte("220")) {
		t.Errorf("allowed address got %q", got)
	}
}

// eventually polls cond for up to d.
func eventually(d time.Duration, cond func() bool) bool {
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}

// Issue 8: a ban is in the store: it holds across a restart, and lifting
// it from another process (port21 ban del) lets the address in within
// seconds; a ban added there drops the address within seconds.
func TestBanSurvivesRestartAndBanDel(t *testing.T) {
	dir := t.TempDir()
	shared := func(c *config.Config) { c.DataDir = dir; c.MaxLoginFailures = 2 }
	ts := startServer(t, shared)
	ts.addUser(t, "alice", nil)
	for range 2 {
		rc := ts.rawFrom(t, "127.0.0.4")
		rc.startTLS(clientTLS())
		rc.cmd(331, "USER alice")
		if rep, err := rc.try("PASS wrong"); err != nil || rep.Code/100 != 5 && rep.Code != 421 {
			t.Fatalf("PASS wrong: %v %v", rep, err)
		}
	}
	if !dropped(t, ts.addr, "127.0.0.4") {
		t.Fatal("not banned before the restart")
	}
	ts.stop()

	ts2 := startServer(t, shared)
	if !dropped(t, ts2.addr, "127.0.0.4") {
		t.Fatal("the ban did not survive the restart")
	}
	if got, _ := dialFrom(t, ts2.addr, "127.0.0.5"); !bytes.HasPrefix(got, []byte("220")) {
		t.Fatalf("another address got %q", got)
	}
	// What `port21 ban del` does, from its own connection to the store.
	cli, err := users.OpenStore(context.Background(), filepath.Join(dir, "users.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	if err := cli.DeleteBan(context.Background(), netip.MustParsePrefix("127.0.0.4/32")); err != nil {
		t.Fatal(err)
	}
	// Bans are re-read every second, but each probe may wait 3 s.
	if !eventually(15*time.Second, func() bool {
		got, _ := dialFrom(t, ts2.addr, "127.0.0.4")
		return bytes.HasPrefix(got, []byte("220"))
	}) {
		t.Fatal("ban del did not let the address in within 15 s")
	}
	// And `port21 ban add`, a whole /24.
	if err := cli.PutBan(context.Background(), users.Ban{Prefix: netip.MustParsePrefix("127.0.7.0/24"), Until: time.Now().Add(time.Hour), Reason: "manual"}); err != nil {
		t.Fatal(err)
	}
	if !eventually(15*time.Second, func() bool { return dropped(t, ts2.addr, "127.0.7.9") }) {
		t.Fatal("ban add did not drop the address within 15 s")
	}
}

// Issue 8: an account that expires works, then its open session is closed
// without the client sending anything, and it can no longer log in; the
// refusal is the same as for a wrong password.
func TestExpiringAccountEndsItsSession(t *testing.T) {
	// The server's clock is moved past the expiry only once the session
	// works, so a slow login (argon2id under -race) cannot outrun it.
	var offset atomic.Int64 // how far the server's clock runs ahead
	ts := startServer(t, func(o *Options, _ *users.Store) {
		o.Now = func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	})
	ts.addUser(t, "temp", func(u *users.User) { u.Expires = time.Now().Add(time.Hour) })
	rc := ts.raw(t)
	rc.login("temp", clientTLS())
	rc.transfer("LIST", nil, 226)
	offset.Store(int64(2 * time.Hour))
	rc.conn.SetDeadline(time.Now().Add(10 * time.Second))
	rep := rc.read() // unsolicited: the server closes the session
	if rep.Code != 421 || !strings.Contains(rep.Message(), "expired") {
		t.Fatalf("expired session got %d %q, want 421 ... expired", rep.Code, rep.Message())
	}
	if _, err := rc.r.ReadLine(); err == nil {
		t.Fatal("control connection still open after the expiry")
	}
	// The disconnect event comes as the session ends, just after the close.
	if !eventually(5*time.Second, func() bool { return strings.Contains(ts.logs.String(), `detail="account expired"`) }) {
		t.Error("the log does not say why the session ended")
	}
	again := ts.raw(t)
	again.startTLS(clientTLS())
	again.cmd(331, "USER temp")
	if rep := again.cmd(530, "PASS %s", testPassword); rep.Message() != "Login incorrect." {
		t.Errorf("expired account login: %q, want the wrong-password reply", rep.Message())
	}
}

// Issue 8: disabling an account ends a transfer in progress within
// seconds, not at its next command. The download is slowed by the
// account's rate limit so it would otherwise run for a minute.
func TestDisabledAccountEndsRunningTransfer(t *testing.T) {
	ts := startServer(t)
	ts.addUser(t, "slow", func(u *users.User) { u.RateDown = 64 << 10 })
	big := make([]byte, 4<<20)
	rand.Read(big)
	writeFile(t, filepath.Join(ts.home("slow"), "big"), big)
	rc := ts.raw(t)
	rc.login("slow", clientTLS())
	addr := rc.epsv()
	rc.send("RETR big")
	dc, err := dialData(t, addr, "", rc.tls)
	if err != nil {
		t.Fatal(err)
	}
	defer dc.Close()
	rc.expect(150)
	dc.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.ReadFull(dc, make([]byte, 16<<10)); err != nil {
		t.Fatalf("transfer did not start: %v", err)
	}
	u, _ := ts.store.Get(context.Background(), "slow")
	u.Disabled, u.Hash = true, ""
	if err := ts.store.Update(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	n, _ := io.Copy(io.Discard, dc)
	if took := time.Since(start); took > 10*time.Second {
		t.Fatalf("transfer ran %s after the account was disabled", took)
	}
	if n+16<<10 >= int64(len(big)) {
		t.Fatal("the whole file arrived: the transfer was not ended")
	}
	if !eventually(5*time.Second, func() bool { return strings.Contains(ts.logs.String(), `detail="account disabled"`) }) {
		t.Error("the log does not say why the session ended")
	}
}

// Issue 8: per-user permissions; each refusal is a 550 that says what the
// account may not do, and nothing changes on disk.
func TestPermissionsRefuseWith550(t *testing.T) {
	ts := startServer(t)
	ts.addUser(t, "reader", func(u *users.User) { u.Perms = users.PermList | users.PermDownload })
	ts.addUser(t, "dropbox", func(u *users.User) { u.Perms = users.PermUpload | users.PermList | users.PermRename })
	writeFile(t, filepath.Join(ts.home("reader"), "f"), []byte("data"))
	writeFile(t, filepath.Join(ts.home("dropbox"), "f"), []byte("old"))

	rc := ts.raw(t)
	rc.login("reader", clientTLS())
	for cmd, want := range map[string]string{
		"STOR g": "may not upload files", "DELE f": "may not delete files", "MKD d": "may not create directories",
		"RMD d": "may not remove directories", "RNFR f": "may not rename", "MFMT 20200101000000 f": "may not overwrite",
		// Writes hidden behind commands that also read.
		"SITE CHMOD 600 f": "may not overwrite", "MDTM 20200101000000 f": "may not overwrite",
	} {
		if rep := rc.cmd(550, "%s", cmd); !strings.Contains(rep.Message(), want) {
			t.Errorf("%s: %q, want %q", cmd, rep.Message(), want)
		}
	}
	_, got := rc.transfer("RETR f", nil, 226)
	if string(got) != "data" {
		t.Errorf("RETR: %q", got)
	}

	up := ts.raw(t)
	up.login("dropbox", clientTLS())
	up.transfer("STOR new", []byte("fresh"), 226)
	if rep := up.cmd(550, "STOR f"); !strings.Contains(rep.Message(), "may not overwrite") {
		t.Errorf("STOR over an existing file: %q", rep.Message())
	}
	up.cmd(350, "RNFR new")
	if rep := up.cmd(550, "RNTO f"); !strings.Contains(rep.Message(), "may not") {
		t.Errorf("RNTO onto an existing file: %q", rep.Message())
	}
	if rep := up.cmd(550, "RETR new"); !strings.Contains(rep.Message(), "may not download") {
		t.Errorf("RETR: %q", rep.Message())
	}
	if b, _ := os.ReadFile(filepath.Join(ts.home("dropbox"), "f")); string(b) != "old" {
		t.Errorf("existing file changed to %q", b)
	}
}

// Issue 8: an upload that crosses the bytes quota gets 552 while it runs
// and leaves nothing behind; usage is right after a delete; the files
// quota refuses a new file but not an overwrite.
func TestQuotaUpload552LeavesNothing(t *testing.T) {
	ts := startServer(t)
	ts.addUser(t, "q", func(u *users.User) { u.QuotaBytes = 100_000; u.QuotaFiles = 3 })
	rc := ts.raw(t)
	rc.login("q", clientTLS())
	chunk := bytes.Repeat([]byte("x"), 60_000)
	rc.transfer("STOR a", chunk, 226)
	rep, _ := rc.transfer("STOR b", chunk, 552)
	_ = rep
	entries, _ := os.ReadDir(ts.home("q"))
	if len(entries) != 1 || entries[0].Name() != "a" {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Fatalf("after the 552 the home holds %v, want only a", names)
	}
	rc.cmd(250, "DELE a")
	rc.transfer("STOR b", chunk, 226) // the delete freed the space at once
	rc.transfer("STOR b", chunk, 226) // an overwrite counts the old file as freed
	rc.transfer("STOR c", []byte("1"), 226)
	rc.transfer("STOR d", []byte("2"), 226)
	if rep := rc.cmd(552, "STOR e"); !strings.Contains(rep.Message(), "files") {
		t.Errorf("files quota: %q", rep.Message())
	}
	rc.transfer("STOR d", []byte("3"), 226) // an overwrite adds no file
}

// Issue 8: max sessions per account.
func TestMaxSessionsPerUser(t *testing.T) {
	ts := startServer(t)
	ts.addUser(t, "one", func(u *users.User) { u.MaxSessions = 1 })
	first := ts.raw(t)
	first.login("one", clientTLS())
	second := ts.raw(t)
	second.startTLS(clientTLS())
	second.cmd(331, "USER one")
	second.cmd(421, "PASS %s", testPassword)
	first.cmd(200, "NOOP")
}

// Issue 8: anonymous access is read-only in its own root when configured;
// when it is not, anonymous and ftp fail like unknown users but score low,
// so a scanner's safe probes do not get it banned.
func TestAnonymousReadOnlyAndProbesScoreLow(t *testing.T) {
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "pub.txt"), []byte("public"))
	ts := startServer(t, func(c *config.Config) { c.AnonymousRoot = root })
	rc := ts.raw(t)
	rc.startTLS(clientTLS())
	rc.cmd(331, "USER anonymous")
	rc.cmd(230, "PASS guest@example.com")
	rc.cmd(200, "PBSZ 0")
	rc.cmd(200, "PROT P")
	if _, got := rc.transfer("RETR pub.txt", nil, 226); string(got) != "public" {
		t.Errorf("anonymous RETR: %q", got)
	}
	for _, cmd := range []string{"STOR x", "APPE pub.txt", "DELE pub.txt", "MKD d", "RNFR pub.txt", "RMD d", "MFMT 20200101000000 pub.txt"} {
		rc.cmd(550, "%s", cmd)
	}
	if entries, _ := os.ReadDir(root); len(entries) != 1 {
		t.Errorf("anonymous changed its root: %d entries", len(entries))
	}

	off := startServer(t, func(c *config.Config) { c.MaxLoginFailures = 2 })
	for _, name := range []string{"anonymous", "ftp", "anonymous"} {
		rc := off.raw(t)
		rc.startTLS(clientTLS())
		rc.cmd(331, "USER %s", name)
		rc.cmd(530, "PASS guest@example.com")
	}
	if banned, _ := off.srv.defender.Banned(netip.MustParseAddr("127.0.0.1")); banned {
		t.Fatal("three anonymous probes banned the address (threshold 2 failed logins)")
	}
}

// Issue 8: an unknown user, a wrong password, an expired and a disabled
// account get the same reply.
func TestNoEnumerationOfExpiredOrDisabled(t *testing.T) {
	ts := startServer(t)
	ts.addUser(t, "alice", nil)
	ts.addUser(t, "old", func(u *users.User) { u.Expires = time.Now().Add(-time.Hour) })
	ts.addUser(t, "off", func(u *users.User) { u.Disabled = true })
	var replies []string
	for _, c := range [][2]string{{"nobody", testPassword}, {"alice", "wrong"}, {"old", testPassword}, {"off", testPassword}} {
		rc := ts.rawFrom(t, "127.0.3.1")
		rc.startTLS(clientTLS())
		rc.cmd(331, "USER %s", c[0])
		rep := rc.read2("PASS %s", c[1])
		replies = append(replies, rep)
	}
	for _, r := range replies[1:] {
		if r != replies[0] {
			t.Fatalf("replies differ: %q", replies)
		}
	}
}

func (rc *rawClient) read2(format string, args ...any) string {
	rc.t.Helper()
	rep, err := rc.try(format, args...)
	if err != nil {
		rc.t.Fatal(err)
	}
	return rep.String()
}

// Issue 8: the defender scores more than failed logins: connections that
// never log in and commands that are not FTP ban an address too (0.1
// failed login each). A connection that never sends a command (a TCP
// health check, a port scan) scores nothing: a load balancer checking every
// few seconds must not ban itself.
func TestDefenderScoresIdleConnectionsAndGarbage(t *testing.T) {
	ts := startServer(t, func(c *config.Config) { c.MaxLoginFailures = 1 })
	for range 30 {
		if got, _ := dialFrom(t, ts.addr, "127.0.4.5"); len(got) == 0 {
			t.Fatal("a silent health check was banned")
		}
	}
	for range 10 {
		c, err := net.DialTCP("tcp", &net.TCPAddr{IP: net.ParseIP("127.0.4.1")}, net.TCPAddrFromAddrPort(netip.MustParseAddrPort(ts.addr)))
		if err != nil {
			break
		}
		c.SetDeadline(time.Now().Add(3 * time.Second))
		newReader(c).ReadLine()
		c.Write([]byte("SYST\r\n")) // spoke, then left without logging in
		newReader(c).ReadLine()
		c.Close()
	}
	if !eventually(3*time.Second, func() bool { return dropped(t, ts.addr, "127.0.4.1") }) {
		t.Error("ten connections without a login did not ban the address")
	}
	rc := ts.rawFrom(t, "127.0.4.2")
	for range 10 {
		if _, err := rc.try("GET / HTTP/1.1"); err != nil {
			break
		}
	}
	if !dropped(t, ts.addr, "127.0.4.2") {
		t.Error("ten unknown commands did not ban the address")
	}
	if got, _ := dialFrom(t, ts.addr, "127.0.4.3"); !bytes.HasPrefix(got, []byte("220")) {
		t.Errorf("an innocent address got %q", got)
	}
}

// A flood: connections refused by the per-address cap score half a failed
// login each.
func TestDefenderBansConnectionFlood(t *testing.T) {
	ts := startServer(t, func(c *config.Config) { c.MaxLoginFailures = 1; c.MaxClientsPerIP = 2 })
	ts.rawFrom(t, "127.0.5.1")
	ts.rawFrom(t, "127.0.5.1") // both slots held
	for range 2 {
		if got, _ := dialFrom(t, ts.addr, "127.0.5.1"); !bytes.HasPrefix(got, []byte("421")) {
			t.Fatalf("connection past the cap got %q, want 421", got)
		}
	}
	if banned, _ := ts.srv.defender.Banned(netip.MustParseAddr("127.0.5.1")); !banned {
		t.Fatal("a flood past the per-address cap did not ban the address")
	}
}
