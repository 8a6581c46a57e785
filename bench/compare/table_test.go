package main

import (
	"errors"
	"strings"
	"testing"
)

func TestNumber(t *testing.T) {
	for _, c := range []struct {
		v    float64
		want string
	}{{1234.4, "1,234"}, {1200, "1,200"}, {999.6, "1,000"}, {56.78, "56.8"}, {0.784, "0.78"}, {-12345, "-12,345"}, {123456789, "123,456,789"}} {
		if got := number(c.v); got != c.want {
			t.Errorf("number(%v) = %q, want %q", c.v, got, c.want)
		}
	}
}

func TestTableRatios(t *testing.T) {
	var res results
	servers := []string{"port21", "vsftpd", "pure-ftpd", "proftpd"}
	for s, v := range map[string]float64{"port21": 517, "vsftpd": 346, "pure-ftpd": 300, "proftpd": 200} {
		res.set("FTPS download", "MB/s", higher, s, v)
	}
	for s, v := range map[string]float64{"port21": 174, "vsftpd": 690, "pure-ftpd": 464} {
		res.set("PSS per idle session", "KiB", lower, s, v)
	}
	res.fail("PSS per idle session", "KiB", lower, "proftpd", errors.New("refused\nmore"))
	var b strings.Builder
	if err := writeTable(&b, &res, servers); err != nil {
		t.Fatal(err)
	}
	writeErrors(&b, &res)
	got := b.String()
	for _, want := range []string{
		"| workload | better | port21 | vsftpd | Pure-FTPd | ProFTPD | best peer | port21 : best | port21 : vsftpd | port21 : Pure-FTPd | port21 : ProFTPD |\n|---|---|---:|---:|---:|---:|---|---:|---:|---:|---:|\n",
		"| FTPS download, MB/s | higher | 517 | 346 | 300 | 200 | vsftpd | 1.49x | 1.49x | 1.72x | 2.58x |\n",
		// Lower is better: the best peer is the smallest, a failed peer has
		// no ratio.
		"| PSS per idle session, KiB | lower | 174 | 690 | 464 | failed | Pure-FTPd | 0.38x | 0.25x | 0.38x |  |\n",
		"- PSS per idle session failed on ProFTPD: refused\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("table lacks %q:\n%s", want, got)
		}
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"256MiB": 256 << 20, "1GiB": 1 << 30, "4096": 4096, "64K": 64 << 10} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "-1MiB", "1TB"} {
		if _, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q) accepted", in)
		}
	}
}

// The servers run side by side, each on its own slice of -passive, and
// Pure-FTPd serves one client per two passive ports of its slice: a range
// too narrow is refused up front, not found in the table afterwards.
func TestParseFlagsPassiveSlices(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		ok     bool
		lo, hi int // the last server's slice
	}{
		{nil, true, 48500, 48999},
		{[]string{"-passive", "47000-47999"}, false, 0, 0},
		{[]string{"-passive", "47000-47399", "-sessions", "30"}, true, 47300, 47399},
		{[]string{"-passive", "47000-47099", "-servers", "port21,vsftpd,proftpd"}, true, 47066, 47098},
		{[]string{"-passive", "47000-47015", "-servers", "port21,vsftpd"}, true, 47008, 47015},
		{[]string{"-passive", "47000-47014", "-servers", "port21,vsftpd"}, false, 0, 0},
		{[]string{"-sessions", "1000"}, false, 0, 0},
	} {
		cfg, err := parseFlags(tc.args)
		if (err == nil) != tc.ok {
			t.Errorf("parseFlags(%q): err = %v, want ok = %v", tc.args, err, tc.ok)
			continue
		}
		if err != nil {
			continue
		}
		if lo, hi := cfg.passiveSlice(len(cfg.Servers) - 1); lo != tc.lo || hi != tc.hi {
			t.Errorf("parseFlags(%q): last slice %d-%d, want %d-%d", tc.args, lo, hi, tc.lo, tc.hi)
		}
		if _, hi := cfg.passiveSlice(len(cfg.Servers) - 1); hi > cfg.PassiveHi {
			t.Errorf("parseFlags(%q): slice ends past %d", tc.args, cfg.PassiveHi)
		}
	}
}
