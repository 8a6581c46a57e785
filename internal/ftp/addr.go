package ftp

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// The host-port syntaxes of RFC 959 and RFC 2428. The parsers check syntax
// and ranges only; whether the address is acceptable (the client's own, not
// a bounce target) is the server's decision.

// ParsePORT parses the argument of PORT, "h1,h2,h3,h4,p1,p2": six decimal
// numbers from 0 to 255 giving an IPv4 address and the two bytes of a port.
// Numbers have one to three digits, with no sign and no spaces; port 0 is
// refused because no one can connect to it.
func ParsePORT(arg string) (netip.AddrPort, error) {
	var f [6]byte
	rest := arg
	for i := range f {
		field := rest
		if i < len(f)-1 {
			var ok bool
			if field, rest, ok = strings.Cut(rest, ","); !ok {
				return netip.AddrPort{}, addrError("PORT", arg, "want six comma-separated numbers")
			}
		}
		v, ok := parseDecimal(field, 3)
		if !ok || v > 255 {
			return netip.AddrPort{}, addrError("PORT", arg, "want numbers from 0 to 255")
		}
		f[i] = byte(v)
	}
	port := uint16(f[4])<<8 | uint16(f[5])
	if port == 0 {
		return netip.AddrPort{}, addrError("PORT", arg, "port 0")
	}
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte(f[:4])), port), nil
}

// FormatPORT formats an address as the argument of PORT. An IPv4-mapped IPv6
// address is formatted as the IPv4 address it maps; any other non-IPv4
// address is an error wrapping ErrNotIPv4.
func FormatPORT(ap netip.AddrPort) (string, error) {
	a := ap.Addr().Unmap()
	if !a.Is4() {
		return "", fmt.Errorf("%w: %s", ErrNotIPv4, ap)
	}
	return string(appendHostPort(nil, a.As4(), ap.Port())), nil
}

// appendHostPort appends "h1,h2,h3,h4,p1,p2".
func appendHostPort(b []byte, ip [4]byte, port uint16) []byte {
	for i, n := range [...]byte{ip[0], ip[1], ip[2], ip[3], byte(port >> 8), byte(port)} {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendUint(b, uint64(n), 10)
	}
	return b
}

// ParseEPRT parses the argument of EPRT (RFC 2428), "|proto|addr|port|",
// where the delimiter may be any printable ASCII character (33 to 126) that
// does not occur in the fields, proto is 1 for IPv4 or 2 for IPv6, addr is
// the address in its usual text form and port is 1 to 65535. Under proto 2
// an IPv4-mapped address is accepted and returned unmapped, so the caller
// compares it with the client's address in one form only. Zones are refused:
// the client has no business choosing the server's interface.
//
// A well-formed but unknown proto is reported as ErrUnsupportedProtocol (the
// server answers 522), anything else as ErrBadAddress (501).
func ParseEPRT(arg string) (netip.AddrPort, error) {
	if len(arg) < 2 || arg[0] < 33 || arg[0] > 126 {
		return netip.AddrPort{}, addrError("EPRT", arg, "want a printable delimiter")
	}
	fields := strings.Split(arg[1:], arg[:1])
	if len(fields) != 4 || fields[3] != "" {
		return netip.AddrPort{}, addrError("EPRT", arg, "want |proto|address|port|")
	}
	proto, err := parseNetProto("EPRT", arg, fields[0])
	if err != nil {
		return netip.AddrPort{}, err
	}
	a, err := netip.ParseAddr(fields[1])
	switch {
	case err != nil:
		return netip.AddrPort{}, addrError("EPRT", arg, "bad IP address")
	case proto == 1 && !a.Is4(), proto == 2 && !a.Is6():
		return netip.AddrPort{}, addrError("EPRT", arg, "address does not match protocol")
	case a.Zone() != "":
		return netip.AddrPort{}, addrError("EPRT", arg, "zoned address")
	}
	port, ok := parseDecimal(fields[2], 5)
	if !ok || port < 1 || port > 65535 {
		return netip.AddrPort{}, addrError("EPRT", arg, "want a port from 1 to 65535")
	}
	return netip.AddrPortFrom(a.Unmap(), uint16(port)), nil
}

// parseNetProto parses an RFC 2428 network protocol number, 1 or 2.
func parseNetProto(cmd, arg, s string) (int, error) {
	switch s {
	case "1":
		return 1, nil
	case "2":
		return 2, nil
	}
	if s != "" && strings.Trim(s, "0123456789") == "" {
		return 0, fmt.Errorf("%w: %s %s", ErrUnsupportedProtocol, cmd, quote(arg))
	}
	return 0, addrError(cmd, arg, "want network protocol 1 or 2")
}

// FormatEPRT formats an address as the argument of EPRT, "|1|addr|port|" for
// IPv4 (including IPv4-mapped IPv6) and "|2|addr|port|" for IPv6, dropping
// any zone. ap must hold a valid address.
func FormatEPRT(ap netip.AddrPort) string {
	a := ap.Addr().Unmap().WithZone("")
	proto := "|2|"
	if a.Is4() {
		proto = "|1|"
	}
	b := make([]byte, 0, 64)
	b = append(b, proto...)
	b = a.AppendTo(b)
	b = append(b, '|')
	b = strconv.AppendUint(b, uint64(ap.Port()), 10)
	b = append(b, '|')
	return string(b)
}

