package proxyproto

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// v2 builds a version 2 header: command (0 LOCAL, 1 PROXY), family and
// transport byte, and the body after the length field.
func v2(cmd, famProto byte, body []byte) []byte {
	b := append([]byte{}, v2Sig...)
	b = append(b, 0x20|cmd, famProto)
	b = binary.BigEndian.AppendUint16(b, uint16(len(body)))
	return append(b, body...)
}

func inet4Body(src, dst string, sport, dport uint16) []byte {
	s, d := netip.MustParseAddr(src).As4(), netip.MustParseAddr(dst).As4()
	b := append(s[:], d[:]...)
	b = binary.BigEndian.AppendUint16(b, sport)
	return binary.BigEndian.AppendUint16(b, dport)
}

func inet6Body(src, dst string, sport, dport uint16) []byte {
	s, d := netip.MustParseAddr(src).As16(), netip.MustParseAddr(dst).As16()
	b := append(s[:], d[:]...)
	b = binary.BigEndian.AppendUint16(b, sport)
	return binary.BigEndian.AppendUint16(b, dport)
}

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

type parseCase struct {
	name string
	in   []byte
	want Header
	err  error // nil: want succeeds
}

func v1Cases() []parseCase {
	long := "PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n"
	return []parseCase{
		{"tcp4", []byte("PROXY TCP4 192.0.2.7 198.51.100.1 56324 21\r\n"), Header{Version: 1, Source: ap("192.0.2.7:56324"), Dest: ap("198.51.100.1:21")}, nil},
		{"tcp6", []byte("PROXY TCP6 2001:db8::7 2001:db8::1 56324 21\r\n"), Header{Version: 1, Source: ap("[2001:db8::7]:56324"), Dest: ap("[2001:db8::1]:21")}, nil},
		{"tcp6 mapped is unmapped", []byte("PROXY TCP6 ::ffff:192.0.2.7 ::1 1 2\r\n"), Header{Version: 1, Source: ap("192.0.2.7:1"), Dest: ap("[::1]:2")}, nil},
		{"longest line", []byte(long), Header{Version: 1, Source: ap("[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535"), Dest: ap("[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535")}, nil},
		{"port 0", []byte("PROXY TCP4 1.2.3.4 5.6.7.8 0 0\r\n"), Header{Version: 1, Source: ap("1.2.3.4:0"), Dest: ap("5.6.7.8:0")}, nil},
		{"unknown", []byte("PROXY UNKNOWN\r\n"), Header{}, ErrUnsupported},
		{"unknown with addresses", []byte("PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff 65535 65535\r\n"), Header{}, ErrUnsupported},
		{"bare LF", []byte("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n"), Header{}, ErrMalformed},
		{"no CRLF", []byte("PROXY TCP4 1.2.3.4 5.6.7.8 1 2"), Header{}, ErrMalformed},
		{"CR inside", []byte("PROXY TCP4 1.2.3.4\r5.6.7.8 1 2\r\n"), Header{}, ErrMalformed},
		{"too long", []byte(strings.Replace(long, "PROXY TCP6", "PROXY TCP6 ", 1)), Header{}, ErrMalformed},
		{"two spaces", []byte("PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n"), Header{}, ErrMalformed},
		{"trailing space", []byte("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n"), Header{}, ErrMalformed},
		{"too few fields", []byte("PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n"), Header{}, ErrMalformed},
		{"lower case", []byte("PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n"), Header{}, ErrMalformed},
		{"v6 address as TCP4", []byte("PROXY TCP4 ::1 ::1 1 2\r\n"), Header{}, ErrMalformed},
		{"v4 address as TCP6", []byte("PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n"), Header{}, ErrMalformed},
		{"zone", []byte("PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n"), Header{}, ErrMalformed},
		{"leading zero octet", []byte("PROXY TCP4 01.2.3.4 5.6.7.8 1 2\r\n"), Header{}, ErrMalformed},
		{"host name", []byte("PROXY TCP4 example.com 5.6.7.8 1 2\r\n"), Header{}, ErrMalformed},
		{"port too big", []byte("PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n"), Header{}, ErrMalformed},
		{"port leading zero", []byte("PROXY TCP4 1.2.3.4 5.6.7.8 021 2\r\n"), Header{}, ErrMalformed},
		{"port sign", []byte("PROXY TCP4 1.2.3.4 5.6.7.8 +21 2\r\n"), Header{}, ErrMalformed},
		{"port empty", []byte("PROXY TCP4 1.2.3.4 5.6.7.8  2\r\n"), Header{}, ErrMalformed},
		{"not proxy", []byte("USER anonymous\r\n"), Header{}, ErrNoHeader},
	}
}

