package config

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func TestDecodeProxyKeys(t *testing.T) {
	cfg, err := Decode([]byte(`
public-host = "203.0.113.10"
trusted-proxies = ["127.0.0.1/32", "10.1.2.3"]
passive-host = [
  {networks = ["10.0.0.0/8", "192.168.0.0/16"], host = "10.0.0.5"},
  {networks = ["127.0.0.2"], host = "nat.example.invalid"},
]
`), "port21.toml", Default())
	if err != nil {
		t.Fatal(err)
	}
	v, err := cfg.Validate()
	if err != nil {
		t.Fatal(err)
	}
	if len(v.TrustedNets) != 2 || v.TrustedNets[1].String() != "10.1.2.3/32" {
		t.Errorf("TrustedNets %v", v.TrustedNets)
	}
	if len(v.PassiveRules) != 2 || v.PassiveRules[0].Addr.String() != "10.0.0.5" || v.PassiveRules[1].Name != "nat.example.invalid" || v.PassiveRules[1].Addr.IsValid() {
		t.Fatalf("PassiveRules %+v", v.PassiveRules)
	}
	// [[passive-host]] tables are the same key; unknown keys inside a rule
	// are errors like any other.
	if _, err := Decode([]byte("[[passive-host]]\nnetworks = [\"10.0.0.0/8\"]\nhost = \"10.0.0.5\"\n"), "t.toml", Default()); err != nil {
		t.Error(err)
	}
	if _, err := Decode([]byte("[[passive-host]]\nnetwork = [\"10.0.0.0/8\"]\nhost = \"10.0.0.5\"\n"), "t.toml", Default()); err == nil || !strings.Contains(err.Error(), "passive-host.network") {
		t.Errorf("unknown key in a rule: %v", err)
	}
}

func TestValidateProxyKeys(t *testing.T) {
	for _, tc := range []struct {
		key    string
		mutate func(*Config)
		want   string
	}{
		{"trusted-proxies", func(c *Config) { c.TrustedProxies = []string{"haproxy"} }, "not a CIDR"},
		{"trusted-proxies", func(c *Config) { c.TrustedProxies = []string{"10.0.0.0/33"} }, "not a CIDR"},
		{"trusted-proxies", func(c *Config) { c.TrustedProxies = []string{"0.0.0.0/0"} }, "trusts every address"},
		{"trusted-proxies", func(c *Config) { c.TrustedProxies = []string{"::/0"} }, "trusts every address"},
		{"passive-host", func(c *Config) { c.PassiveHost = []PassiveHost{{Networks: []string{"10.0.0.0/8"}}} }, "rule 1: host must be set"},
		{"passive-host", func(c *Config) { c.PassiveHost = []PassiveHost{{Host: "10.0.0.5"}} }, "rule 1: networks must list"},
		{"passive-host", func(c *Config) {
			c.PassiveHost = []PassiveHost{{Networks: []string{"10.0.0.0/8"}, Host: "10.0.0.5"}, {Networks: []string{"nope"}, Host: "10.0.0.5"}}
		}, "rule 2: networks"},
		{"passive-host", func(c *Config) {
			c.PassiveHost = []PassiveHost{{Networks: []string{"10.0.0.0/8"}, Host: "2001:db8::1"}}
		}, "not IPv4"},
		{"passive-host", func(c *Config) { c.PassiveHost = []PassiveHost{{Networks: []string{"10.0.0.0/8"}, Host: "a b"}} }, "neither an IP address nor a host name"},
	} {
		c := Default()
		tc.mutate(&c)
		_, err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), "config: "+tc.key+":") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want the key and %q", tc.key, err, tc.want)
		}
	}
}

// The client's address picks the rule: the first rule with a network
// holding it, else public-host, else none (the control connection's local
// address).
func TestPassiveAddr(t *testing.T) {
	c := Default()
	c.PassiveHost = []PassiveHost{
		{Networks: []string{"10.0.0.0/8", "192.168.1.0/24"}, Host: "10.0.0.5"},
		{Networks: []string{"10.9.0.0/16"}, Host: "10.9.0.1"}, // shadowed by the first rule
		{Networks: []string{"127.0.0.2/32", "2001:db8::/32"}, Host: "127.0.0.3"},
	}
	v, err := c.Validate()
	if err != nil {
		t.Fatal(err)
	}
	withPublic := c
	withPublic.PublicHost = "203.0.113.10"
	vp, err := withPublic.Validate()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		client           string
		want, wantPublic string
	}{
		{"10.1.2.3", "10.0.0.5", "10.0.0.5"},
		{"10.9.0.7", "10.0.0.5", "10.0.0.5"},
		{"192.168.1.200", "10.0.0.5", "10.0.0.5"},
		{"192.168.2.1", "invalid IP", "203.0.113.10"},
		{"127.0.0.2", "127.0.0.3", "127.0.0.3"},
		{"::ffff:127.0.0.2", "127.0.0.3", "127.0.0.3"},
		{"127.0.0.1", "invalid IP", "203.0.113.10"},
		{"2001:db8::9", "127.0.0.3", "127.0.0.3"},
		{"2001:db9::9", "invalid IP", "203.0.113.10"},
	} {
		a := netip.MustParseAddr(tc.client)
		if got := v.PassiveAddr(a).String(); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.client, got, tc.want)
		}
		if got := vp.PassiveAddr(a).String(); got != tc.wantPublic {
			t.Errorf("%s with public-host: got %s, want %s", tc.client, got, tc.wantPublic)
		}
	}
}

// Validate never asks DNS for a rule's host name; ResolvePublic does, and
// names the rule when it fails, without touching the Validated it came from.
func TestPassiveHostResolve(t *testing.T) {
	c := Default()
	c.PassiveHost = []PassiveHost{{Networks: []string{"10.0.0.0/8"}, Host: "10.0.0.5"}, {Networks: []string{"127.0.0.2"}, Host: "nat.example.invalid"}}
	v, err := c.Validate()
	if err != nil {
		t.Fatal(err)
	}
	w := v
	err = w.ResolvePublic(context.Background(), func(_ context.Context, network, host string) ([]netip.Addr, error) {
		if host != "nat.example.invalid" || network != "ip4" {
			t.Errorf("looked up %s %q", network, host)
		}
		return []netip.Addr{netip.MustParseAddr("198.51.100.9")}, nil
	})
	if err != nil || w.PassiveAddr(netip.MustParseAddr("127.0.0.2")).String() != "198.51.100.9" {
		t.Fatalf("resolved: %v, %v", err, w.PassiveRules)
	}
	if v.PassiveRules[1].Addr.IsValid() {
		t.Error("ResolvePublic changed the Validated it was copied from")
	}
	err = v.ResolvePublic(context.Background(), func(context.Context, string, string) ([]netip.Addr, error) {
		return nil, errors.New("no such host")
	})
	if err == nil || !strings.Contains(err.Error(), "passive-host: rule 2") {
		t.Errorf("error %v does not name the key and rule", err)
	}
}

func TestTrusted(t *testing.T) {
	c := Default()
	c.TrustedProxies = []string{"127.0.0.1/32", "fd00::/8"}
	v, err := c.Validate()
	if err != nil {
		t.Fatal(err)
	}
	for a, want := range map[string]bool{"127.0.0.1": true, "::ffff:127.0.0.1": true, "127.0.0.2": false, "fd00::1": true, "::1": false} {
		if got := v.Trusted(netip.MustParseAddr(a)); got != want {
			t.Errorf("Trusted(%s) = %v", a, got)
		}
	}
}
