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

// Pure-FTPd serves one client per two passive ports: a range too narrow for
// the idle sessions is refused up front, not found in the table afterwards.
func TestParseFlagsPassiveRoomForPure(t *testing.T) {
	for _, tc := range []struct {
		args []string
		ok   bool
	}{
		{nil, true},
		{[]string{"-passive", "47000-47099"}, false},
		{[]string{"-passive", "47000-47099", "-sessions", "30"}, true},
		{[]string{"-passive", "47000-47099", "-servers", "port21,vsftpd,proftpd"}, true},
		{[]string{"-sessions", "1000"}, false},
	} {
		_, err := parseFlags(tc.args)
		if (err == nil) != tc.ok {
			t.Errorf("parseFlags(%q): err = %v, want ok = %v", tc.args, err, tc.ok)
		}
	}
}
