package firewall

import (
	"os"
	"strings"
	"testing"
)

func FuzzParseNFTJSON(f *testing.F) {
	for _, n := range []string{"nft-allow.json", "nft-distro.json"} {
		b, err := os.ReadFile("testdata/status/" + n)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"nftables":[{"chain":{"family":"inet","table":"t","name":"c","hook":"input","type":"filter"}},{"rule":{"family":"inet","table":"t","chain":"c","expr":[{"jump":{"target":"c"}}]}}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		rs, err := parseNFTJSON(b)
		if err != nil {
			return
		}
		for _, port := range []uint16{21, 50000} {
			rs.eval(port, false)
			rs.eval(port, true)
		}
	})
}

func FuzzParseIPTSave(f *testing.F) {
	for _, n := range []string{"iptables-allow.save", "ip6tables-allow.save"} {
		b, err := os.ReadFile("testdata/status/" + n)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Add("*filter\n:INPUT DROP [0:0]\n:X - [0:0]\n-A INPUT -j X\n-A X -g INPUT\n-A X ! -s \"1.2.3.4\" -j DROP\nCOMMIT\n")
	f.Fuzz(func(t *testing.T, s string) {
		rs := parseIPTSave(s, strings.Contains(s, "6"))
		rs.eval(21, false)
		rs.eval(990, true)
		out, removed := mergeIPTSave(s, &iptTables{filter: []string{"-A PORT21-INPUT -j DROP"}})
		if strings.Count(out, "-A INPUT -j PORT21-INPUT") != 1 {
			t.Fatalf("merge did not add exactly one jump:\n%s", out)
		}
		// Merging again removes and re-adds: stable.
		again, removed2 := mergeIPTSave(out, &iptTables{filter: []string{"-A PORT21-INPUT -j DROP"}})
		if again != out || len(removed2.filter) != 1 {
			t.Fatalf("merge not idempotent:\n%s\n---\n%s", out, again)
		}
		_ = removed
	})
}

func FuzzParsePrefix(f *testing.F) {
	for _, s := range []string{"203.0.113.0/24", "fd00:21::1", "::ffff:1.2.3.4/120", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePrefix(s)
		if err == nil && (!p.IsValid() || p.Masked() != p) {
			t.Fatalf("ParsePrefix(%q) = %v", s, p)
		}
	})
}

// FuzzParseUFWAdded: whatever `ufw show added` prints, a rule read from it
// reads back the same from the command line port21 would give ufw.
func FuzzParseUFWAdded(f *testing.F) {
	f.Add("Added user rules (see 'ufw status' for running firewall):\nufw allow 21/tcp\nufw deny 50000:50010/tcp comment 'port21'\n")
	f.Add("ufw allow from 198.51.100.2 to any port 21 proto tcp comment 'port21'\nufw allow in on eth0 to any port 22\nufw limit OpenSSH\n")
	f.Add("ufw allow from 'x y' to any port 21 proto tcp comment 'it''s'")
	f.Fuzz(func(t *testing.T, s string) {
		for _, r := range parseUFWAdded(s) {
			line := r.command("")
			back, ok := parseUFWLine(line)
			if strings.ContainsAny(r.From+r.Port+r.Proto+r.Comment, " '\t") || r.From == "" {
				continue // not a rule ufw prints
			}
			if !ok || back != r {
				t.Errorf("%q -> %+v -> %q -> %+v %v", s, r, line, back, ok)
			}
		}
	})
}
