package policy

import (
	"net/netip"
	"testing"
	"time"
)

// Each repeat offence doubles the ban, up to BanMax.
func TestDefenderRepeatOffencesGrow(t *testing.T) {
	c := &clock{t: time.Unix(0, 0)}
	d := NewDefender(DefenderConfig{Threshold: 2, Window: time.Minute, BanBase: time.Minute, BanMax: 3 * time.Minute}, c.now)
	a := netip.MustParseAddr("198.51.100.1")
	var lens []time.Duration
	for range 3 {
		d.Fail(a)
		b, ok := d.Record(a, EventUnknownUser)
		if !ok {
			t.Fatal("not banned")
		}
		lens = append(lens, b.Until.Sub(c.t))
		c.t = b.Until
	}
	if lens[0] != time.Minute || lens[1] != 2*time.Minute || lens[2] != 3*time.Minute {
		t.Fatalf("ban lengths %v, want 1m 2m 3m", lens)
	}
}

// Exempt networks are never banned; the scanner's anonymous probes and
// connections without login score low.
func TestDefenderExemptAndLowScores(t *testing.T) {
	d := NewDefender(DefenderConfig{Threshold: 5, Window: time.Hour, BanBase: time.Hour,
		Exempt: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}, nil)
	safe := netip.MustParseAddr("10.1.2.3")
	for range 100 {
		if _, ok := d.Record(safe, EventLoginFailed); ok {
			t.Fatal("exempt address banned")
		}
	}
	scanner := netip.MustParseAddr("198.51.100.2")
	// A scan: a few dozen connections, two anonymous logins.
	for range 30 {
		d.Record(scanner, EventNoLogin)
	}
	d.Record(scanner, EventProbeName)
	if _, ok := d.Record(scanner, EventProbeName); ok {
		t.Fatal("one scan's safe probes banned the scanner")
	}
	if banned, _ := d.Banned(scanner); banned {
		t.Fatal("scanner banned")
	}
}

// A ban loaded from the store (port21 ban add) may be wider than one
// address; one deleted there ends; one just made here survives a load that
// began before it was written.
func TestDefenderLoad(t *testing.T) {
	c := &clock{t: time.Unix(1000, 0)}
	d := NewDefender(DefenderConfig{Threshold: 1, Window: time.Minute, BanBase: time.Minute}, c.now)
	d.Load([]Ban{{Prefix: netip.MustParsePrefix("192.0.2.0/24"), Until: c.t.Add(time.Hour)}}, c.t)
	if banned, _ := d.Banned(netip.MustParseAddr("192.0.2.77")); !banned {
		t.Fatal("loaded /24 ban not applied")
	}
	since := c.t
	fresh, _ := d.Record(netip.MustParseAddr("203.0.113.1"), EventLoginFailed)
	d.Load(nil, since)
	if banned, _ := d.Banned(netip.MustParseAddr("192.0.2.77")); banned {
		t.Fatal("ban deleted from the store still applies")
	}
	if banned, _ := d.Banned(fresh.Prefix.Addr()); !banned {
		t.Fatal("fresh ban lost by a concurrent load")
	}
	d.Load(nil, since.Add(time.Second))
	if banned, _ := d.Banned(fresh.Prefix.Addr()); banned {
		t.Fatal("ban deleted from the store after it was written still applies")
	}
}

func TestListsDenyWins(t *testing.T) {
	l := Lists{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, Deny: []netip.Prefix{netip.MustParsePrefix("127.0.0.3/32")}}
	for addr, want := range map[string]bool{"127.0.0.1": true, "127.0.0.3": false, "::ffff:127.0.0.3": false, "192.0.2.1": false} {
		if ok, _ := l.Permit(netip.MustParseAddr(addr)); ok != want {
			t.Errorf("Permit(%s) = %v, want %v", addr, ok, want)
		}
	}
	if ok, _ := (Lists{}).Permit(netip.MustParseAddr("192.0.2.1")); !ok {
		t.Error("empty lists refuse")
	}
}