// FormatPASV returns the text of a 227 reply for ap, the part after
// "227 ": "Entering Passive Mode (h1,h2,h3,h4,p1,p2).". The caller must pass
// an IPv4 (or IPv4-mapped) address; anything else is written as 0.0.0.0,
// which clients reject, rather than causing a panic.
func FormatPASV(ap netip.AddrPort) string {
	var ip [4]byte
	if a := ap.Addr().Unmap(); a.Is4() {
		ip = a.As4()
	}
	b := make([]byte, 0, 48)
	b = append(b, "Entering Passive Mode ("...)
	b = appendHostPort(b, ip, ap.Port())
	b = append(b, ")."...)
	return string(b)
}

// ParsePASVReply finds the address in the text of a 227 reply the way
// clients do: as the first run of six comma-separated numbers anywhere in
// the text, since servers disagree about the parentheses and wording around
// it. Each number must be 0 to 255 and the run must not be part of a longer
// list of numbers; port 0 is refused.
func ParsePASVReply(text string) (netip.AddrPort, error) {
	for i := 0; i < len(text); i++ {
		if !isDigit(text[i]) || (i > 0 && (isDigit(text[i-1]) || text[i-1] == ',')) {
			continue
		}
		ip, port, ok := scanHostPort(text[i:])
		if !ok {
			continue
		}
		if port == 0 {
			return netip.AddrPort{}, addrError("PASV reply", text, "port 0")
		}
		return netip.AddrPortFrom(netip.AddrFrom4(ip), port), nil
	}
	return netip.AddrPort{}, addrError("PASV reply", text, "no h1,h2,h3,h4,p1,p2")
}

// scanHostPort parses "h1,h2,h3,h4,p1,p2" at the start of s, ignoring what
// follows unless it continues the list.
func scanHostPort(s string) (ip [4]byte, port uint16, ok bool) {
	var f [6]byte
	for i := range f {
		if i > 0 {
			if s == "" || s[0] != ',' {
				return ip, 0, false
			}
			s = s[1:]
		}
		j := 0
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		v, ok := parseDecimal(s[:j], 3)
		if !ok || v > 255 {
			return ip, 0, false
		}
		f[i] = byte(v)
		s = s[j:]
	}
	if s != "" && s[0] == ',' {
		return ip, 0, false
	}
	return [4]byte(f[:4]), uint16(f[4])<<8 | uint16(f[5]), true
}

// FormatEPSV returns the text of a 229 reply for a port, the part after
// "229 ": "Entering Extended Passive Mode (|||port|)".
func FormatEPSV(port uint16) string {
	b := make([]byte, 0, 48)
	b = append(b, "Entering Extended Passive Mode (|||"...)
	b = strconv.AppendUint(b, uint64(port), 10)
	b = append(b, "|)"...)
	return string(b)
}

// ParseEPSVReply finds the port in the text of a 229 reply: the first
// "(dddport d)" in it, where d is any printable non-digit delimiter used
// consistently, as RFC 2428 allows. Port 0 is refused.
func ParseEPSVReply(text string) (uint16, error) {
	for i := 0; i < len(text); i++ {
		if text[i] != '(' {
			continue
		}
		port, ok := scanEPSV(text[i+1:])
		if !ok {
			continue
		}
		if port < 1 || port > 65535 {
			return 0, addrError("EPSV reply", text, "want a port from 1 to 65535")
		}
		return uint16(port), nil
	}
	return 0, addrError("EPSV reply", text, "no (|||port|)")
}

// scanEPSV parses "dddport d)" at the start of s.
func scanEPSV(s string) (port int, ok bool) {
	if len(s) < 6 {
		return 0, false
	}
	d := s[0]
	if d < 33 || d > 126 || isDigit(d) || s[1] != d || s[2] != d {
		return 0, false
	}
	s = s[3:]
	j := 0
	for j < len(s) && isDigit(s[j]) {
		j++
	}
	if j+1 >= len(s) || s[j] != d || s[j+1] != ')' {
		return 0, false
	}
	return parseDecimal(s[:j], 5)
}

// ParseEPSVArg parses the argument of EPSV (RFC 2428): "" asks for a
// passive port on the control connection's protocol (proto 0), "1" or "2"
// for IPv4 or IPv6, and "ALL", in any case, tells the server that the client
// will use only EPSV from now on (all is true, proto 0). Another number is
// ErrUnsupportedProtocol (reply 522), anything else ErrBadAddress (501).
func ParseEPSVArg(arg string) (proto int, all bool, err error) {
	switch {
	case arg == "":
		return 0, false, nil
	case strings.EqualFold(arg, "ALL"):
		return 0, true, nil
	}
	proto, err = parseNetProto("EPSV", arg, arg)
	return proto, false, err
}

// parseDecimal parses s as an unsigned decimal number of one to maxDigits
// digits: no sign, no spaces, no empty string, and so no overflow.
func parseDecimal(s string, maxDigits int) (int, bool) {
	if s == "" || len(s) > maxDigits || len(s) > 9 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

func addrError(what, arg, reason string) error {
	return fmt.Errorf("%w: %s %s: %s", ErrBadAddress, what, quote(arg), reason)
}
