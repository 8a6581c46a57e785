package firewall

import (
	"flag"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var planCases = []struct {
	name string
	p    Policy
}{
	{"allow", Policy{
		Allow:   []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24"), netip.MustParsePrefix("198.51.100.7/32"), netip.MustParsePrefix("fd00:21::/64")},
		Passive: PortRange{50000, 50100},
	}},
	{"allow-implicit-for", Policy{
		Allow:       []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24"), netip.MustParsePrefix("fd00:21::/64")},
		Passive:     PortRange{50000, 50100},
		ImplicitTLS: true,
		For:         2 * time.Hour,
	}},
	{"allow-v4-nopassive", Policy{Allow: []netip.Prefix{netip.MustParsePrefix("203.0.113.5/32")}}},
	{"block", Policy{Block: true, Passive: PortRange{50000, 50100}, ImplicitTLS: true}},
}

func TestPlanGolden(t *testing.T) {
	for _, b := range AllBackends() {
		for _, tc := range planCases {
			t.Run(string(b)+"/"+tc.name, func(t *testing.T) {
				got, err := Plan(b, tc.p)
				golden := filepath.Join("testdata", "plan", string(b)+"-"+tc.name+".golden")
				if err != nil {
					got = "error: " + err.Error() + "\n"
				}
				if *update {
					if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run go test -update)", err)
				}
				if got != string(want) {
					t.Errorf("plan differs from %s (go test -update to accept):\n%s", golden, got)
				}
			})
		}
	}
}

// TestPlanNFTValid checks every nftables plan with the real parser.
func TestPlanNFTValid(t *testing.T) {
	if _, err := exec.LookPath("nft"); err != nil {
		skipOrFail(t, "nft not installed (Debian package nftables)")
	}
	for _, tc := range planCases {
		out, err := Plan(NFTables, tc.p)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("nft", "-c", "-f", "-")
		cmd.Stdin = strings.NewReader(out)
		if b, err := cmd.CombinedOutput(); err != nil {
			if strings.Contains(string(b), "Operation not permitted") {
				t.Skip("nft -c needs CAP_NET_ADMIN here")
			}
			t.Errorf("%s: nft -c: %v\n%s\n%s", tc.name, err, b, out)
		}
	}
}

func skipOrFail(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("PORT21_REQUIRE_CLIENTS") == "1" {
		t.Fatal(why)
	}
	t.Skip(why)
}

func TestPolicyValidate(t *testing.T) {
	n := []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24")}
	for _, tc := range []struct {
		name string
		p    Policy
		ok   bool
	}{
		{"allow", Policy{Allow: n}, true},
		{"block", Policy{Block: true}, true},
		{"neither", Policy{}, false},
		{"both", Policy{Block: true, Allow: n}, false},
		{"low passive", Policy{Allow: n, Passive: PortRange{21, 30}}, false},
		{"reversed passive", Policy{Allow: n, Passive: PortRange{50010, 50000}}, false},
		{"block for", Policy{Block: true, For: time.Hour}, false},
		{"short for", Policy{Allow: n, For: time.Millisecond}, false},
		{"for", Policy{Allow: n, For: 3 * time.Second}, true},
	} {
		err := tc.p.Validate()
		if (err == nil) != tc.ok {
			t.Errorf("%s: Validate() = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}

func TestParsePrefix(t *testing.T) {
	for in, want := range map[string]string{
		"203.0.113.9":      "203.0.113.9/32",
		"203.0.113.9/24":   "203.0.113.0/24",
		"::ffff:192.0.2.1": "192.0.2.1/32",
		"fd00:21::1":       "fd00:21::1/128",
		"fd00:21::1/64":    "fd00:21::/64",
		"nonsense":         "",
		"fe80::1%eth0":     "",
		"203.0.113.0/33":   "",
	} {
		p, err := ParsePrefix(in)
		got := ""
		if err == nil {
			got = p.String()
		}
		if got != want {
			t.Errorf("ParsePrefix(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestParseBackend(t *testing.T) {
	for _, b := range AllBackends() {
		if got, err := ParseBackend(strings.ToUpper(string(b))); err != nil || got != b {
			t.Errorf("ParseBackend(%q) = %q, %v", b, got, err)
		}
	}
	if _, err := ParseBackend("ipchains"); err == nil {
		t.Error("ParseBackend(ipchains) succeeded")
	}
}

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		2 * time.Hour: "2h", 90 * time.Second: "1m30s", 3 * time.Second: "3s", 26 * time.Hour: "1d2h",
	} {
		if got := formatDuration(d); got != want {
			t.Errorf("formatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}
