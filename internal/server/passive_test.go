package server

import (
	"fmt"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/port21/port21/internal/config"
	wire "github.com/port21/port21/internal/ftp"
)

// The passive ranges of these tests are tiny, so that a leaked port or a
// port search that gives up too early shows at once. They lie below the
// kernel's ephemeral ports (32768 and up), where no outgoing connection of
// another test can take one, and away from every other test's range.

// pasv sends PASV and returns the port of the reply.
func (rc *rawClient) pasv() uint16 {
	rc.t.Helper()
	rep := rc.cmd(227, "PASV")
	ap, err := wire.ParsePASVReply(rep.Message())
	if err != nil {
		rc.t.Fatal(err)
	}
	return ap.Port()
}

// TestThousandsOfPASVInOneSession: one session sends 3,000 PASV commands
// over a four-port range while two other clients hold a port each. Every
// PASV gives the session's previous port back, so the fourth port stays
// free for another user, who gets it (and transfers over it) again and
// again in between, and the hammering session can still transfer at the
// end. Afterwards no goroutine or descriptor is left of the 3,000.
func TestThousandsOfPASVInOneSession(t *testing.T) {
	ts := startServer(t, func(c *config.Config) {
		c.PassivePorts = "29100-29103"
		c.MaxPassivePerIP = 4
		c.DataTimeout = config.Duration{Duration: time.Minute} // the holders hold
	})
	ts.addUser(t, "alice", nil)
	ts.addUser(t, "bob", nil)
	baseG, baseFD := runtime.NumGoroutine(), openFDs()

	for _, from := range []string{"127.0.0.3", "127.0.0.4"} {
		holder := ts.rawFrom(t, from)
		holder.login("bob", clientTLS())
		holder.epsv()
	}
	hammer := ts.raw(t)
	hammer.login("alice", clientTLS())
	other := ts.rawFrom(t, "127.0.0.2")
	other.login("bob", clientTLS())

	const commands = 3000
	seen := map[uint16]bool{}
	for i := range commands {
		seen[hammer.pasv()] = true
		if i%100 == 99 {
			// One port of four is left: the other user must get it.
			// (Each test's deadline is 20 s; renew it as the rounds go.)
			hammer.conn.SetDeadline(time.Now().Add(20 * time.Second))
			other.conn.SetDeadline(time.Now().Add(20 * time.Second))
			rep := other.cmd(229, "EPSV")
			port, err := wire.ParseEPSVReply(rep.Message())
			if err != nil {
				t.Fatal(err)
			}
			other.transferAt(net.JoinHostPort("127.0.0.1", fmt.Sprint(port)), "LIST", nil, 226)
		}
	}
	if len(seen) > 2 {
		t.Errorf("PASV in one session handed out %d different ports of the four while two were held elsewhere", len(seen))
	}
	hammer.transfer("NLST", nil, 226)
	hammer.cmd(221, "QUIT")
	other.cmd(221, "QUIT")

	if !settle(10*time.Second, func() bool { return runtime.NumGoroutine() <= baseG+12 }) {
		t.Errorf("goroutines: %d before, %d after %d PASV commands; %s", baseG, runtime.NumGoroutine(), commands, goroutineSummary())
	}
	if !settle(10*time.Second, func() bool { return openFDs() <= baseFD+12 }) {
		t.Errorf("file descriptors: %d before, %d after %d PASV commands: %s", baseFD, openFDs(), commands, fdSummary())
	}
}

// TestLastFreePassivePortIsFound: when all but one port of the passive
// range are taken, PASV and EPSV find that one every time, however the
// random choice of ports falls.
func TestLastFreePassivePortIsFound(t *testing.T) {
	ts := startServer(t, func(c *config.Config) {
		c.PassivePorts = "29110-29117"
		c.MaxPassivePerIP = 8
		c.DataTimeout = config.Duration{Duration: time.Minute} // the holders hold
	})
	ts.addUser(t, "alice", nil)
	for i := range 7 {
		holder := ts.rawFrom(t, fmt.Sprintf("127.0.1.%d", i+1))
		holder.login("alice", clientTLS())
		holder.epsv()
	}
	rc := ts.rawFrom(t, "127.0.1.100")
	rc.login("alice", clientTLS())
	for i := range 200 {
		rc.send("EPSV")
		if rep := rc.read(); rep.Code != 229 {
			t.Fatalf("EPSV %d with one port free: %d %s", i, rep.Code, rep.Message())
		}
	}
}
