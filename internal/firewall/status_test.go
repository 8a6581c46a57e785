package firewall

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// fakeRunner answers commands from fixed outputs, keyed by the command line.
type fakeRunner struct {
	out   map[string]string
	calls []string
}

func (f *fakeRunner) run(_ context.Context, stdin, name string, args ...string) (string, error) {
	line := strings.TrimSpace(name + " " + strings.Join(args, " "))
	f.calls = append(f.calls, line)
	if stdin != "" {
		f.calls = append(f.calls, "<<"+stdin)
	}
	return f.out[line], nil
}

func fixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "status", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestEvalRulesets(t *testing.T) {
	nftAllow, err := parseNFTJSON([]byte(fixture(t, "nft-allow.json")))
	if err != nil {
		t.Fatal(err)
	}
	nftDistro, err := parseNFTJSON([]byte(fixture(t, "nft-distro.json")))
	if err != nil {
		t.Fatal(err)
	}
	ipt4 := parseIPTSave(fixture(t, "iptables-allow.save"), false)
	ipt6 := parseIPTSave(fixture(t, "ip6tables-allow.save"), true)
	// ufw 0.36 after port21 firewall apply --allow 198.51.100.2 (port 21).
	ufw4 := parseIPTSave(fixture(t, "iptables-ufw.save"), false)
	ufw6 := parseIPTSave(fixture(t, "ip6tables-ufw.save"), true)
	for _, tc := range []struct {
		name    string
		rs      *ruleset
		port    uint16
		v6      bool
		access  Access
		allowed []string
	}{
		{"nft port21 v4", nftAllow, 21, false, Restricted, []string{"198.51.100.7/32", "203.0.113.0/24"}},
		{"nft port21 v6", nftAllow, 21, true, Restricted, []string{"fd00:21::/64"}},
		{"nft port21 passive", nftAllow, 50050, false, Restricted, []string{"198.51.100.7/32", "203.0.113.0/24"}},
		{"nft port21 other port", nftAllow, 990, false, Open, nil},
		{"nft distro 21", nftDistro, 21, false, Open, nil},
		{"nft distro 990 policy drop", nftDistro, 990, true, Blocked, nil},
		{"iptables 21", ipt4, 21, false, Restricted, []string{"198.51.100.7/32", "203.0.113.0/24"}},
		{"iptables 990 accepted", ipt4, 990, false, Open, nil},
		{"iptables 2121 policy drop", ipt4, 2121, false, Blocked, nil},
		{"ip6tables 21", ipt6, 21, true, Restricted, []string{"fd00:21::/64"}},
		{"ufw 21", ufw4, 21, false, Restricted, []string{"198.51.100.2/32"}},
		{"ufw 990 default deny", ufw4, 990, false, Blocked, nil},
		{"ufw v6 21 deny", ufw6, 21, true, Blocked, nil},
	} {
		o := tc.rs.eval(tc.port, tc.v6)
		slices.Sort(o.allowed)
		if o.access != tc.access || !slices.Equal(o.allowed, tc.allowed) {
			t.Errorf("%s: %v %v (rules %q), want %v %v", tc.name, o.access, o.allowed, o.rules, tc.access, tc.allowed)
		}
		if o.access != Open && len(o.rules) == 0 {
			t.Errorf("%s: no deciding rule named", tc.name)
		}
	}
}

// TestReadStatusIPTablesNFT: rules iptables-nft wrote with matches nft
// cannot show (ufw's addrtype) are read from iptables-save, not nft.
func TestReadStatusIPTablesNFT(t *testing.T) {
	if _, err := exec.LookPath("nft"); err != nil {
		skipOrFail(t, "nft not installed (Debian package nftables)")
	}
	if _, err := exec.LookPath("iptables-save"); err != nil {
		skipOrFail(t, "iptables-save not installed (Debian package iptables)")
	}
	f := &fakeRunner{out: map[string]string{
		"nft -j list ruleset":      fixture(t, "nft-ufw.json"),
		"iptables-save -t filter":  fixture(t, "iptables-ufw.save"),
		"ip6tables-save -t filter": fixture(t, "ip6tables-ufw.save"),
	}}
	st, err := readStatus(context.Background(), f, []PortRange{{21, 21}})
	if err != nil {
		t.Fatal(err)
	}
	ps, ok := st.Lookup(21, "ipv4")
	if !ok || ps.Access != Restricted || strings.Join(ps.Allowed, ",") != "198.51.100.2/32" {
		t.Errorf("21/ipv4: %+v, want restricted to 198.51.100.2/32", ps)
	}
	if !slices.ContainsFunc(st.Notes, func(n string) bool { return strings.Contains(n, "managed by iptables-nft") }) {
		t.Errorf("no note on the iptables-nft table: %q", st.Notes)
	}
}

