// Package firewall writes, applies, rolls back and reads the host firewall
// rules that decide who can reach an FTP server: the control port (21, and
// 990 for implicit FTPS) and the passive data range.
//
// One Policy is rendered for every backend (nftables, iptables/ip6tables,
// ufw, firewalld, Windows Defender Firewall, pf), always for IPv4 and IPv6.
// Two facts shape every rendering:
//
//   - Linux stopped assigning connection-tracking helpers by itself in 4.7,
//     so plain FTP gets the "ftp" helper assigned explicitly on the control
//     port; without it the data connections the helper would have announced
//     as RELATED are just new connections.
//   - A helper cannot read an encrypted control channel, so FTPS never relies
//     on it: the passive range is opened explicitly, and only to the allowed
//     networks.
//
// Applying (on Linux) keeps what it replaced so that Rollback can put it
// back, and can arm a confirmation deadline after which the old rules come
// back by themselves. With nftables and iptables it is atomic (one `nft -f`
// transaction, or one iptables-restore per family); ufw and firewalld have
// no transactions, so their rules are converged step by step in an order
// that never opens more than the old or the new policy.
package firewall

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Backend names a firewall implementation.
type Backend string

// Backends port21 can write rules for.
const (
	NFTables  Backend = "nftables"
	IPTables  Backend = "iptables"
	UFW       Backend = "ufw"
	Firewalld Backend = "firewalld"
	Windows   Backend = "windows"
	PF        Backend = "pf"
)

// Backends lists every backend, in the order plans are documented.
var backends = []Backend{NFTables, IPTables, UFW, Firewalld, Windows, PF}

// AllBackends returns every backend port21 can plan for.
func AllBackends() []Backend { return slices.Clone(backends) }

// Errors callers test with errors.Is.
var (
	// ErrUnknownBackend is returned for a backend name port21 does not know.
	ErrUnknownBackend = errors.New("firewall: unknown backend")
	// ErrNoBackend means no supported firewall was found on this machine.
	ErrNoBackend = errors.New("firewall: no supported firewall found on this machine")
	// ErrUnsupported means the backend cannot do what was asked (apply on
	// pf, an expiring allow on ufw ...).
	ErrUnsupported = errors.New("firewall: not supported by this backend")
	// ErrNothingToRollback means no apply has left rules to restore.
	ErrNothingToRollback = errors.New("firewall: nothing to roll back")
	// ErrBadPolicy is wrapped by every Policy validation error.
	ErrBadPolicy = errors.New("firewall: invalid policy")
)

// ParseBackend parses a backend name.
func ParseBackend(s string) (Backend, error) {
	b := Backend(strings.ToLower(strings.TrimSpace(s)))
	if b == "nft" {
		b = NFTables
	}
	if slices.Contains(backends, b) {
		return b, nil
	}
	return "", fmt.Errorf("%w %q (want one of %s)", ErrUnknownBackend, s, joinBackends())
}

func joinBackends() string {
	var s []string
	for _, b := range backends {
		s = append(s, string(b))
	}
	return strings.Join(s, ", ")
}

// PortRange is an inclusive range of TCP ports; the zero value means none.
type PortRange struct{ Low, High uint16 }

// IsZero reports whether the range is empty (not set).
func (r PortRange) IsZero() bool { return r.Low == 0 && r.High == 0 }

func (r PortRange) String() string { return fmt.Sprintf("%d-%d", r.Low, r.High) }

// Contains reports whether port is in the range.
func (r PortRange) Contains(port uint16) bool { return !r.IsZero() && port >= r.Low && port <= r.High }

// Policy is what the administrator wants for the FTP ports.
type Policy struct {
	// Block drops new connections to the FTP ports from everyone. Exactly
	// one of Block and Allow must be set.
	Block bool
	// Allow lists the only networks that may open connections to the FTP
	// ports; everyone else is dropped. IPv4 and IPv6 may be mixed.
	Allow []netip.Prefix
	// Passive is the server's passive data port range. It is opened to the
	// Allow networks explicitly, because the FTP helper cannot see it
	// announced through TLS.
	Passive PortRange
	// ImplicitTLS adds port 990 (implicit FTPS) to the control ports.
	ImplicitTLS bool
	// For makes the allow expire by itself after this long (nftables set
	// element time-outs, ipset time-outs, firewalld --timeout). Zero means
	// it stays until changed.
	For time.Duration
}

