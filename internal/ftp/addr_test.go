package ftp

import (
	"errors"
	"net/netip"
	"testing"
)

var ap = netip.MustParseAddrPort

func TestParsePORT(t *testing.T) {
	tests := []struct {
		arg  string
		want netip.AddrPort
		err  error
	}{
		{"127,0,0,1,4,1", ap("127.0.0.1:1025"), nil},
		{"192,168,1,2,255,255", ap("192.168.1.2:65535"), nil},
		{"10,0,0,1,0,21", ap("10.0.0.1:21"), nil},
		{"010,000,000,001,000,021", ap("10.0.0.1:21"), nil},
		{"0,0,0,0,0,1", ap("0.0.0.0:1"), nil},

		{"127,0,0,1,0,0", netip.AddrPort{}, ErrBadAddress},
		{"256,0,0,1,4,1", netip.AddrPort{}, ErrBadAddress},
		{"127,0,0,1,4,256", netip.AddrPort{}, ErrBadAddress},
		{"127,0,0,1,4", netip.AddrPort{}, ErrBadAddress},
		{"127,0,0,1,4,1,7", netip.AddrPort{}, ErrBadAddress},
		{"127,0,0,1,4,", netip.AddrPort{}, ErrBadAddress},
		{"+127,0,0,1,4,1", netip.AddrPort{}, ErrBadAddress},
		{"127,+0,0,1,4,1", netip.AddrPort{}, ErrBadAddress},
		{"-1,0,0,1,4,1", netip.AddrPort{}, ErrBadAddress},
		{" 127,0,0,1,4,1", netip.AddrPort{}, ErrBadAddress},
		{"127, 0,0,1,4,1", netip.AddrPort{}, ErrBadAddress},
		{"127,0,0,1,4,1 ", netip.AddrPort{}, ErrBadAddress},
		{"0127,0,0,1,4,1", netip.AddrPort{}, ErrBadAddress},
		{"127.0.0.1,4,1", netip.AddrPort{}, ErrBadAddress},
		{"", netip.AddrPort{}, ErrBadAddress},
		{",,,,,", netip.AddrPort{}, ErrBadAddress},
	}
	for _, tt := range tests {
		got, err := ParsePORT(tt.arg)
		if !errors.Is(err, tt.err) || (tt.err == nil && err != nil) || got != tt.want {
			t.Errorf("ParsePORT(%q) = %v, %v; want %v, %v", tt.arg, got, err, tt.want, tt.err)
		}
	}
}

func TestFormatPORT(t *testing.T) {
	tests := []struct {
		ap   netip.AddrPort
		want string
		err  error
	}{
		{ap("127.0.0.1:1025"), "127,0,0,1,4,1", nil},
		{ap("[::ffff:10.1.2.3]:21"), "10,1,2,3,0,21", nil},
		{ap("[::1]:21"), "", ErrNotIPv4},
		{netip.AddrPort{}, "", ErrNotIPv4},
	}
	for _, tt := range tests {
		got, err := FormatPORT(tt.ap)
		if !errors.Is(err, tt.err) || (tt.err == nil && err != nil) || got != tt.want {
			t.Errorf("FormatPORT(%v) = %q, %v; want %q, %v", tt.ap, got, err, tt.want, tt.err)
		}
	}
}