func v2Cases() []parseCase {
	tcp4 := inet4Body("192.0.2.7", "198.51.100.1", 56324, 21)
	tcp6 := inet6Body("2001:db8::7", "2001:db8::1", 56324, 21)
	withTLVs := append(append([]byte{}, tcp4...), 0x04, 0, 0, 0x01, 0, 2, 'f', 't')
	lenTooBig := v2(1, 0x11, tcp4)
	binary.BigEndian.PutUint16(lenTooBig[14:], MaxV2Body+1)
	return []parseCase{
		{"tcp4", v2(1, 0x11, tcp4), Header{Version: 2, Source: ap("192.0.2.7:56324"), Dest: ap("198.51.100.1:21")}, nil},
		{"tcp6", v2(1, 0x21, tcp6), Header{Version: 2, Source: ap("[2001:db8::7]:56324"), Dest: ap("[2001:db8::1]:21")}, nil},
		{"tcp6 mapped is unmapped", v2(1, 0x21, inet6Body("::ffff:192.0.2.7", "::1", 1, 2)), Header{Version: 2, Source: ap("192.0.2.7:1"), Dest: ap("[::1]:2")}, nil},
		{"tcp4 with TLVs", v2(1, 0x11, withTLVs), Header{Version: 2, Source: ap("192.0.2.7:56324"), Dest: ap("198.51.100.1:21")}, nil},
		{"local, no addresses", v2(0, 0x00, nil), Header{Version: 2, Local: true}, nil},
		{"local with an address block", v2(0, 0x11, tcp4), Header{Version: 2, Local: true}, nil},
		{"proxy unspec", v2(1, 0x00, nil), Header{}, ErrUnsupported},
		{"proxy unix", v2(1, 0x31, make([]byte, 216)), Header{}, ErrUnsupported},
		{"proxy udp4", v2(1, 0x12, tcp4), Header{}, ErrUnsupported},
		{"proxy inet, unspec transport", v2(1, 0x10, tcp4), Header{}, ErrUnsupported},
		{"version 1 in v2 framing", append(append([]byte{}, v2Sig...), 0x11, 0x11, 0, 12), Header{}, ErrMalformed},
		{"command 2", v2(2, 0x11, tcp4), Header{}, ErrMalformed},
		{"family 4", v2(1, 0x41, tcp4), Header{}, ErrMalformed},
		{"transport 3", v2(1, 0x13, tcp4), Header{}, ErrMalformed},
		{"short address block", v2(1, 0x11, tcp4[:11]), Header{}, ErrMalformed},
		{"short inet6 block", v2(1, 0x21, tcp4), Header{}, ErrMalformed},
		{"length above the bound", lenTooBig, Header{}, ErrMalformed},
		{"body shorter than length", v2(1, 0x11, tcp4)[:20], Header{}, ErrMalformed},
		{"truncated TLV", v2(1, 0x11, append(append([]byte{}, tcp4...), 0x04, 0, 5, 'x')), Header{}, ErrMalformed},
		{"trailing byte", v2(1, 0x11, append(append([]byte{}, tcp4...), 0x04)), Header{}, ErrMalformed},
		{"bad signature", append([]byte("\r\n\r\n\x00\r\nQUIT\r"), 0x21, 0x11, 0, 0), Header{}, ErrNoHeader},
	}
}

