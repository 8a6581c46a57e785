package firewall

import (
	"net/netip"
	"strings"
	"testing"
)

// TestVerify checks the comparison of rules read back with a policy,
// without a firewall: a table of statuses.
func TestVerify(t *testing.T) {
	allow4 := Policy{Allow: []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24")}}
	st := func(family string, a Access, rules ...string) *Status {
		return &Status{Ports: []PortStatus{{Ports: "21", Family: family, Access: a, Rules: rules}}}
	}
	for _, tc := range []struct {
		name string
		p    Policy
		st   *Status
		want string // "" for no mismatch, else a part of it
	}{
		{"restricted as asked", allow4, st("ipv4", Restricted), ""},
		{"open: an earlier accept decides", allow4, st("ipv4", Open, "ip filter INPUT: tcp dport 21 accept"), "is open, not restricted: another rule decides (ip filter INPUT"},
		{"IPv6 not allowed must be blocked", allow4, st("ipv6", Open), "ipv6 is open, not blocked"},
		{"IPv6 blocked", allow4, st("ipv6", Blocked), ""},
		{"block everywhere", Policy{Block: true}, st("ipv4", Restricted), "is restricted, not blocked"},
		{"unknown is no mismatch", Policy{Block: true}, st("ipv4", Unknown), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ms := Verify(tc.p, tc.st)
			switch {
			case tc.want == "" && len(ms) != 0:
				t.Errorf("mismatches %v, want none", ms)
			case tc.want != "" && (len(ms) != 1 || !strings.Contains(ms[0].String(), tc.want)):
				t.Errorf("mismatches %v, want one saying %q", ms, tc.want)
			}
		})
	}
}

func TestDescribe(t *testing.T) {
	p := Policy{Allow: []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24"), netip.MustParsePrefix("2001:db8::/32")}}
	if got := p.Describe(); got != "FTP ports allowed only from 198.51.100.0/24, 2001:db8::/32" {
		t.Errorf("Describe = %q", got)
	}
	if got := (Policy{Block: true}).Describe(); got != "FTP ports blocked for everyone" {
		t.Errorf("Describe = %q", got)
	}
}
