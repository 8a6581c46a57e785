// Package targets turns what a user names for `port21 scan` into the list of
// host:port pairs to probe: addresses, CIDR prefixes (IPv4 and IPv6), ranges,
// host names, port lists, and the output files of the discovery engines a
// scan often sits behind (nmap -oX, masscan -oL/-oJ/-oD, zmap CSV or plain).
//
// Everything here is user or file input and is parsed defensively: a prefix
// that would expand to more addresses than MaxAddresses is refused unless the
// caller forces it, and even then never beyond HardMaxAddresses, so a typo
// such as "10.0.0.0/1" or "2001:db8::/32" cannot turn into a scan that never
// ends. Expansion is lazy: a List costs memory per entry, not per address.
package targets

import (
	"errors"
	"fmt"
	"iter"
	"math/bits"
	"net/netip"
	"strconv"
	"strings"
)

// MaxAddresses is how many addresses a List may name before Options.Force is
// needed: 2^24, a /8 of IPv4. Larger scans are legitimate (the whole IPv4
// Internet is 2^32) but rarely what someone typing a prefix meant.
const MaxAddresses = 1 << 24

// HardMaxAddresses is the most addresses a List may name even when forced:
// 2^32, all of IPv4. An IPv6 /64 is 2^64 addresses and cannot be scanned by
// enumeration by anyone; such prefixes are refused outright.
const HardMaxAddresses = 1 << 32

// DefaultPorts are the ports scanned when none are given: FTP (21), implicit
// FTPS (990) and the common unprivileged alternative (2121).
var DefaultPorts = []uint16{21, 990, 2121}

// Sentinel errors, wrapped with the offending input.
var (
	// ErrBadSpec reports a target that is not an address, prefix, range or
	// host name.
	ErrBadSpec = errors.New("targets: bad target")
	// ErrBadPorts reports a malformed or out-of-range port list.
	ErrBadPorts = errors.New("targets: bad port list")
	// ErrTooMany reports a target list larger than the caller allowed.
	ErrTooMany = errors.New("targets: too many addresses")
	// ErrBadShard reports a malformed --shard value.
	ErrBadShard = errors.New("targets: bad shard")
	// ErrBadFile reports an input file that could not be parsed.
	ErrBadFile = errors.New("targets: bad input file")
)

// maxQuoted bounds how much of a hostile input an error repeats.
const maxQuoted = 64

func quote(s string) string {
	if len(s) > maxQuoted {
		return strconv.Quote(s[:maxQuoted]) + "..."
	}
	return strconv.Quote(s)
}

// Target is one service to probe.
type Target struct {
	// Host is the name the user gave, or the address in text form.
	Host string
	// Addr is the address to connect to; invalid (the zero Addr) when Host
	// is a name that the scanner resolves when it gets to it.
	Addr netip.Addr
	Port uint16
}

// String returns host:port, with brackets around IPv6 addresses.
func (t Target) String() string {
	h := t.Host
	if t.Addr.IsValid() {
		h = t.Addr.String()
	}
	return joinHostPort(h, t.Port)
}

func joinHostPort(h string, port uint16) string {
	if strings.Contains(h, ":") {
		h = "[" + h + "]"
	}
	return h + ":" + strconv.Itoa(int(port))
}

// Entry is one line of input: a name or a contiguous range of addresses, and
// the ports to probe on each (nil means the List's default ports).
type Entry struct {
	Name        string     // a host name; First and Last are then invalid
	First, Last netip.Addr // an inclusive range of one address family
	Ports       []uint16
}

// size returns the number of addresses in e, saturating at 2^64-1.
func (e Entry) size() uint64 {
	if e.Name != "" {
		return 1
	}
	a, b := e.First.As16(), e.Last.As16()
	hiA, loA := be64(a[:8]), be64(a[8:])
	hiB, loB := be64(b[:8]), be64(b[8:])
	lo, borrow := bits.Sub64(loB, loA, 0)
	hi, _ := bits.Sub64(hiB, hiA, borrow)
	if hi != 0 || lo == ^uint64(0) {
		return ^uint64(0)
	}
	return lo + 1
}

func be64(b []byte) uint64 {
	var v uint64
	for _, c := range b {
		v = v<<8 | uint64(c)
	}
	return v
}

// List is an ordered list of entries to scan. Its order, and therefore the
// order of All and the split made by Shard, depends only on the input.
type List struct {
	Entries []Entry
	// Ports applies to entries without ports of their own; nil means
	// DefaultPorts.
	Ports []uint16
}

// Addresses returns how many addresses the list names, saturating.
func (l *List) Addresses() uint64 {
	var n uint64
	for _, e := range l.Entries {
		s := e.size()
		if n+s < n {
			return ^uint64(0)
		}
		n += s
	}
	return n
}