func checkCase(t *testing.T, c parseCase, got Header, err error) {
	t.Helper()
	if c.err != nil {
		if !errors.Is(err, c.err) {
			t.Errorf("%q: got %+v, %v; want %v", c.in, got, err, c.err)
		}
		return
	}
	if err != nil || got != c.want {
		t.Errorf("%q: got %+v, %v; want %+v", c.in, got, err, c.want)
	}
}

func TestParseV1(t *testing.T) {
	for _, c := range v1Cases() {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseV1(c.in)
			checkCase(t, c, got, err)
		})
	}
}

func TestParseV2(t *testing.T) {
	for _, c := range v2Cases() {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseV2(c.in)
			checkCase(t, c, got, err)
		})
	}
}

// ReadFrom finds the same headers on a stream, and leaves every byte after
// the header unread, for the FTP session.
func TestReadFromLeavesTheRest(t *testing.T) {
	for _, c := range append(v1Cases(), v2Cases()...) {
		if c.err != nil {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			r := bytes.NewReader(append(append([]byte{}, c.in...), "USER x\r\n"...))
			got, err := ReadFrom(r)
			checkCase(t, c, got, err)
			rest, _ := io.ReadAll(r)
			if string(rest) != "USER x\r\n" {
				t.Errorf("left %q after the header, want the FTP command", rest)
			}
		})
	}
}

func TestReadFromRefuses(t *testing.T) {
	for _, c := range []struct {
		name string
		in   string
		err  error
	}{
		{"FTP first", "USER anonymous\r\n", ErrNoHeader},
		{"v1 without CRLF within 107 bytes", "PROXY TCP4 " + strings.Repeat("1", 200), ErrMalformed},
		{"v1 cut short", "PROXY TCP4 1.2.3.4", io.ErrUnexpectedEOF},
		{"v2 cut short", string(v2Sig) + "\x21\x11\x00\x0c\x01\x02", io.ErrUnexpectedEOF},
		{"v2 length above the bound", string(v2Sig) + "\x21\x11\xff\xff", ErrMalformed},
		{"empty", "", io.EOF},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := strings.NewReader(c.in)
			_, err := ReadFrom(r)
			if !errors.Is(err, c.err) {
				t.Fatalf("got %v, want %v", err, c.err)
			}
			if c.err == ErrMalformed && strings.HasPrefix(c.in, "PROXY") && r.Size()-int64(r.Len()) > MaxV1Line {
				t.Errorf("read %d bytes, more than a v1 line", r.Size()-int64(r.Len()))
			}
		})
	}
}

// A peer that sends part of a header and stalls cannot hold the reader
// past its deadline, nor past a cancel.
func TestReadDeadlineAndCancel(t *testing.T) {
	for _, cancelFirst := range []bool{false, true} {
		client, server := net.Pipe()
		defer client.Close()
		defer server.Close()
		go client.Write([]byte("PROXY TCP4 1.2"))
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		if cancelFirst {
			ctx, cancel = context.WithCancel(context.Background())
			time.AfterFunc(100*time.Millisecond, cancel)
		}
		start := time.Now()
		_, err := Read(ctx, server)
		cancel()
		if err == nil || time.Since(start) > 2*time.Second {
			t.Fatalf("cancel=%v: Read returned %v after %v", cancelFirst, err, time.Since(start))
		}
		// The deadline is cleared: the connection is usable afterwards.
		go client.Write([]byte("x"))
		var b [1]byte
		server.SetReadDeadline(time.Now().Add(time.Second))
		if _, err := server.Read(b[:]); err != nil {
			t.Fatalf("cancel=%v: read after Read: %v", cancelFirst, err)
		}
	}
}
