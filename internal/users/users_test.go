package users

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func TestValidateName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"bob", true},
		{"Bob.Smith_2@example.com", true},
		{"a", true},
		{"a-", true},
		{"_x", true},
		{"@x", true},
		{"9", true},
		{strings.Repeat("x", 64), true},
		{strings.Repeat("x", 65), false},
		{"", false},
		{".hidden", false},
		{"..", false},
		{"-rf", false},
		{"a b", false},
		{"a/b", false},
		{`a\b`, false},
		{"a:b", false},
		{"a\x00b", false},
		{"a\nb", false},
		{"bjørn", false},
		{"a$b", false},
	}
	for _, tt := range tests {
		err := ValidateName(tt.name)
		if (err == nil) != tt.ok {
			t.Errorf("ValidateName(%q) = %v, want ok=%v", tt.name, err, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrBadName) {
			t.Errorf("ValidateName(%q) = %v, does not wrap ErrBadName", tt.name, err)
		}
	}
}

func prefixes(ss ...string) []netip.Prefix {
	var ps []netip.Prefix
	for _, s := range ss {
		ps = append(ps, netip.MustParsePrefix(s))
	}
	return ps
}

func TestAllowedFrom(t *testing.T) {
	tests := []struct {
		name  string
		allow []netip.Prefix
		addr  string
		want  bool
	}{
		{"empty allows v4", nil, "203.0.113.9", true},
		{"empty allows v6", nil, "2001:db8::1", true},
		{"in v4 net", prefixes("192.0.2.0/24"), "192.0.2.77", true},
		{"outside v4 net", prefixes("192.0.2.0/24"), "192.0.3.1", false},
		{"mapped addr in v4 net", prefixes("192.0.2.0/24"), "::ffff:192.0.2.77", true},
		{"mapped addr outside v4 net", prefixes("192.0.2.0/24"), "::ffff:192.0.3.1", false},
		{"v4 addr in mapped net", prefixes("::ffff:192.0.2.0/120"), "192.0.2.5", true},
		{"mapped addr in mapped net", prefixes("::ffff:192.0.2.0/120"), "::ffff:192.0.2.5", true},
		{"v6 net", prefixes("2001:db8::/32"), "2001:db8:1::5", true},
		{"v6 net with zone", prefixes("fe80::/10"), "fe80::1%eth0", true},
		{"v6 net rejects v4", prefixes("2001:db8::/32"), "192.0.2.1", false},
		{"second prefix", prefixes("10.0.0.0/8", "2001:db8::/32"), "2001:db8::1", true},
		{"host", prefixes("198.51.100.7/32"), "198.51.100.7", true},
		{"host other", prefixes("198.51.100.7/32"), "198.51.100.8", false},
		{"unmasked prefix", prefixes("10.1.2.3/8"), "10.200.0.1", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := User{Allow: tt.allow}
			if got := u.AllowedFrom(netip.MustParseAddr(tt.addr)); got != tt.want {
				t.Errorf("AllowedFrom(%s) = %v, want %v", tt.addr, got, tt.want)
			}
		})
	}
	if (User{Allow: prefixes("0.0.0.0/0")}).AllowedFrom(netip.Addr{}) {
		t.Error("the zero Addr is allowed")
	}
}

func TestCleartextAllowedFrom(t *testing.T) {
	tests := []struct {
		name string
		u    User
		addr string
		want bool
	}{
		{"not opted in", User{Allow: prefixes("192.0.2.0/24")}, "192.0.2.1", false},
		{"not opted in loopback", User{}, "127.0.0.1", false},
		{"no allow list: loopback v4", User{AllowCleartext: true}, "127.0.0.1", true},
		{"no allow list: loopback v6", User{AllowCleartext: true}, "::1", true},
		{"no allow list: loopback mapped", User{AllowCleartext: true}, "::ffff:127.0.0.1", true},
		{"no allow list: remote", User{AllowCleartext: true}, "192.0.2.1", false},
		{"allow list: inside", User{AllowCleartext: true, Allow: prefixes("192.0.2.0/24")}, "192.0.2.1", true},
		{"allow list: outside", User{AllowCleartext: true, Allow: prefixes("192.0.2.0/24")}, "198.51.100.1", false},
		{"allow list: loopback not listed", User{AllowCleartext: true, Allow: prefixes("192.0.2.0/24")}, "127.0.0.1", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.u.CleartextAllowedFrom(netip.MustParseAddr(tt.addr)); got != tt.want {
				t.Errorf("CleartextAllowedFrom(%s) = %v, want %v", tt.addr, got, tt.want)
			}
		})
	}
}

func TestParsePrefix(t *testing.T) {
	tests := []struct {
		in, want string // want "" means an error
	}{
		{"192.0.2.0/24", "192.0.2.0/24"},
		{"192.0.2.9/24", "192.0.2.0/24"},
		{"192.0.2.9", "192.0.2.9/32"},
		{" 192.0.2.9 ", "192.0.2.9/32"},
		{"2001:db8::/32", "2001:db8::/32"},
		{"2001:db8::1", "2001:db8::1/128"},
		{"::ffff:192.0.2.1", "192.0.2.1/32"},
		{"::ffff:192.0.2.0/120", "192.0.2.0/24"},
		{"0.0.0.0/0", "0.0.0.0/0"},
		{"::/0", "::/0"},
		{"10.0.0.300/8", ""},
		{"10.0.0.0/33", ""},
		{"2001:db8::/129", ""},
		{"fe80::1%eth0", ""},
		{"fe80::1%eth0/64", ""},
		{"example.com", ""},
		{"", ""},
		{"/8", ""},
		{"10.0.0.0/", ""},
		{"10.0.0.0/8/8", ""},
	}
	for _, tt := range tests {
		p, err := ParsePrefix(tt.in)
		if tt.want == "" {
			if err == nil || !errors.Is(err, ErrBadPrefix) {
				t.Errorf("ParsePrefix(%q) = %v, %v; want ErrBadPrefix", tt.in, p, err)
			}
			continue
		}
		if err != nil || p.String() != tt.want {
			t.Errorf("ParsePrefix(%q) = %v, %v; want %s", tt.in, p, err, tt.want)
		}
	}
	_, err := ParsePrefix("10.0.0.300/8")
	if want := `"10.0.0.300/8" is not a CIDR or IP address`; err == nil || err.Error() != want {
		t.Errorf("error = %v, want %q", err, want)
	}
}
