package firewall

import (
	"context"
	"errors"
	"slices"
	"testing"
)

func TestDetect(t *testing.T) {
	for _, tc := range []struct {
		name string
		goos string
		have []string
		out  map[string]string
		want Backend
	}{
		{"windows", "windows", nil, nil, Windows},
		{"freebsd", "freebsd", nil, nil, PF},
		{"firewalld running", "linux", []string{"firewall-cmd", "nft"}, map[string]string{"firewall-cmd --state": "running\n"}, Firewalld},
		{"firewalld installed, stopped", "linux", []string{"firewall-cmd", "nft"}, map[string]string{"firewall-cmd --state": "not running\n"}, NFTables},
		{"ufw active", "linux", []string{"ufw", "nft"}, map[string]string{"ufw status": "Status: active\n"}, UFW},
		{"ufw inactive", "linux", []string{"ufw", "iptables-restore"}, map[string]string{"ufw status": "Status: inactive\n"}, IPTables},
		{"nothing", "linux", nil, nil, ""},
		{"plan9", "plan9", nil, nil, ""},
	} {
		got, err := detect(context.Background(), tc.goos, &fakeRunner{out: tc.out}, func(n string) bool { return slices.Contains(tc.have, n) })
		if got != tc.want || (tc.want == "" && !errors.Is(err, ErrNoBackend)) {
			t.Errorf("%s: detect = %q, %v; want %q", tc.name, got, err, tc.want)
		}
	}
}