// ParsePrefix parses a CIDR or a bare address (a /32 or /128).
func ParsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%w: %q is not an address or CIDR", ErrBadPolicy, s)
		}
		bits := p.Bits()
		if p.Addr().Is4In6() {
			// ::ffff:a.b.c.d/N is the IPv4 network /N-96.
			if bits < 96 {
				return netip.Prefix{}, fmt.Errorf("%w: %q mixes IPv4-mapped and IPv6 addresses", ErrBadPolicy, s)
			}
			bits -= 96
		}
		if p.Addr().Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("%w: %q is not an address or CIDR", ErrBadPolicy, s)
		}
		return netip.PrefixFrom(p.Addr().Unmap(), bits).Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("%w: %q is not an address or CIDR", ErrBadPolicy, s)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// Validate checks the policy; the error wraps ErrBadPolicy and says which
// flag is wrong.
func (p Policy) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrBadPolicy, fmt.Sprintf(format, args...))
	}
	switch {
	case p.Block && len(p.Allow) > 0:
		return bad("--block and --allow exclude each other")
	case !p.Block && len(p.Allow) == 0:
		return bad("give --block, or --allow with at least one network")
	}
	for _, a := range p.Allow {
		if !a.IsValid() {
			return bad("invalid network in --allow")
		}
	}
	if !p.Passive.IsZero() {
		if p.Passive.Low < 1024 || p.Passive.Low > p.Passive.High {
			return bad("--passive-ports %s: want LOW-HIGH with 1024 <= LOW <= HIGH", p.Passive)
		}
	}
	if p.For != 0 {
		if p.Block {
			return bad("--for applies to --allow only (a block stays until rolled back)")
		}
		if p.For < time.Second {
			return bad("--for %s: must be at least 1s", p.For)
		}
	}
	return nil
}

// ControlPorts returns the FTP control ports the policy covers: 21, and 990
// with ImplicitTLS.
func (p Policy) ControlPorts() []uint16 {
	if p.ImplicitTLS {
		return []uint16{21, 990}
	}
	return []uint16{21}
}

func (p Policy) allow4() []netip.Prefix { return p.family(true) }
func (p Policy) allow6() []netip.Prefix { return p.family(false) }

func (p Policy) family(v4 bool) []netip.Prefix {
	var out []netip.Prefix
	for _, a := range p.Allow {
		if a.Addr().Is4() == v4 {
			out = append(out, a)
		}
	}
	return out
}

// describe is the one-line human summary printed at the top of every plan.
func (p Policy) describe() string {
	var ports []string
	for _, c := range p.ControlPorts() {
		ports = append(ports, strconv.Itoa(int(c)))
	}
	what := "FTP control " + strings.Join(ports, ", ") + "/tcp"
	if !p.Passive.IsZero() {
		what += ", passive " + p.Passive.String() + "/tcp"
	}
	if p.Block {
		return what + ": new connections dropped from everyone; established sessions kept."
	}
	var nets []string
	for _, a := range p.Allow {
		nets = append(nets, a.String())
	}
	s := what + ": allowed only from " + strings.Join(nets, ", ") + "; everyone else dropped."
	if p.For > 0 {
		s += " The allow expires after " + formatDuration(p.For) + "; then everyone is dropped."
	}
	return s
}

// formatDuration writes d as nftables and people read it: "2h", "1h30m",
// "90s" is "1m30s".
func formatDuration(d time.Duration) string {
	d = d.Round(time.Second)
	if d <= 0 {
		return "0s"
	}
	var b strings.Builder
	for _, u := range []struct {
		d time.Duration
		s string
	}{{24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}} {
		if n := d / u.d; n > 0 {
			b.WriteString(strconv.FormatInt(int64(n), 10))
			b.WriteString(u.s)
			d -= n * u.d
		}
	}
	return b.String()
}

// Plan renders the policy as rules for backend b, as text an administrator
// can read, review and load.
func Plan(b Backend, p Policy) (string, error) {
	if err := p.Validate(); err != nil {
		return "", err
	}
	switch b {
	case NFTables:
		return planNFT(p), nil
	case IPTables:
		return planIPTables(p), nil
	case UFW:
		return planUFW(p)
	case Firewalld:
		return planFirewalld(p), nil
	case Windows:
		return planWindows(p)
	case PF:
		return planPF(p)
	}
	return "", fmt.Errorf("%w %q", ErrUnknownBackend, b)
}
