package policy

import (
	"net/netip"
	"testing"
	"time"
)

// Issue 7: guessing 4 times, logging in to one's own account and guessing
// again must still end in a ban; only the window forgets failures.
func TestBansFailuresSurviveLogin(t *testing.T) {
	c := &clock{t: time.Unix(0, 0)}
	b := NewDefender(DefenderConfig{Threshold: 5, Window: time.Minute, BanBase: time.Hour}, c.now)
	a := netip.MustParseAddr("203.0.113.9")
	for i := 0; i < 4; i++ {
		b.Fail(a)
	}
	if n := b.Failures(a); n != 4 {
		t.Fatalf("Failures = %d, want 4", n)
	}
	if banned, _ := b.Fail(a); !banned {
		t.Fatal("fifth failure did not ban")
	}
	c.t = c.t.Add(2 * time.Hour)
	b.Fail(a)
	c.t = c.t.Add(2 * time.Minute)
	if n := b.Failures(a); n != 0 {
		t.Fatalf("Failures after the window = %d, want 0", n)
	}
}

// Issue 7: the per-address connection limit counted IPv6 per /128 while
// bans group by /64, so one /64 could take every slot.
func TestLimiterIPv6Per64(t *testing.T) {
	l := NewLimiter(100, 2)
	for i, s := range []string{"fd00:21::1", "fd00:21::2"} {
		if _, _, ok := l.Acquire(netip.MustParseAddr(s)); !ok {
			t.Fatalf("connection %d refused", i)
		}
	}
	if _, _, ok := l.Acquire(netip.MustParseAddr("fd00:21::ffff:1")); ok {
		t.Fatal("a third address of the same /64 got a slot")
	}
	if _, _, ok := l.Acquire(netip.MustParseAddr("fd00:22::1")); !ok {
		t.Fatal("another /64 refused")
	}
	if Key(netip.MustParseAddr("fd00:21::1")) != Key(netip.MustParseAddr("fd00:21::abcd")) {
		t.Fatal("Key differs within a /64")
	}
	if Key(netip.MustParseAddr("::ffff:203.0.113.1")) != Key(netip.MustParseAddr("203.0.113.1")) {
		t.Fatal("Key of an IPv4-mapped address differs from the IPv4 one")
	}
}

// Idle connections that never log in get at most half the server and a
// quarter of an address's share.
func TestLimiterPreLoginCap(t *testing.T) {
	l := NewLimiter(8, 8) // pre-login: 4 in all, 2 per address
	a := netip.MustParseAddr("fd00:21::1")
	d1, _, ok1 := l.PreLogin(a)
	_, _, ok2 := l.PreLogin(netip.MustParseAddr("fd00:21::2"))
	_, reason, ok3 := l.PreLogin(netip.MustParseAddr("fd00:21::3"))
	if !ok1 || !ok2 || ok3 || reason == "" {
		t.Fatalf("per-/64 pre-login cap: %v %v %v %q", ok1, ok2, ok3, reason)
	}
	if _, _, ok := l.PreLogin(netip.MustParseAddr("203.0.113.1")); !ok {
		t.Fatal("another address refused")
	}
	if _, _, ok := l.PreLogin(netip.MustParseAddr("203.0.113.2")); !ok {
		t.Fatal("another address refused")
	}
	if _, _, ok := l.PreLogin(netip.MustParseAddr("203.0.113.3")); ok {
		t.Fatal("pre-login connections took more than half the server")
	}
	d1() // a login frees the pre-login slot
	d1()
	if _, _, ok := l.PreLogin(netip.MustParseAddr("203.0.113.3")); !ok {
		t.Fatal("pre-login slot not released")
	}
}