// Count returns how many targets (address and port pairs) All yields,
// saturating at 2^64-1.
func (l *List) Count() uint64 {
	var n uint64
	for _, e := range l.Entries {
		hi, lo := bits.Mul64(e.size(), uint64(len(l.portsOf(e))))
		if hi != 0 || n+lo < n {
			return ^uint64(0)
		}
		n += lo
	}
	return n
}

func (l *List) portsOf(e Entry) []uint16 {
	switch {
	case e.Ports != nil:
		return e.Ports
	case l.Ports != nil:
		return l.Ports
	}
	return DefaultPorts
}

// Check refuses a list that names more than MaxAddresses addresses, or
// HardMaxAddresses when force is set.
func (l *List) Check(force bool) error {
	n := l.Addresses()
	switch {
	case n > HardMaxAddresses:
		return fmt.Errorf("%w: %d addresses is more than the %d any scan may name", ErrTooMany, n, uint64(HardMaxAddresses))
	case n > MaxAddresses && !force:
		return fmt.Errorf("%w: %d addresses is more than %d; narrow the prefixes or pass --force", ErrTooMany, n, MaxAddresses)
	}
	return nil
}

// All yields every target, entry by entry, each address with all its ports
// before the next address.
func (l *List) All() iter.Seq[Target] {
	return func(yield func(Target) bool) {
		for _, e := range l.Entries {
			ports := l.portsOf(e)
			if e.Name != "" {
				for _, p := range ports {
					if !yield(Target{Host: e.Name, Port: p}) {
						return
					}
				}
				continue
			}
			for a := e.First; a.IsValid(); a = a.Next() {
				for _, p := range ports {
					if !yield(Target{Host: a.String(), Addr: a, Port: p}) {
						return
					}
				}
				if a == e.Last {
					break
				}
			}
		}
	}
}

// Shard yields the targets of shard i of n (1 <= i <= n): the k-th target of
// All (counting from 0) belongs to shard k mod n + 1. Machines given the same
// input and shards 1/n to n/n scan every target exactly once between them.
// Interleaving rather than cutting the list in blocks spreads each network's
// load over all the shards.
func (l *List) Shard(i, n int) iter.Seq[Target] {
	return func(yield func(Target) bool) {
		k := 0
		for t := range l.All() {
			mine := k%n == i-1
			k++
			if k == n {
				k = 0
			}
			if mine && !yield(t) {
				return
			}
		}
	}
}

// ShardCount returns how many targets Shard(i, n) yields for a list of
// count targets.
func ShardCount(count uint64, i, n int) uint64 {
	q, r := count/uint64(n), count%uint64(n)
	if uint64(i-1) < r {
		q++
	}
	return q
}

// ParseShard parses "I/N" with 1 <= I <= N <= 65536.
func ParseShard(s string) (i, n int, err error) {
	a, b, ok := strings.Cut(strings.TrimSpace(s), "/")
	if ok {
		i, err = strconv.Atoi(a)
		if err == nil {
			n, err = strconv.Atoi(b)
		}
	}
	if !ok || err != nil || n < 1 || n > 65536 || i < 1 || i > n {
		return 0, 0, fmt.Errorf("%w: %s (want I/N with 1 <= I <= N, e.g. 2/4)", ErrBadShard, quote(s))
	}
	return i, n, nil
}

// ParsePorts parses a port list: comma-separated ports and LOW-HIGH ranges
// ("21,990,2100-2200"), or "all" for 1-65535. Ports are returned in the
// order given, each once.
func ParsePorts(s string) ([]uint16, error) {
	s = strings.TrimSpace(s)
	if strings.EqualFold(s, "all") || s == "-" {
		s = "1-65535"
	}
	var seen [65536 / 64]uint64
	var ports []uint16
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		lo, hi, isRange := strings.Cut(part, "-")
		a, okA := parsePort(lo)
		b := a
		okB := true
		if isRange {
			b, okB = parsePort(hi)
		}
		if !okA || !okB || a > b {
			return nil, fmt.Errorf("%w: %s (want e.g. 21,990,2100-2200 or all)", ErrBadPorts, quote(part))
		}
		for p := int(a); p <= int(b); p++ {
			if seen[p/64]&(1<<(p%64)) == 0 {
				seen[p/64] |= 1 << (p % 64)
				ports = append(ports, uint16(p))
			}
		}
	}
	return ports, nil
}

func parsePort(s string) (uint16, bool) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 5 {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 65535 || s[0] == '+' {
		return 0, false
	}
	return uint16(n), true
}

