// Package proxyproto reads the PROXY protocol header (versions 1 and 2, as
// HAProxy specifies them in doc/proxy-protocol.txt) that a load balancer
// sends at the start of a TCP connection to say which client it carries.
// It has one job: turn the first bytes of a connection into a Header, or
// an error, without reading a byte past the header.
//
// The bytes come from the network and are hostile until proven otherwise:
// every length is bounded (a version 1 line is at most 107 bytes, a
// version 2 header at most 16+MaxV2Body), every field is checked, and
// anything that is not exactly a well-formed header is an error, never a
// guess. Whether a peer may send a header at all (a trusted proxy) is the
// caller's decision: a header is a claim, and only a trusted peer's claim
// may be believed.
package proxyproto

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"time"
)

// Errors, wrapped with detail; test them with errors.Is.
var (
	// ErrNoHeader: the connection does not start with a PROXY header.
	ErrNoHeader = errors.New("no PROXY protocol header")
	// ErrMalformed: it starts like one but is not a valid header.
	ErrMalformed = errors.New("malformed PROXY protocol header")
	// ErrUnsupported: a valid header that names no TCP client address
	// (v1 UNKNOWN; v2 UNSPEC, UNIX or UDP with the PROXY command).
	ErrUnsupported = errors.New("PROXY protocol header without a TCP client address")
)

// MaxV1Line is the longest version 1 line, CRLF included (the spec's
// "PROXY TCP6 " + two full IPv6 addresses + two ports + CRLF).
const MaxV1Line = 107

// MaxV2Body bounds the length field of a version 2 header: the address
// block (216 bytes at most, for UNIX) and the TLVs. HAProxy's own TLVs
// (ALPN, authority, SSL details, unique id) fit well within it.
const MaxV2Body = 1024

// v2Sig is the 12-byte signature that starts a version 2 header.
var v2Sig = []byte("\r\n\r\n\x00\r\nQUIT\n")

// Header is a parsed PROXY header.
type Header struct {
	// Version is 1 or 2.
	Version int
	// Local is true for a version 2 LOCAL command: the proxy's own
	// connection (a health check), carrying no client; Source and Dest are
	// not valid, and the socket's own peer is the one talking.
	Local bool
	// Source is the client's address and port as the proxy saw it, Dest
	// the address and port the client connected to. IPv4 as IPv4 (never
	// IPv4-mapped), only set when Local is false.
	Source, Dest netip.AddrPort
}

// Read reads one header from c, and not a byte more, with the deadline of
// ctx, if any, as the read deadline; cancelling ctx ends the read too. The
// connection's read deadline is cleared afterwards.
func Read(ctx context.Context, c net.Conn) (Header, error) {
	if d, ok := ctx.Deadline(); ok {
		c.SetReadDeadline(d)
	}
	fired := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		c.SetReadDeadline(time.Unix(1, 0))
		close(fired)
	})
	h, err := ReadFrom(c)
	if !stop() {
		// ctx ended during the read, which may be why it failed. Wait
		// for the past deadline to be set, so it is cleared below and
		// not after.
		<-fired
		if err != nil {
			err = fmt.Errorf("%w (%w)", err, context.Cause(ctx))
		}
	}
	c.SetReadDeadline(time.Time{})
	return h, err
}

