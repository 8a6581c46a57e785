//go:build unix

package haproxy

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/port21/port21/internal/testpg"
)

// TestBehindHAProxyOnPostgres is issue 9's production shape: two nodes on
// one PostgreSQL database behind a real HAProxy with the PROXY protocol. A
// user added through node A's configuration logs in through HAProxy on node
// B; a ban earned through HAProxy on node A refuses the address on node B
// (within about a second; the test allows 10 s and logs the latency), while
// another client behind the same HAProxy still logs in.
func TestBehindHAProxyOnPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL, haproxy, two servers and curl; skipped with -short")
	}
	haproxy := need(t, "haproxy", "haproxy")
	need(t, "curl", "curl")
	db := testpg.Start(t).NewDatabase(t)
	password := randomHex(12)
	nodeA := startNode(t, "nodeA", "127.0.0.31", "52140-52159", db, "", "")
	nodeB := startNode(t, "nodeB", "127.0.0.32", "52160-52179", db, "", "")
	v2Port, v1Port := startHAProxy(t, haproxy, nodeA.addr, nodeB.addr) // v2 -> A, v1 -> B
	viaA := fmt.Sprintf("ftp://%s:%d/", haproxyAddr, v2Port)
	viaB := fmt.Sprintf("ftp://%s:%d/", haproxyAddr, v1Port)

	// Added through node A's store; both nodes serve it.
	nodeA.addUser(t, "carol", password)
	for _, via := range []string{viaB, viaA} {
		if tr, err := curl(t.Context(), clientAddr, "carol", password, "--list-only", via); err != nil {
			t.Fatalf("carol through %s: %v\n%s", via, err, tr)
		}
	}
	if _, ok := nodeB.waitEntry(func(e logEntry) bool {
		host, _, _ := net.SplitHostPort(e.Client)
		return e.Msg == "login" && e.User == "carol" && host == clientAddr
	}); !ok {
		t.Fatal("node B logged no login of carol from the PROXY-reported client")
	}

	// Guessing through HAProxy on node A (max-login-failures = 2).
	for i := range 2 {
		if tr, err := curl(t.Context(), guesserAddr, "carol", "wrong"+strconv.Itoa(i), viaA); err == nil {
			t.Fatalf("a wrong password logged in:\n%s", tr)
		}
	}
	if _, ok := nodeA.waitEntry(func(e logEntry) bool { return e.Msg == "ban" && e.Source == "defender" }); !ok {
		t.Fatal("node A logged no ban")
	}
	banned := time.Now()
	// Node B loads it from the shared store (it polls once a second, but
	// from a PostgreSQL on the same busy CPUs: 10 s, and the latency is
	// logged)...
	loaded := false
	for end := banned.Add(10 * time.Second); !loaded && time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		loaded = slices.ContainsFunc(nodeB.entries(), func(e logEntry) bool {
			return e.Msg == "ban" && e.Source == "store" && e.Prefix == guesserAddr+"/32"
		})
	}
	if !loaded {
		t.Fatalf("node B did not load the ban from the store within %v", time.Since(banned).Round(time.Millisecond))
	}
	t.Logf("node B loaded the ban %v after node A logged it", time.Since(banned).Round(time.Millisecond))
	// ...and refuses the guesser, even with the right password.
	if tr, err := curl(t.Context(), guesserAddr, "carol", password, "--list-only", viaB); err == nil {
		t.Errorf("the address banned on node A logged in on node B:\n%s", tr)
	}
	if _, ok := nodeB.waitEntry(func(e logEntry) bool {
		host, _, _ := net.SplitHostPort(e.Client)
		return e.Msg == "refused" && e.Stage == "connect" && e.Reason == "banned" && host == guesserAddr
	}); !ok {
		t.Error("node B did not refuse the banned address at connect")
	}
	if bans := nodeB.bans(t); len(bans) != 1 || bans[0] != guesserAddr+"/32" {
		t.Errorf("bans in the shared store: %v, want only %s/32 (not HAProxy's address)", bans, guesserAddr)
	}
	// The other client behind the same HAProxy is unaffected on both.
	for _, via := range []string{viaA, viaB} {
		if tr, err := curl(t.Context(), clientAddr, "carol", password, "--list-only", via); err != nil {
			t.Errorf("another client behind HAProxy was locked out of %s: %v\n%s", via, err, tr)
		}
	}
}