// ParseSpec parses one target as a user types it:
//
//	192.0.2.7            an address (IPv4 or IPv6, with or without zone-less brackets)
//	192.0.2.0/24         a CIDR prefix; host bits are ignored, as nmap does
//	2001:db8::/120
//	192.0.2.10-20        a range of the last IPv4 octet
//	192.0.2.10-192.0.2.99, 2001:db8::1-2001:db8::ff   a range between two addresses
//	ftp.example.com      a host name, resolved when scanned
//	192.0.2.7:2121, [2001:db8::1]:990, ftp.example.com:21   any of the single forms with one port
func ParseSpec(s string) (Entry, error) {
	s = strings.TrimSpace(s)
	bad := func(why string) (Entry, error) {
		return Entry{}, fmt.Errorf("%w: %s: %s", ErrBadSpec, quote(s), why)
	}
	if s == "" {
		return bad("empty")
	}
	// [v6]:port and [v6]
	if s[0] == '[' {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return bad("missing ]")
		}
		a, err := netip.ParseAddr(s[1:end])
		if err != nil || !a.Is6() || a.Zone() != "" {
			return bad("not an IPv6 address in brackets")
		}
		e := Entry{First: a, Last: a}
		rest := s[end+1:]
		if rest == "" {
			return e, nil
		}
		p, ok := strings.CutPrefix(rest, ":")
		port, pok := parsePort(p)
		if !ok || !pok {
			return bad("bad port after ]")
		}
		e.Ports = []uint16{port}
		return e, nil
	}
	if a, err := netip.ParseAddr(s); err == nil {
		if a.Zone() != "" {
			return bad("zoned addresses are not supported")
		}
		a = a.Unmap()
		return Entry{First: a, Last: a}, nil
	}
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return bad("bad CIDR prefix")
		}
		p = p.Masked()
		return Entry{First: p.Addr(), Last: lastOf(p)}, nil
	}
	if lo, hi, ok := strings.Cut(s, "-"); ok && looksNumeric(lo) {
		first, err := netip.ParseAddr(lo)
		if err != nil || first.Zone() != "" {
			return bad("bad range start")
		}
		first = first.Unmap()
		var last netip.Addr
		if first.Is4() && isDigits(hi) {
			n, ok := parseOctet(hi)
			if !ok {
				return bad("range end must be 0-255")
			}
			b := first.As4()
			b[3] = n
			last = netip.AddrFrom4(b)
		} else if last, err = netip.ParseAddr(hi); err != nil || last.Zone() != "" {
			return bad("bad range end")
		}
		last = last.Unmap()
		if first.Is4() != last.Is4() || last.Less(first) {
			return bad("range end before its start or of another family")
		}
		return Entry{First: first, Last: last}, nil
	}
	// host:port for an IPv4 address or a name (an IPv6 address without
	// brackets was handled above).
	if h, p, ok := strings.Cut(s, ":"); ok {
		port, pok := parsePort(p)
		if !pok {
			return bad("bad port")
		}
		e, err := ParseSpec(h)
		if err != nil || e.Ports != nil || (e.Name == "" && e.First != e.Last) {
			return bad("want HOST:PORT")
		}
		e.Ports = []uint16{port}
		return e, nil
	}
	if numericTLD(s) {
		// 999.1.1.1 or 10.0.0.256: a mistyped address, not a name. A
		// top-level domain is never all digits (RFC 3696 section 2), so
		// it is refused here instead of being sent to DNS.
		return bad("not a valid IP address (each IPv4 part is 0-255), and a host name cannot end in a number")
	}
	if !isHostName(s) {
		return bad("not an address, prefix, range or host name")
	}
	return Entry{Name: strings.TrimSuffix(strings.ToLower(s), ".")}, nil
}

// lastOf returns the last address in p.
func lastOf(p netip.Prefix) netip.Addr {
	b := p.Addr().AsSlice()
	bitsTotal := len(b) * 8
	for i := p.Bits(); i < bitsTotal; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func parseOctet(s string) (byte, bool) {
	if len(s) > 3 {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	if err != nil || n > 255 {
		return 0, false
	}
	return byte(n), true
}

// looksNumeric reports whether s is made of digits, dots, colons and hex
// letters only: the start of an address rather than of a host name.
func looksNumeric(s string) bool {
	_, err := netip.ParseAddr(s)
	return err == nil
}

// numericTLD reports whether the last label of s is all digits.
func numericTLD(s string) bool {
	s = strings.TrimSuffix(s, ".")
	return isDigits(s[strings.LastIndexByte(s, '.')+1:])
}

// isHostName reports whether s is a plausible DNS name: labels of letters,
// digits, hyphens and underscores, 1 to 63 bytes each, 253 in all, not
// starting or ending with a hyphen. It exists to refuse garbage early, not to
// enforce every DNS rule.
func isHostName(s string) bool {
	s = strings.TrimSuffix(s, ".")
	if s == "" || len(s) > 253 {
		return false
	}
	for label := range strings.SplitSeq(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}
