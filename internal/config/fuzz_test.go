package config

import (
	"testing"
)

// FuzzParsePortRange: an accepted passive-ports range is at or above 1024,
// ordered, and its String form parses back to the same range.
func FuzzParsePortRange(f *testing.F) {
	for _, s := range []string{"50000-50100", " 50000 - 50100 ", "2121", "1023-2000", "100-50", "0-0", "65535", "65536", "-", "1-", "+1024-+2000", "01024-02000", "50000-50100-50200", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParsePortRange(s)
		if err != nil {
			if r != (PortRange{}) {
				t.Fatalf("ParsePortRange(%q) refused but gave %v", s, r)
			}
			return
		}
		if r.Low < 1024 || r.Low > r.High || r.Len() < 1 {
			t.Fatalf("ParsePortRange(%q) = %v", s, r)
		}
		if again, err := ParsePortRange(r.String()); err != nil || again != r {
			t.Fatalf("ParsePortRange(%q) = %v; %q parses as %v, %v", s, r, r.String(), again, err)
		}
	})
}