// ReadFrom reads one header from r, and not a byte more (a version 1 line
// is read a byte at a time, which costs a few dozen small reads once per
// connection, so that what follows the header is left for the caller).
func ReadFrom(r io.Reader) (Header, error) {
	// 12 bytes tell the versions apart and fit within the shortest valid
	// header ("PROXY UNKNOWN\r\n", 15 bytes).
	var buf [16 + MaxV2Body]byte
	if _, err := io.ReadFull(r, buf[:12]); err != nil {
		return Header{}, fmt.Errorf("proxyproto: reading the header: %w", err)
	}
	switch {
	case bytes.Equal(buf[:12], v2Sig):
		if _, err := io.ReadFull(r, buf[12:16]); err != nil {
			return Header{}, fmt.Errorf("proxyproto: v2: reading the header: %w", err)
		}
		n := int(binary.BigEndian.Uint16(buf[14:16]))
		if n > MaxV2Body {
			return Header{}, fmt.Errorf("proxyproto: v2: %w: length %d is above %d", ErrMalformed, n, MaxV2Body)
		}
		if _, err := io.ReadFull(r, buf[16:16+n]); err != nil {
			return Header{}, fmt.Errorf("proxyproto: v2: reading %d bytes of addresses: %w", n, err)
		}
		return ParseV2(buf[:16+n])
	case bytes.HasPrefix(buf[:12], []byte("PROXY ")):
		n := 12
		for buf[n-1] != '\n' {
			if n == MaxV1Line {
				return Header{}, fmt.Errorf("proxyproto: v1: %w: no CRLF within %d bytes", ErrMalformed, MaxV1Line)
			}
			if _, err := io.ReadFull(r, buf[n:n+1]); err != nil {
				if err == io.EOF {
					err = io.ErrUnexpectedEOF
				}
				return Header{}, fmt.Errorf("proxyproto: v1: reading the line: %w", err)
			}
			n++
		}
		return ParseV1(buf[:n])
	default:
		return Header{}, fmt.Errorf("proxyproto: %w (first bytes %q)", ErrNoHeader, buf[:12])
	}
}

// ParseV1 parses a complete version 1 line, CRLF included:
//
//	PROXY TCP4 192.0.2.7 198.51.100.1 56324 21\r\n
//	PROXY TCP6 2001:db8::7 2001:db8::1 56324 21\r\n
//	PROXY UNKNOWN[ anything]\r\n
//
// Fields are separated by exactly one space; ports are decimal without
// leading zeros; addresses are of the protocol's family.
func ParseV1(line []byte) (Header, error) {
	bad := func(format string, args ...any) (Header, error) {
		return Header{}, fmt.Errorf("proxyproto: v1: %w: %s", ErrMalformed, fmt.Sprintf(format, args...))
	}
	if len(line) > MaxV1Line {
		return bad("line of %d bytes is above %d", len(line), MaxV1Line)
	}
	body, ok := bytes.CutSuffix(line, []byte("\r\n"))
	if !ok {
		return bad("line does not end in CRLF")
	}
	if bytes.ContainsAny(body, "\r\n") {
		return bad("CR or LF inside the line")
	}
	rest, ok := bytes.CutPrefix(body, []byte("PROXY "))
	if !ok {
		return Header{}, fmt.Errorf("proxyproto: v1: %w", ErrNoHeader)
	}
	if bytes.Equal(rest, []byte("UNKNOWN")) || bytes.HasPrefix(rest, []byte("UNKNOWN ")) {
		return Header{}, fmt.Errorf("proxyproto: v1: %w: UNKNOWN", ErrUnsupported)
	}
	f := bytes.Split(rest, []byte(" "))
	if len(f) != 5 {
		return bad("%d fields after PROXY, want 5", len(f))
	}
	var want6 bool
	switch string(f[0]) {
	case "TCP4":
	case "TCP6":
		want6 = true
	default:
		return bad("protocol %q is not TCP4, TCP6 or UNKNOWN", f[0])
	}
	var addrs [2]netip.Addr
	for i := range addrs {
		a, err := netip.ParseAddr(string(f[1+i]))
		if err != nil || a.Zone() != "" || a.Is6() != want6 {
			return bad("%q is not an %s address", f[1+i], f[0])
		}
		addrs[i] = a.Unmap()
	}
	var ports [2]uint16
	for i := range ports {
		p, err := parsePort(f[3+i])
		if err != nil {
			return bad("%v", err)
		}
		ports[i] = p
	}
	return Header{
		Version: 1,
		Source:  netip.AddrPortFrom(addrs[0], ports[0]),
		Dest:    netip.AddrPortFrom(addrs[1], ports[1]),
	}, nil
}

func parsePort(b []byte) (uint16, error) {
	if len(b) == 0 || len(b) > 5 || len(b) > 1 && b[0] == '0' {
		return 0, fmt.Errorf("port %q is not a decimal number from 0 to 65535", b)
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("port %q is not a decimal number from 0 to 65535", b)
		}
	}
	n, err := strconv.ParseUint(string(b), 10, 16)
	if err != nil {
		return 0, fmt.Errorf("port %q is not a decimal number from 0 to 65535", b)
	}
	return uint16(n), nil
}

