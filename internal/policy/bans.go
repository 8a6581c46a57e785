// Package policy holds the server's decisions about who may connect and log
// in that are not a property of one account: bans on addresses that guess
// passwords, and the per-address connection count. Both group addresses
// with Key, so an IPv6 host cannot escape either by rotating through its /64.
//
// It keeps no global state; the server owns one Bans and one Limiter.
package policy

import (
	"net/netip"
	"sync"
	"time"
)

// BanConfig sets when an address is banned: MaxFailures failed logins within
// Window ban it for Duration. MaxFailures 0 turns banning off.
type BanConfig struct {
	MaxFailures int
	Window      time.Duration
	Duration    time.Duration
}

// Bans counts failed logins per address and bans addresses that guess.
// IPv6 clients are counted per /64, since one host usually holds a whole
// /64 and could otherwise rotate addresses to evade the ban.
type Bans struct {
	cfg BanConfig
	now func() time.Time

	mu       sync.Mutex
	failures map[netip.Prefix][]time.Time
	banned   map[netip.Prefix]time.Time // until
}

// NewBans returns a ban tracker; now is the clock (time.Now outside tests).
func NewBans(cfg BanConfig, now func() time.Time) *Bans {
	if now == nil {
		now = time.Now
	}
	return &Bans{cfg: cfg, now: now, failures: map[netip.Prefix][]time.Time{}, banned: map[netip.Prefix]time.Time{}}
}

// Key is the unit an address is counted and banned by: the address itself
// for IPv4, its /64 for IPv6 (one host usually holds a whole /64).
func Key(a netip.Addr) netip.Prefix {
	a = a.Unmap()
	bits := 32
	if a.Is6() {
		bits = 64
	}
	p, _ := a.Prefix(bits)
	return p
}

// Banned reports whether addr is banned now, and until when.
func (b *Bans) Banned(addr netip.Addr) (bool, time.Time) {
	if b.cfg.MaxFailures == 0 {
		return false, time.Time{}
	}
	k := Key(addr)
	b.mu.Lock()
	defer b.mu.Unlock()
	until, ok := b.banned[k]
	if !ok {
		return false, time.Time{}
	}
	if !b.now().Before(until) {
		delete(b.banned, k)
		return false, time.Time{}
	}
	return true, until
}

// Fail records a failed login from addr and reports whether it is now banned.
func (b *Bans) Fail(addr netip.Addr) (banned bool, until time.Time) {
	if b.cfg.MaxFailures == 0 {
		return false, time.Time{}
	}
	k := Key(addr)
	now := b.now()
	b.mu.Lock()
	defer b.mu.Unlock()
	recent := b.failures[k][:0]
	for _, t := range b.failures[k] {
		if now.Sub(t) < b.cfg.Window {
			recent = append(recent, t)
		}
	}
	recent = append(recent, now)
	if len(recent) >= b.cfg.MaxFailures {
		delete(b.failures, k)
		until = now.Add(b.cfg.Duration)
		b.banned[k] = until
		return true, until
	}
	b.failures[k] = recent
	b.gcLocked(now)
	return false, time.Time{}
}

// Failures returns the number of failed logins of addr within the window.
// There is deliberately no way to forget them early: a good login to one
// account must not wipe the guesses made against another (issue 7), so
// failures only expire with the window.
func (b *Bans) Failures(addr netip.Addr) int {
	k := Key(addr)
	now := b.now()
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, t := range b.failures[k] {
		if now.Sub(t) < b.cfg.Window {
			n++
		}
	}
	return n
}

// gcLocked drops stale entries so a scan from many addresses cannot grow
// the maps without bound.
func (b *Bans) gcLocked(now time.Time) {
	if len(b.failures)+len(b.banned) < 4096 {
		return
	}
	for k, ts := range b.failures {
		if len(ts) == 0 || now.Sub(ts[len(ts)-1]) >= b.cfg.Window {
			delete(b.failures, k)
		}
	}
	for k, until := range b.banned {
		if !now.Before(until) {
			delete(b.banned, k)
		}
	}
}

// Limiter counts open control connections, in total and per address
// (per Key), and separately the connections not logged in yet, which get a
// smaller share: idle pre-login connections cost an attacker nothing but
// a socket, so without their own cap a few addresses could hold every slot
// until the login timeout, over and over.
type Limiter struct {
	max, perIP       int
	maxPre, perIPPre int

	mu      sync.Mutex
	total   int
	byIP    map[netip.Prefix]int
	pre     int
	preByIP map[netip.Prefix]int
}

// NewLimiter returns a connection limiter for at most total connections and
// perIP per address. Connections not logged in yet may take at most half of
// total, and a quarter of perIP per address (at least 2): real clients log
// in within a second, so they rarely hold more than a couple at once.
func NewLimiter(total, perIP int) *Limiter {
	return &Limiter{
		max: total, perIP: perIP,
		maxPre: max(1, total/2), perIPPre: min(perIP, max(2, perIP/4)),
		byIP: map[netip.Prefix]int{}, preByIP: map[netip.Prefix]int{},
	}
}

// Acquire takes a slot for addr; it returns a release func, or ok=false with
// the reason when a limit is reached.
func (l *Limiter) Acquire(addr netip.Addr) (release func(), reason string, ok bool) {
	k := Key(addr)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.total >= l.max {
		return nil, "too many connections to this server", false
	}
	if l.byIP[k] >= l.perIP {
		return nil, "too many connections from your address", false
	}
	l.total++
	l.byIP[k]++
	return l.releaser(&l.total, l.byIP, k), "", true
}

// PreLogin takes a pre-login slot for addr, on top of Acquire's; the caller
// calls done at login or when the connection ends, whichever comes first.
func (l *Limiter) PreLogin(addr netip.Addr) (done func(), reason string, ok bool) {
	k := Key(addr)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.pre >= l.maxPre {
		return nil, "too many connections waiting to log in", false
	}
	if l.preByIP[k] >= l.perIPPre {
		return nil, "too many connections from your address waiting to log in", false
	}
	l.pre++
	l.preByIP[k]++
	return l.releaser(&l.pre, l.preByIP, k), "", true
}

func (l *Limiter) releaser(total *int, by map[netip.Prefix]int, k netip.Prefix) func() {
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			defer l.mu.Unlock()
			*total--
			if by[k]--; by[k] <= 0 {
				delete(by, k)
			}
		})
	}
}
