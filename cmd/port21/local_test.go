package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/port21/port21/internal/firewall"
	"github.com/port21/port21/internal/local"
	"github.com/port21/port21/internal/report"
	"github.com/port21/port21/internal/sockets"
)

// TestLocalFixture runs port21 local on a /proc snapshot and a configuration
// tree from testdata/local, with a fake firewall and no network probes.
func TestLocalFixture(t *testing.T) {
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	var asked []uint16 // ports the probe was asked to connect to
	env := local.Env{
		ProcRoot: "testdata/local/proc",
		ConfRoot: "testdata/local",
		Status: func(_ context.Context, ports []firewall.PortRange) (*firewall.Status, error) {
			st := &firewall.Status{}
			for _, p := range ports {
				st.Ports = append(st.Ports,
					firewall.PortStatus{Port: p, Family: "ipv4", Access: firewall.Open},
					firewall.PortStatus{Port: p, Family: "ipv6", Access: firewall.Restricted, Allowed: []string{"fd00:21::/64"}, Rules: []string{"nftables: inet port21 chain input handle 9"}})
			}
			return st, nil
		},
		Probe: func(_ context.Context, ls []sockets.Listener, _ time.Duration, _ int) map[int]string {
			out := map[int]string{}
			for i, l := range ls {
				asked = append(asked, l.Port)
				switch l.Port {
				case 2221: // an FTP server on an unusual port, not a known daemon
					out[i] = "pyftpdlib ready."
				case 2117: // proftpd off its ports: a passive data listener
					out[i] = "ProFTPD Server ready."
				}
			}
			return out
		},
		Now: func() time.Time { return now },
	}
	var out, errb bytes.Buffer
	if err := runLocal(context.Background(), env, localFlags{reportFlags: reportFlags{format: "json"}, probeTimeout: time.Second}, &out, &errb); err != nil {
		t.Fatal(err)
	}
	var rep report.Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	got := map[string][]string{}
	for _, r := range rep.Results {
		var ids []string
		for _, f := range r.Findings {
			ids = append(ids, f.ID)
		}
		slices.Sort(ids)
		got[r.Target.String()] = ids
	}
	want := map[string][]string{
		"0.0.0.0:21":                     {"firewall-open", "ftp-listener"},
		"[::]:21":                        {"firewall-open", "ftp-listener"}, // :: takes IPv4 too, which is open
		"0.0.0.0:990":                    {"firewall-open", "ftp-listener"},
		"127.0.0.1:2117":                 {"ftp-listener"},
		"127.0.0.1:2221":                 {"ftp-listener"},
		"0.0.0.0:8021":                   {"firewall-open", "ftp-listener"}, // listen port of etc/port21/site.toml, no greeting
		"127.0.0.1:3021":                 {"ftp-listener"},                  // a proftpd socket, no greeting
		"testdata/local/etc/vsftpd.conf": {"anonymous-login", "anonymous-write", "anonymous-write", "cleartext-login", "ftp-bounce", "logging-off", "no-chroot", "no-passive-range", "no-tls", "version-disclosed"},
	}
	for k, w := range want {
		if !slices.Equal(got[k], w) {
			t.Errorf("%s: ids %q, want %q", k, got[k], w)
		}
	}
	for _, k := range []string{"[::1]:22", "127.0.0.1:8080"} {
		if _, ok := got[k]; ok {
			t.Errorf("%s reported as FTP", k)
		}
	}
	// Each listener says why it counts as FTP.
	for _, r := range rep.Results {
		if r.Target.File != "" {
			continue
		}
		why := ""
		for _, f := range r.Findings {
			for _, e := range f.Evidence {
				if strings.HasPrefix(e.Note, "reported as FTP: ") {
					why = e.Note
				}
			}
		}
		if want := map[string]string{
			"0.0.0.0:8021":   "testdata/local/etc/port21/site.toml",
			"127.0.0.1:3021": "belongs to proftpd",
			"127.0.0.1:2117": "belongs to proftpd",
			"127.0.0.1:2221": "greets like an FTP server",
			"0.0.0.0:990":    "well-known FTP port",
		}[r.Target.String()]; !strings.Contains(why, want) {
			t.Errorf("%s: reason %q, want it to mention %q", r.Target, why, want)
		}
	}
	// A daemon's listener off its control ports may be a passive data
	// listener waiting for a client: it is never probed, and says so.
	if slices.Contains(asked, 2117) || slices.Contains(asked, 3021) {
		t.Errorf("probed proftpd's data listeners: asked %v", asked)
	}
	if !slices.Contains(asked, 2221) || !slices.Contains(asked, 21) {
		t.Errorf("did not probe the others: asked %v", asked)
	}
	for _, r := range rep.Results {
		if r.Target.String() == "127.0.0.1:2117" && !strings.Contains(fmt.Sprint(r.Findings), "not probed: proftpd listens here off its control ports") {
			t.Errorf("127.0.0.1:2117 does not say why it was not probed: %+v", r.Findings)
		}
	}
	if rep.Tool != "port21 local" || len(rep.Inputs) != 3 {
		t.Errorf("tool %q inputs %q", rep.Tool, rep.Inputs)
	}
	// The human table names the process, the activation and the firewall.
	out.Reset()
	if err := runLocal(context.Background(), env, localFlags{reportFlags: reportFlags{format: "table"}, probeTimeout: time.Second}, &out, &errb); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"vsftpd", "/usr/sbin/vsftpd", "systemd [systemd]", "ipv4 open", "ipv6 restricted", "local only"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("table lacks %q:\n%s", s, out.String())
		}
	}
}

func TestParseProbePorts(t *testing.T) {
	for _, tc := range []struct {
		in      string
		yes, no []uint16
	}{
		{"all", []uint16{1, 21, 65535}, nil},
		{"none", nil, []uint16{21}},
		{"21,2100-2102", []uint16{21, 2101}, []uint16{22, 2103}},
	} {
		in, err := parseProbePorts(tc.in)
		if err != nil {
			t.Fatalf("%q: %v", tc.in, err)
		}
		for _, p := range tc.yes {
			if !in(p) {
				t.Errorf("%q: %d not included", tc.in, p)
			}
		}
		for _, p := range tc.no {
			if in(p) {
				t.Errorf("%q: %d included", tc.in, p)
			}
		}
	}
	for _, bad := range []string{"0", "21-", "x", "70000"} {
		if _, err := parseProbePorts(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