func TestParseEPRT(t *testing.T) {
	tests := []struct {
		arg  string
		want netip.AddrPort
		err  error
	}{
		{"|1|132.235.1.2|6275|", ap("132.235.1.2:6275"), nil},
		{"|2|::1|5282|", ap("[::1]:5282"), nil},
		{"|2|1080::8:800:200C:417A|5282|", ap("[1080::8:800:200c:417a]:5282"), nil},
		{"|2|::ffff:1.2.3.4|21|", ap("1.2.3.4:21"), nil},
		{"~1~1.2.3.4~1~", ap("1.2.3.4:1"), nil},
		{"!1!1.2.3.4!65535!", ap("1.2.3.4:65535"), nil},
		{"#2#fe80::1#80#", ap("[fe80::1]:80"), nil},

		{"|3|1.2.3.4|21|", netip.AddrPort{}, ErrUnsupportedProtocol},
		{"|22|::1|21|", netip.AddrPort{}, ErrUnsupportedProtocol},
		{"|x|1.2.3.4|21|", netip.AddrPort{}, ErrBadAddress},
		{"||1.2.3.4|21|", netip.AddrPort{}, ErrBadAddress},
		{"|1|::1|21|", netip.AddrPort{}, ErrBadAddress},
		{"|2|1.2.3.4|21|", netip.AddrPort{}, ErrBadAddress},
		{"|1|::ffff:1.2.3.4|21|", netip.AddrPort{}, ErrBadAddress},
		{"|2|fe80::1%eth0|21|", netip.AddrPort{}, ErrBadAddress},
		{"|1|1.2.3.4|0|", netip.AddrPort{}, ErrBadAddress},
		{"|1|1.2.3.4|65536|", netip.AddrPort{}, ErrBadAddress},
		{"|1|1.2.3.4|+21|", netip.AddrPort{}, ErrBadAddress},
		{"|1|1.2.3.4| 21|", netip.AddrPort{}, ErrBadAddress},
		{"|1|1.2.3.4|021021|", netip.AddrPort{}, ErrBadAddress},
		{"|1|1.2.3.4|21", netip.AddrPort{}, ErrBadAddress},
		{"|1|1.2.3.4|21|x", netip.AddrPort{}, ErrBadAddress},
		{"|1|1.2.3.4|21||", netip.AddrPort{}, ErrBadAddress},
		{"|1|01.2.3.4|21|", netip.AddrPort{}, ErrBadAddress},
		{"|1| 1.2.3.4|21|", netip.AddrPort{}, ErrBadAddress},
		{"|1|host.example|21|", netip.AddrPort{}, ErrBadAddress},
		{" |1|1.2.3.4|21|", netip.AddrPort{}, ErrBadAddress},
		{"\x7f1\x7f1.2.3.4\x7f21\x7f", netip.AddrPort{}, ErrBadAddress},
		{".1.1.2.3.4.21.", netip.AddrPort{}, ErrBadAddress},
		{"", netip.AddrPort{}, ErrBadAddress},
		{"|", netip.AddrPort{}, ErrBadAddress},
	}
	for _, tt := range tests {
		got, err := ParseEPRT(tt.arg)
		if !errors.Is(err, tt.err) || (tt.err == nil && err != nil) || got != tt.want {
			t.Errorf("ParseEPRT(%q) = %v, %v; want %v, %v", tt.arg, got, err, tt.want, tt.err)
		}
	}
}

func TestFormatEPRT(t *testing.T) {
	tests := []struct {
		ap   netip.AddrPort
		want string
	}{
		{ap("132.235.1.2:6275"), "|1|132.235.1.2|6275|"},
		{ap("[::1]:5282"), "|2|::1|5282|"},
		{ap("[::ffff:1.2.3.4]:21"), "|1|1.2.3.4|21|"},
		{ap("[fe80::1%eth0]:21"), "|2|fe80::1|21|"},
	}
	for _, tt := range tests {
		if got := FormatEPRT(tt.ap); got != tt.want {
			t.Errorf("FormatEPRT(%v) = %q, want %q", tt.ap, got, tt.want)
		}
	}
}

func TestPASV(t *testing.T) {
	if got, want := FormatPASV(ap("192.168.1.2:1025")), "Entering Passive Mode (192,168,1,2,4,1)."; got != want {
		t.Errorf("FormatPASV = %q, want %q", got, want)
	}
	if got, want := FormatPASV(ap("[::ffff:10.0.0.1]:21")), "Entering Passive Mode (10,0,0,1,0,21)."; got != want {
		t.Errorf("FormatPASV(mapped) = %q, want %q", got, want)
	}
	if got, want := FormatPASV(ap("[::1]:21")), "Entering Passive Mode (0,0,0,0,0,21)."; got != want {
		t.Errorf("FormatPASV(IPv6) = %q, want %q", got, want)
	}

	tests := []struct {
		text string
		want netip.AddrPort
		err  error
	}{
		{"Entering Passive Mode (192,168,1,2,4,1).", ap("192.168.1.2:1025"), nil},
		{"227 Entering Passive Mode (192,168,1,2,4,1)", ap("192.168.1.2:1025"), nil},
		{"Entering Passive Mode 10,0,0,1,200,10", ap("10.0.0.1:51210"), nil},
		{"=10,0,0,1,0,21", ap("10.0.0.1:21"), nil},
		{"Port 21 first then (10,0,0,1,0,21)", ap("10.0.0.1:21"), nil},
		{"(999,1,1,1,1,1) then (1,2,3,4,5,6)", ap("1.2.3.4:1286"), nil},

		{"Entering Passive Mode (10,0,0,1,0,0)", netip.AddrPort{}, ErrBadAddress},
		{"Entering Passive Mode (256,0,0,1,0,21)", netip.AddrPort{}, ErrBadAddress},
		{"Entering Passive Mode (10,0,0,1,0)", netip.AddrPort{}, ErrBadAddress},
		{"Entering Passive Mode (10,0,0,1,0,21,7)", netip.AddrPort{}, ErrBadAddress},
		{"Entering Passive Mode (1000,10,0,0,1,0,21)", netip.AddrPort{}, ErrBadAddress},
		{"Entering Passive Mode", netip.AddrPort{}, ErrBadAddress},
		{"", netip.AddrPort{}, ErrBadAddress},
	}
	for _, tt := range tests {
		got, err := ParsePASVReply(tt.text)
		if !errors.Is(err, tt.err) || (tt.err == nil && err != nil) || got != tt.want {
			t.Errorf("ParsePASVReply(%q) = %v, %v; want %v, %v", tt.text, got, err, tt.want, tt.err)
		}
	}
}

