package policy

import (
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Event is something an address did that counts against it.
type Event int

// The events the defender scores, with their points (see points). A failed
// login is worth failPoints; the threshold is a number of failed logins.
const (
	// EventLoginFailed is a wrong password, or a login refused by the
	// account's network policy.
	EventLoginFailed Event = iota
	// EventUnknownUser is a login to a name that does not exist (or an
	// expired or disabled account: the client cannot tell, so neither may
	// the score).
	EventUnknownUser
	// EventProbeName is a failed login as "anonymous" or "ftp" while
	// anonymous access is off: scanners and curious clients try those
	// names once by convention, so it scores low (port21 scan's safe
	// probes must not get the scanner banned).
	EventProbeName
	// EventNoLogin is a connection that ended without logging in.
	EventNoLogin
	// EventProtocolError is a malformed or unknown command.
	EventProtocolError
	// EventFlood is a connection refused by a connection cap.
	EventFlood
)

const failPoints = 10

func (e Event) points() int {
	switch e {
	case EventLoginFailed, EventUnknownUser:
		return failPoints
	case EventFlood:
		return failPoints / 2
	case EventProbeName:
		return 2
	default: // EventNoLogin, EventProtocolError
		return 1
	}
}

func (e Event) String() string {
	return [...]string{"failed login", "unknown user", "anonymous probe", "connection without login",
		"protocol error", "connection flood"}[e]
}

// DefenderConfig sets when the defender bans. An address (IPv6: its /64)
// whose events within Window add up to Threshold failed logins' worth is
// banned for BanBase, doubled for each earlier ban it had (its offences),
// up to BanMax. Threshold 0 turns the defender off. Exempt networks are
// never scored nor banned.
type DefenderConfig struct {
	Threshold int
	Window    time.Duration
	BanBase   time.Duration
	BanMax    time.Duration
	Exempt    []netip.Prefix
}

// Ban is one banned address range.
type Ban struct {
	Prefix   netip.Prefix
	Until    time.Time
	Offences int
	Reason   string
	// Created is when the ban was made (by this defender or loaded).
	Created time.Time
}

// Defender scores what addresses do and bans the ones past the threshold,
// like fail2ban, SFTPGo's defender and ProFTPD's mod_ban, but in process:
// a banned address is refused at accept, before a byte is sent.
type Defender struct {
	cfg atomic.Pointer[DefenderConfig] // swapped by SetConfig
	now func() time.Time

	mu     sync.Mutex
	scores map[netip.Prefix][]scored
	// bans holds current bans and ended ones, whose offences still count
	// toward the next ban's length.
	bans map[netip.Prefix]Ban
	// wide holds the bans broader than Key (from `port21 ban add`), the
	// only ones Banned must scan: a flood's accept path stays O(1).
	wide []Ban
}

type scored struct {
	at     time.Time
	points int
}

// NewDefender returns a defender; now is the clock (time.Now outside tests).
func NewDefender(cfg DefenderConfig, now func() time.Time) *Defender {
	if now == nil {
		now = time.Now
	}
	d := &Defender{now: now, scores: map[netip.Prefix][]scored{}, bans: map[netip.Prefix]Ban{}}
	d.SetConfig(cfg)
	return d
}

// SetConfig changes the thresholds and exemptions (a configuration reload).
// Scores and bans already earned are kept.
func (d *Defender) SetConfig(cfg DefenderConfig) {
	if cfg.BanMax < cfg.BanBase {
		cfg.BanMax = cfg.BanBase
	}
	d.cfg.Store(&cfg)
}

func (d *Defender) conf() *DefenderConfig { return d.cfg.Load() }

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

// Exempt reports whether addr is in a defender-exempt network.
func (d *Defender) Exempt(addr netip.Addr) bool {
	a := addr.Unmap()
	for _, p := range d.conf().Exempt {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Banned reports whether addr is banned now, and the ban. A ban from the
// store (`port21 ban add`) may cover a wider prefix than Key, so every ban
// containing addr counts.
func (d *Defender) Banned(addr netip.Addr) (bool, Ban) {
	if d.Exempt(addr) {
		return false, Ban{}
	}
	a := addr.Unmap()
	now := d.now()
	d.mu.Lock()
	defer d.mu.Unlock()
	if b, ok := d.bans[Key(a)]; ok && now.Before(b.Until) {
		return true, b
	}
	for _, b := range d.wide {
		if now.Before(b.Until) && b.Prefix.Contains(a) {
			return true, b
		}
	}
	return false, Ban{}
}

// Record scores ev for addr. It returns the new ban when this event pushed
// the address past the threshold; the caller persists it.
func (d *Defender) Record(addr netip.Addr, ev Event) (Ban, bool) {
	if d.conf().Threshold <= 0 || d.Exempt(addr) {
		return Ban{}, false
	}
	k := Key(addr)
	now := d.now()
	d.mu.Lock()
	defer d.mu.Unlock()
	if b, ok := d.bans[k]; ok && now.Before(b.Until) {
		return Ban{}, false // already banned: nothing to add
	}
	recent := d.recentLocked(k, now)
	recent = append(recent, scored{now, ev.points()})
	total := 0
	for _, s := range recent {
		total += s.points
	}
	if total < d.conf().Threshold*failPoints {
		d.scores[k] = recent
		d.gcLocked(now)
		return Ban{}, false
	}
	delete(d.scores, k)
	offences := d.bans[k].Offences + 1
	dur := d.conf().BanBase
	for i := 1; i < offences && dur < d.conf().BanMax; i++ {
		dur *= 2
	}
	b := Ban{Prefix: k, Until: now.Add(min(dur, d.conf().BanMax)), Offences: offences, Reason: ev.String(), Created: now}
	d.bans[k] = b
	return b, true
}

// Fail records a failed login and reports whether addr is now banned.
func (d *Defender) Fail(addr netip.Addr) (bool, time.Time) {
	b, ok := d.Record(addr, EventLoginFailed)
	return ok, b.Until
}

// Failures returns addr's score within the window, in failed logins
// (rounded down). Nothing forgets a score early: a good login to one
// account must not wipe the guesses made against another (issue 7).
func (d *Defender) Failures(addr netip.Addr) int {
	k := Key(addr)
	now := d.now()
	d.mu.Lock()
	defer d.mu.Unlock()
	total := 0
	for _, s := range d.scores[k] {
		if now.Sub(s.at) < d.conf().Window {
			total += s.points
		}
	}
	return total / failPoints
}

func (d *Defender) recentLocked(k netip.Prefix, now time.Time) []scored {
	recent := d.scores[k][:0]
	for _, s := range d.scores[k] {
		if now.Sub(s.at) < d.conf().Window {
			recent = append(recent, s)
		}
	}
	return recent
}

// Load replaces the defender's bans with those of the store, which other
// processes (`port21 ban`) change. Bans this defender made at or after
// since stay even when missing from bans: the store read may have begun
// before they were written.
func (d *Defender) Load(bans []Ban, since time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	next := make(map[netip.Prefix]Ban, len(bans))
	for _, b := range bans {
		next[b.Prefix] = b
	}
	for k, b := range d.bans {
		if _, ok := next[k]; !ok && !b.Created.Before(since) {
			next[k] = b
		}
	}
	d.bans = next
	d.wide = d.wide[:0]
	for _, b := range next {
		if a := b.Prefix.Addr(); b.Prefix != Key(a) {
			d.wide = append(d.wide, b)
		}
	}
}

// Active returns the bans in force now, sorted by prefix.
func (d *Defender) Active() []Ban {
	now := d.now()
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []Ban
	for _, b := range d.bans {
		if now.Before(b.Until) {
			out = append(out, b)
		}
	}
	slices.SortFunc(out, func(a, b Ban) int { return a.Prefix.Addr().Compare(b.Prefix.Addr()) })
	return out
}

// gcLocked drops stale scores so a scan from many addresses cannot grow
// the map without bound.
func (d *Defender) gcLocked(now time.Time) {
	if len(d.scores) < 4096 {
		return
	}
	for k, ss := range d.scores {
		if len(ss) == 0 || now.Sub(ss[len(ss)-1].at) >= d.conf().Window {
			delete(d.scores, k)
		}
	}
}

// Lists are the global allow and deny lists, checked when a connection is
// accepted. Deny wins; an empty allow list allows everyone not denied.
type Lists struct {
	Allow, Deny []netip.Prefix
}

// Permit reports whether addr may connect at all, and if not, why (for
// the log: the client is told nothing).
func (l Lists) Permit(addr netip.Addr) (bool, string) {
	a := addr.Unmap()
	for _, p := range l.Deny {
		if p.Contains(a) {
			return false, "in deny list (" + p.String() + ")"
		}
	}
	if len(l.Allow) == 0 {
		return true, ""
	}
	for _, p := range l.Allow {
		if p.Contains(a) {
			return true, ""
		}
	}
	return false, "not in allow list"
}