// Version 2 address families and transports (the fourteenth byte).
const (
	famUnspec = 0x0
	famInet   = 0x1
	famInet6  = 0x2
	famUnix   = 0x3

	protoUnspec = 0x0
	protoStream = 0x1
	protoDgram  = 0x2
)

// ParseV2 parses a complete version 2 header: the 16 fixed bytes and
// exactly the number of bytes its length field says. TLVs after the
// addresses are checked for framing and otherwise ignored, as the spec
// asks of receivers that do not use them.
func ParseV2(b []byte) (Header, error) {
	bad := func(format string, args ...any) (Header, error) {
		return Header{}, fmt.Errorf("proxyproto: v2: %w: %s", ErrMalformed, fmt.Sprintf(format, args...))
	}
	if len(b) < 16 || !bytes.Equal(b[:12], v2Sig) {
		return Header{}, fmt.Errorf("proxyproto: v2: %w", ErrNoHeader)
	}
	verCmd, famProto := b[12], b[13]
	n := int(binary.BigEndian.Uint16(b[14:16]))
	switch {
	case n > MaxV2Body:
		return bad("length %d is above %d", n, MaxV2Body)
	case len(b) != 16+n:
		return bad("length field says %d bytes, got %d", n, len(b)-16)
	case verCmd>>4 != 2:
		return bad("version %d, want 2", verCmd>>4)
	}
	body := b[16:]
	var local bool
	switch verCmd & 0xf {
	case 0x0:
		local = true
	case 0x1:
	default:
		return bad("command %#x is neither LOCAL nor PROXY", verCmd&0xf)
	}
	fam, proto := famProto>>4, famProto&0xf
	var addrLen int
	switch fam {
	case famUnspec:
	case famInet:
		addrLen = 12
	case famInet6:
		addrLen = 36
	case famUnix:
		addrLen = 216
	default:
		return bad("address family %#x is unknown", fam)
	}
	if proto > protoDgram {
		return bad("transport %#x is unknown", proto)
	}
	if len(body) < addrLen {
		return bad("%d bytes cannot hold the %d-byte address block", len(body), addrLen)
	}
	if err := checkTLVs(body[addrLen:]); err != nil {
		return bad("%v", err)
	}
	if local {
		// The proxy speaking for itself: whatever the block holds is
		// ignored, as the spec says.
		return Header{Version: 2, Local: true}, nil
	}
	if fam != famInet && fam != famInet6 || proto != protoStream {
		return Header{}, fmt.Errorf("proxyproto: v2: %w: family %#x, transport %#x", ErrUnsupported, fam, proto)
	}
	var src, dst netip.Addr
	var ports []byte
	if fam == famInet {
		src = netip.AddrFrom4([4]byte(body[0:4]))
		dst = netip.AddrFrom4([4]byte(body[4:8]))
		ports = body[8:12]
	} else {
		src = netip.AddrFrom16([16]byte(body[0:16])).Unmap()
		dst = netip.AddrFrom16([16]byte(body[16:32])).Unmap()
		ports = body[32:36]
	}
	return Header{
		Version: 2,
		Source:  netip.AddrPortFrom(src, binary.BigEndian.Uint16(ports[0:2])),
		Dest:    netip.AddrPortFrom(dst, binary.BigEndian.Uint16(ports[2:4])),
	}, nil
}

// checkTLVs checks that b is a sequence of whole type-length-value records.
func checkTLVs(b []byte) error {
	for len(b) > 0 {
		if len(b) < 3 {
			return fmt.Errorf("%d trailing bytes are not a TLV", len(b))
		}
		n := int(binary.BigEndian.Uint16(b[1:3]))
		if len(b) < 3+n {
			return fmt.Errorf("TLV of type %#x says %d bytes, %d left", b[0], n, len(b)-3)
		}
		b = b[3+n:]
	}
	return nil
}
