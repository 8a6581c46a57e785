// Package policy holds the server's decisions about who may connect and log
// in that are not a property of one account: bans on addresses that guess
// passwords, and the per-address connection count.
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

func key(a netip.Addr) netip.Prefix {
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
	k := key(addr)
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
	k := key(addr)
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

// Succeed forgets the failures of addr after a good login.
func (b *Bans) Succeed(addr netip.Addr) {
	b.mu.Lock()
	delete(b.failures, key(addr))
	b.mu.Unlock()
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

// Limiter counts open control connections, in total and per address.
type Limiter struct {
	max, perIP int

	mu    sync.Mutex
	total int
	byIP  map[netip.Addr]int
}

// NewLimiter returns a connection limiter.
func NewLimiter(max, perIP int) *Limiter {
	return &Limiter{max: max, perIP: perIP, byIP: map[netip.Addr]int{}}
}

// Acquire takes a slot for addr; it returns a release func, or ok=false with
// the reason when a limit is reached.
func (l *Limiter) Acquire(addr netip.Addr) (release func(), reason string, ok bool) {
	addr = addr.Unmap()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.total >= l.max {
		return nil, "too many connections to this server", false
	}
	if l.byIP[addr] >= l.perIP {
		return nil, "too many connections from your address", false
	}
	l.total++
	l.byIP[addr]++
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			defer l.mu.Unlock()
			l.total--
			if l.byIP[addr]--; l.byIP[addr] <= 0 {
				delete(l.byIP, addr)
			}
		})
	}, "", true
}
