package policy

import (
	"net/netip"
	"testing"
	"time"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestBans(t *testing.T) {
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	b := NewDefender(DefenderConfig{Threshold: 3, Window: time.Minute, BanBase: 10 * time.Minute}, c.now)
	a := netip.MustParseAddr("203.0.113.7")
	for i := 0; i < 2; i++ {
		if banned, _ := b.Fail(a); banned {
			t.Fatalf("banned after %d failures", i+1)
		}
	}
	// A failure outside the window does not count.
	c.t = c.t.Add(2 * time.Minute)
	if banned, _ := b.Fail(a); banned {
		t.Fatal("old failures counted")
	}
	b.Fail(a)
	if banned, _ := b.Fail(a); !banned {
		t.Fatal("not banned after 3 failures in the window")
	}
	if banned, _ := b.Banned(a); !banned {
		t.Fatal("Banned() = false")
	}
	if banned, _ := b.Banned(netip.MustParseAddr("203.0.113.8")); banned {
		t.Fatal("neighbour banned")
	}
	c.t = c.t.Add(10 * time.Minute)
	if banned, _ := b.Banned(a); banned {
		t.Fatal("ban did not expire")
	}
}

func TestBansIPv6Per64(t *testing.T) {
	c := &clock{t: time.Unix(0, 0)}
	b := NewDefender(DefenderConfig{Threshold: 2, Window: time.Minute, BanBase: time.Minute}, c.now)
	b.Fail(netip.MustParseAddr("fd00:21::1"))
	b.Fail(netip.MustParseAddr("fd00:21::2"))
	if banned, _ := b.Banned(netip.MustParseAddr("fd00:21::ffff")); !banned {
		t.Fatal("rotating within a /64 evaded the ban")
	}
	if banned, _ := b.Banned(netip.MustParseAddr("fd00:22::1")); banned {
		t.Fatal("other /64 banned")
	}
}

func TestBansOff(t *testing.T) {
	b := NewDefender(DefenderConfig{}, nil)
	a := netip.MustParseAddr("127.0.0.1")
	for i := 0; i < 100; i++ {
		if banned, _ := b.Fail(a); banned {
			t.Fatal("banned with banning off")
		}
	}
}

func TestLimiter(t *testing.T) {
	l := NewLimiter(3, 2)
	a, b := netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::ffff:127.0.0.2")
	r1, _, ok1 := l.Acquire(a)
	_, _, ok2 := l.Acquire(a)
	_, reason, ok3 := l.Acquire(a)
	if !ok1 || !ok2 || ok3 || reason == "" {
		t.Fatalf("per-IP limit: %v %v %v %q", ok1, ok2, ok3, reason)
	}
	if _, _, ok := l.Acquire(b); !ok {
		t.Fatal("second address refused")
	}
	if _, _, ok := l.Acquire(netip.MustParseAddr("127.0.0.3")); ok {
		t.Fatal("total limit not enforced")
	}
	r1()
	r1() // idempotent
	if _, _, ok := l.Acquire(a); !ok {
		t.Fatal("slot not released")
	}
}
