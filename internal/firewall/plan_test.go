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

func TestParseUFWLine(t *testing.T) {
	for _, tc := range []struct {
		line string
		want ufwRule
		ok   bool
	}{
		{"ufw allow 21/tcp", ufwRule{Action: "allow", From: "any", Port: "21", Proto: "tcp"}, true},
		{"ufw deny 50000:50010/tcp comment 'port21'", ufwRule{Action: "deny", From: "any", Port: "50000:50010", Proto: "tcp", Comment: "port21"}, true},
		{"ufw allow from 198.51.100.2 to any port 21 proto tcp comment 'port21'", ufwRule{Action: "allow", From: "198.51.100.2", Port: "21", Proto: "tcp", Comment: "port21"}, true},
		{"ufw allow in 21", ufwRule{Action: "allow", From: "any", Port: "21"}, true},
		{"ufw allow from fd00:21::/64 to any port 21 proto tcp comment 'a b'", ufwRule{Action: "allow", From: "fd00:21::/64", Port: "21", Proto: "tcp", Comment: "a b"}, true},
		{"ufw allow out 21/tcp", ufwRule{}, false},
		{"ufw allow in on eth0 to any port 21", ufwRule{}, false},
		{"ufw allow OpenSSH", ufwRule{Action: "allow", From: "any", Port: "OpenSSH"}, true},
		{"ufw allow from 10.0.0.1 to 10.0.0.2 port 21", ufwRule{}, false},
		{"ufw route allow 21/tcp", ufwRule{}, false},
		{"Added user rules (see 'ufw status' for running firewall):", ufwRule{}, false},
		{"ufw deny 21/tcp comment 'unterminated", ufwRule{}, false},
	} {
		got, ok := parseUFWLine(tc.line)
		if ok != tc.ok || got != tc.want {
			t.Errorf("%q: %+v %v, want %+v %v", tc.line, got, ok, tc.want, tc.ok)
		}
	}
	// The rules port21 writes read back as themselves from their command
	// line, so apply finds its own rules again.
	for _, r := range ufwRules(Policy{Allow: []netip.Prefix{netip.MustParsePrefix("198.51.100.2/32")}, Passive: PortRange{50000, 50010}}) {
		if back, ok := parseUFWLine(r.command("")); !ok || back != r || r.Comment != ufwComment {
			t.Errorf("%+v reads back as %+v %v", r, back, ok)
		}
	}
}