func TestEPSV(t *testing.T) {
	if got, want := FormatEPSV(6446), "Entering Extended Passive Mode (|||6446|)"; got != want {
		t.Errorf("FormatEPSV = %q, want %q", got, want)
	}
	tests := []struct {
		text string
		want uint16
		err  error
	}{
		{"Entering Extended Passive Mode (|||6446|)", 6446, nil},
		{"229 Entering Extended Passive Mode (|||6446|).", 6446, nil},
		{"Entering Extended Passive Mode (!!!65535!)", 65535, nil},
		{"Extended (mode) (|||1|)", 1, nil},

		{"Entering Extended Passive Mode (|||0|)", 0, ErrBadAddress},
		{"Entering Extended Passive Mode (|||65536|)", 0, ErrBadAddress},
		{"Entering Extended Passive Mode (|||6446!)", 0, ErrBadAddress},
		{"Entering Extended Passive Mode (|||6446|", 0, ErrBadAddress},
		{"Entering Extended Passive Mode (|1|1.2.3.4|6446|)", 0, ErrBadAddress},
		{"Entering Extended Passive Mode (11164461)", 0, ErrBadAddress},
		{"Entering Extended Passive Mode (||||)", 0, ErrBadAddress},
		{"Entering Extended Passive Mode (|||+64|)", 0, ErrBadAddress},
		{"Entering Extended Passive Mode", 0, ErrBadAddress},
	}
	for _, tt := range tests {
		got, err := ParseEPSVReply(tt.text)
		if !errors.Is(err, tt.err) || (tt.err == nil && err != nil) || got != tt.want {
			t.Errorf("ParseEPSVReply(%q) = %v, %v; want %v, %v", tt.text, got, err, tt.want, tt.err)
		}
	}
}

func TestParseEPSVArg(t *testing.T) {
	tests := []struct {
		arg   string
		proto int
		all   bool
		err   error
	}{
		{"", 0, false, nil},
		{"1", 1, false, nil},
		{"2", 2, false, nil},
		{"ALL", 0, true, nil},
		{"all", 0, true, nil},
		{"aLl", 0, true, nil},
		{"3", 0, false, ErrUnsupportedProtocol},
		{"99999999999999999999", 0, false, ErrUnsupportedProtocol},
		{"ALL ", 0, false, ErrBadAddress},
		{" 1", 0, false, ErrBadAddress},
		{"+1", 0, false, ErrBadAddress},
		{"IPv4", 0, false, ErrBadAddress},
	}
	for _, tt := range tests {
		proto, all, err := ParseEPSVArg(tt.arg)
		if !errors.Is(err, tt.err) || (tt.err == nil && err != nil) || proto != tt.proto || all != tt.all {
			t.Errorf("ParseEPSVArg(%q) = %d, %v, %v; want %d, %v, %v", tt.arg, proto, all, err, tt.proto, tt.all, tt.err)
		}
	}
}

func TestAddressRoundTrips(t *testing.T) {
	for _, s := range []string{"127.0.0.1:1025", "0.0.0.0:1", "255.255.255.255:65535", "10.20.30.40:21"} {
		a := ap(s)
		port, err := FormatPORT(a)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := ParsePORT(port); err != nil || got != a {
			t.Errorf("PORT round trip of %v: %v, %v", a, got, err)
		}
		if got, err := ParsePASVReply(FormatPASV(a)); err != nil || got != a {
			t.Errorf("PASV round trip of %v: %v, %v", a, got, err)
		}
	}
	for _, s := range []string{"127.0.0.1:1025", "[::1]:21", "[2001:db8::1]:65535", "[::]:1"} {
		a := ap(s)
		if got, err := ParseEPRT(FormatEPRT(a)); err != nil || got != a {
			t.Errorf("EPRT round trip of %v: %v, %v", a, got, err)
		}
	}
	for _, port := range []uint16{1, 21, 6446, 65535} {
		if got, err := ParseEPSVReply(FormatEPSV(port)); err != nil || got != port {
			t.Errorf("EPSV round trip of %d: %d, %v", port, got, err)
		}
	}
}