func TestMergeIPTSave(t *testing.T) {
	save := fixture(t, "iptables-allow.save")
	// Remove port21's rules: everything else stays, in order.
	out, removed := mergeIPTSave(save, nil)
	if strings.Contains(out, "PORT21") {
		t.Errorf("port21 rules left:\n%s", out)
	}
	if !strings.Contains(out, "-A INPUT -p tcp -m tcp --dport 990 -j ACCEPT") || !strings.Contains(out, ":INPUT DROP") {
		t.Errorf("other rules lost:\n%s", out)
	}
	if len(removed.filter) != 6 {
		t.Errorf("removed %d filter rules, want 6: %q", len(removed.filter), removed.filter)
	}
	// Put them back: the jump comes first in INPUT.
	back, _ := mergeIPTSave(out, &iptTables{filter: removed.filter})
	i, j := strings.Index(back, "-A INPUT -j PORT21-INPUT"), strings.Index(back, "-A INPUT -p tcp")
	if i < 0 || j < 0 || i > j {
		t.Errorf("jump not first in INPUT:\n%s", back)
	}
	// A machine with no raw table gets one when the helper is needed.
	rules := iptRules(Policy{Allow: mustPrefixes("203.0.113.0/24")}, false)
	withRaw, _ := mergeIPTSave(out, &rules)
	if !strings.Contains(withRaw, "*raw\n:PREROUTING ACCEPT [0:0]\n:PORT21-RAW - [0:0]\n-A PREROUTING -j PORT21-RAW\n") {
		t.Errorf("raw table not added:\n%s", withRaw)
	}
}

func TestReadStatusFake(t *testing.T) {
	f := &fakeRunner{out: map[string]string{
		"nft -j list ruleset":      fixture(t, "nft-allow.json"),
		"iptables-save -t filter":  "",
		"ip6tables-save -t filter": "",
	}}
	st, err := readStatus(context.Background(), f, []PortRange{{21, 21}, {50000, 50100}})
	if err != nil {
		t.Fatal(err)
	}
	ps, ok := st.Lookup(50010, "ipv6")
	if !ok || ps.Access != Restricted || !slices.Equal(ps.Allowed, []string{"fd00:21::/64"}) {
		t.Errorf("Lookup(50010, ipv6) = %+v, %v", ps, ok)
	}
}

func TestManagerFake(t *testing.T) {
	f := &fakeRunner{out: map[string]string{"iptables-save": fixture(t, "iptables-allow.save")}}
	m, err := NewManager(IPTables, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	m.run = f
	ctx := context.Background()
	if err := m.Apply(ctx, Policy{Block: true}); err != nil {
		t.Fatal(err)
	}
	joined := strings.Join(f.calls, "\n")
	if !strings.Contains(joined, "-A PORT21-INPUT -p tcp -m multiport --dports 21 -j DROP") {
		t.Errorf("block rules not restored:\n%s", joined)
	}
	f.calls = nil
	if err := m.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if joined := strings.Join(f.calls, "\n"); !strings.Contains(joined, "-s 203.0.113.0/24 -p tcp -m multiport --dports 21,50000:50100 -j ACCEPT") {
		t.Errorf("rollback did not restore the old rules:\n%s", joined)
	}
	if err := m.Rollback(ctx); err == nil {
		t.Error("second rollback succeeded")
	}
	for _, b := range []Backend{Windows, PF} {
		if _, err := NewManager(b, ""); !errors.Is(err, ErrUnsupported) {
			t.Errorf("NewManager(%s): %v, want ErrUnsupported", b, err)
		}
	}
}

func mustPrefixes(s ...string) []netip.Prefix {
	var out []netip.Prefix
	for _, v := range s {
		p, err := ParsePrefix(v)
		if err != nil {
			panic(err)
		}
		out = append(out, p)
	}
	return out
}

type failRunner struct{}

func (failRunner) run(context.Context, string, string, ...string) (string, error) {
	return "", errors.New("exit status 1: Operation not permitted")
}

func TestReadStatusNoRoot(t *testing.T) {
	if _, err := exec.LookPath("nft"); err != nil {
		t.Skip("nft not installed")
	}
	st, err := readStatus(context.Background(), failRunner{}, []PortRange{{21, 21}})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range st.Ports {
		if p.Access != Unknown {
			t.Errorf("%s/%s = %v, want unknown when nothing could be read", p.Ports, p.Family, p.Access)
		}
	}
	if len(st.Notes) == 0 || !strings.Contains(strings.Join(st.Notes, "\n"), "without root") {
		t.Errorf("notes do not say root is needed: %q", st.Notes)
	}
}

// TestEvalFamilies: a drop policy in an IPv4-only table says nothing about IPv6.
func TestEvalFamilies(t *testing.T) {
	rs, err := parseNFTJSON([]byte(`{"nftables":[{"chain":{"family":"ip","table":"other","name":"in","type":"filter","hook":"input","prio":0,"policy":"drop"}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if o := rs.eval(21, false); o.access != Blocked {
		t.Errorf("ipv4: %v, want blocked", o.access)
	}
	if o := rs.eval(21, true); o.access != Open {
		t.Errorf("ipv6: %v, want open", o.access)
	}
	ipt := parseIPTSave("*filter\n:INPUT DROP [0:0]\nCOMMIT\n", false)
	if o := ipt.eval(21, true); o.access != Open {
		t.Errorf("iptables policy applied to ipv6: %v", o.access)
	}
}
