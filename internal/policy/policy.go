// Package policy holds the server's decisions about who may connect that
// are not a property of one account: the global allow and deny lists, the
// defender that scores and bans misbehaving addresses, and the per-address
// connection count. All group addresses with Key, so an IPv6 host cannot
// escape them by rotating through its /64.
//
// It keeps no global state and no files: the server owns one Defender and
// one Limiter, and persists the defender's bans itself (see Defender.Load).
package policy

import (
	"net/netip"
	"sync"
)

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
	l := &Limiter{byIP: map[netip.Prefix]int{}, preByIP: map[netip.Prefix]int{}}
	l.SetLimits(total, perIP)
	return l
}

// SetLimits changes the limits (a configuration reload). Connections over
// new, lower limits are not closed; new ones wait until there is room.
func (l *Limiter) SetLimits(total, perIP int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.max, l.perIP = total, perIP
	l.maxPre, l.perIPPre = max(1, total/2), min(perIP, max(2, perIP/4))
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
