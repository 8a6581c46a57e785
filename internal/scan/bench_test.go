package scan

import (
	"context"
	"net"
	"net/netip"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/port21/port21/internal/scan/targets"
)

// loopbackFakes starts four scripted vsftpd-like servers on one port of
// 127.1.0.10, .50, .100 and .200, and returns the port.
func loopbackFakes(b *testing.B) uint16 {
	first := &fake{banner: "220 (vsFTPd 3.0.3)\r\n", replies: vsftpdPlain}
	port := startFakeAt(b, first, "127.1.0.10:0").Port()
	for _, host := range []string{"127.1.0.50", "127.1.0.100", "127.1.0.200"} {
		startFakeAt(b, &fake{banner: "220 (vsFTPd 3.0.3)\r\n", replies: vsftpdPlain}, net.JoinHostPort(host, strconv.Itoa(int(port))))
	}
	return port
}

// BenchmarkNmapLoopback runs nmap's service detection and FTP scripts on
// the same targets as BenchmarkScanLoopback, for comparison. It is skipped
// when nmap is not installed.
func BenchmarkNmapLoopback(b *testing.B) {
	nmap, err := exec.LookPath("nmap")
	if err != nil {
		b.Skip("nmap not installed (Debian package nmap)")
	}
	port := loopbackFakes(b)
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		out, err := exec.CommandContext(ctx, nmap, "-n", "-Pn", "-sT", "-sV", "-p", strconv.Itoa(int(port)),
			"--script", "ftp-anon,ftp-syst,ftp-bounce,ftp-vsftpd-backdoor", "-oX", "-", "127.1.0.0/24").Output()
		cancel()
		if err != nil {
			b.Fatalf("nmap: %v", err)
		}
		if n := strings.Count(string(out), `state="open"`); n != 4 {
			b.Fatalf("nmap found %d open ports, want 4", n)
		}
	}
	b.ReportMetric(float64(256*b.N)/time.Since(start).Seconds(), "hosts/s")
}

// BenchmarkScanLoopback scans 127.1.0.0/24 on one port with four scripted
// FTP servers among the 256 addresses (the rest refuse the connection), and
// reports hosts per second:
//
//	go test -run '^$' -bench ScanLoopback -benchtime 3x ./internal/scan
func BenchmarkScanLoopback(b *testing.B) {
	port := loopbackFakes(b)
	e, err := targets.ParseSpec("127.1.0.0/24")
	if err != nil {
		b.Fatal(err)
	}
	list := targets.List{Entries: []targets.Entry{e}, Ports: []uint16{port}}
	s, err := New(Options{Concurrency: 100, Rate: -1, Timeout: 5 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		var stats Stats
		found := 0
		if err := s.Run(context.Background(), list.All(), &stats, func(r Result) error {
			if r.Service != nil {
				found++
			}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
		if found != 4 || stats.Done.Load() != 256 {
			b.Fatalf("found %d FTP services in %d targets, want 4 in 256", found, stats.Done.Load())
		}
	}
	b.ReportMetric(float64(256*b.N)/time.Since(start).Seconds(), "hosts/s")
}

// startFakeAt is startFake on a chosen loopback address.
func startFakeAt(tb testing.TB, f *fake, addr string) netip.AddrPort {
	tb.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		tb.Skipf("cannot listen on %s: %v", addr, err)
	}
	ln.Close()
	return startFakeOn(tb, f, addr)
}
