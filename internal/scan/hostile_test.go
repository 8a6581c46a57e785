package scan

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/port21/port21/internal/finding"
	"github.com/port21/port21/internal/ftp"
	"github.com/port21/port21/internal/report"
	"github.com/port21/port21/internal/scan/targets"
)

// countingWriter counts what a hostile peer managed to write before the
// scanner hung up, which bounds what the scanner read.
type countingWriter struct {
	w io.Writer
	n *atomic.Int64
}

func (c countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n.Add(int64(n))
	return n, err
}

// writeFor writes chunk to c until limit bytes are written or c fails (the
// scanner gave up and closed it).
func writeFor(c io.Writer, chunk string, limit int64) {
	for n := int64(0); n < limit; n += int64(len(chunk)) {
		if _, err := io.WriteString(c, chunk); err != nil {
			return
		}
	}
}

// commandLoop answers each command line with answer(line); answer returns
// false to stop reading.
func commandLoop(c net.Conn, answer func(line string) bool) {
	r := ftp.NewReader(c)
	for {
		line, err := r.ReadLine()
		if err != nil || !answer(line) {
			return
		}
	}
}

// TestHostileServersInOneScan runs one scan over hostile servers and two
// well-behaved ones: every hostile host must end with a clear status at the
// latest at its time-out, what the scanner reads and holds must stay
// bounded (a peer that sends a gigabyte must not cost one), the scanner must
// never connect where a PASV reply points, no byte a banner sends may reach
// a rendered report as a terminal escape, and the well-behaved targets of
// the same scan must still be audited completely.
func TestHostileServersInOneScan(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a scan to several time-outs")
	}
	// A listener on another loopback address, where the PASV reply points:
	// a scanner that followed it would connect here (FTP bounce through the
	// scanner, or a hang on a black hole).
	elsewhere, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Skipf("no 127.0.0.2: %v", err)
	}
	defer elsewhere.Close()
	var followed atomic.Int64
	go func() {
		for {
			c, err := elsewhere.Accept()
			if err != nil {
				return
			}
			followed.Add(1)
			c.Close()
		}
	}()
	ep := netip.MustParseAddrPort(elsewhere.Addr().String()).Port()
	pasvElsewhere := fmt.Sprintf("227 Entering Passive Mode (127,0,0,2,%d,%d).\r\n", ep>>8, ep&0xff)

	const escapeBanner = "220 \x1b[2J\x1b[31m\x1b]0;owned\x07 (vsFTPd 3.0.3) \xff\xfe \xc2\x9b31m \x9b0m\r\n"

	var written [8]atomic.Int64 // per hostile peer that floods
	peers := []struct {
		name string
		f    *fake
		// status is what the host must end with; "" for any status but
		// success (a hostile peer may fail in more than one honest way).
		status finding.Status
		// flood, when >= 0, indexes written: the peer's bytes are bounded.
		flood int
	}{
		{"endless banner", &fake{raw: func(c net.Conn) {
			w := countingWriter{c, &written[0]}
			io.WriteString(w, "220 ")
			writeFor(w, strings.Repeat("a", 64<<10), 1<<30)
		}}, finding.StatusProtocolError, 0},
		{"multi-line reply that never ends", &fake{raw: func(c net.Conn) {
			w := countingWriter{c, &written[1]}
			io.WriteString(w, "220-hello\r\n")
			writeFor(w, "220-and more\r\n", 1<<30)
		}}, finding.StatusProtocolError, 1},
		{"gigabyte reply", &fake{raw: func(c net.Conn) {
			w := countingWriter{c, &written[2]}
			io.WriteString(w, "220 (vsFTPd 3.0.3)\r\n")
			// The first command (FEAT) gets one reply of a gigabyte:
			// lines of a kilobyte, each within the line limit.
			commandLoop(c, func(string) bool {
				io.WriteString(w, "211-Features:\r\n")
				writeFor(w, " "+strings.Repeat("X", 1022)+"\r\n", 1<<30)
				io.WriteString(w, "211 End\r\n")
				return false
			})
		}}, finding.StatusProtocolError, 2},
		{"a byte per second", &fake{raw: func(c net.Conn) {
			for _, b := range []byte("220 (vsFTPd 3.0.3)\r\n") {
				if _, err := c.Write([]byte{b}); err != nil {
					return
				}
				time.Sleep(time.Second)
			}
		}}, finding.StatusTimeout, -1},
		{"TLS stalls mid-handshake", &fake{raw: func(c net.Conn) {
			io.WriteString(c, "220 FTP server ready.\r\n")
			commandLoop(c, func(line string) bool {
				switch strings.ToUpper(line) {
				case "FEAT":
					io.WriteString(c, "211-Features:\r\n AUTH TLS\r\n PBSZ\r\n PROT\r\n211 End\r\n")
				case "AUTH TLS":
					io.WriteString(c, "234 Proceed with negotiation.\r\n")
					// The header of a ServerHello record and two bytes
					// of it, then nothing, whatever the client sends.
					c.Write([]byte{0x16, 0x03, 0x03, 0x00, 0x7a, 0x02, 0x00})
					io.Copy(io.Discard, c)
					return false
				default:
					io.WriteString(c, "530 Please login with USER and PASS.\r\n")
				}
				return true
			})
		}}, finding.StatusTimeout, -1},
		{"PASV reply points elsewhere", &fake{banner: "220 FTP server ready.\r\n", replies: with(vsftpdPlain,
			"PASS", "230 Login successful.\r\n", "PASV", pasvElsewhere, "EPSV", "500 EPSV not understood.\r\n",
			"PORT", "500 Illegal PORT command.\r\n", "EPRT", "500 Illegal EPRT command.\r\n")},
			finding.StatusSuccess, -1},
		{"terminal escapes and invalid UTF-8 in the banner", &fake{banner: escapeBanner, replies: with(vsftpdPlain,
			"FEAT", "211-Features:\r\n \x1b[5mEPSV\x1b[0m\r\n \xc0\xafPASV\r\n211 End\r\n",
			"SYST", "215 \x1b]8;;http://evil.example/\x1b\\UNIX\x1b]8;;\x1b\\ Type: L8\r\n")},
			finding.StatusSuccess, -1},
		{"well-behaved vsftpd", &fake{banner: "220 (vsFTPd 3.0.3)\r\n", replies: vsftpdPlain}, finding.StatusSuccess, -1},
		{"well-behaved vsftpd, second", &fake{banner: "220 (vsFTPd 3.0.3)\r\n", replies: vsftpdPlain}, finding.StatusSuccess, -1},
	}
	byPort := map[uint16]int{}
	var list []targets.Target
	for i, p := range peers {
		ap := startFake(t, p.f)
		byPort[ap.Port()] = i
		list = append(list, targets.Target{Host: ap.Addr().String(), Addr: ap.Addr(), Port: ap.Port()})
	}
	seq := func(yield func(targets.Target) bool) {
		for _, tg := range list {
			if !yield(tg) {
				return
			}
		}
	}

	// Memory: the peak of the heap in use while the scan runs, sampled,
	// against the heap before it. A scanner that buffered the gigabyte
	// reply, or an endless line, would be far past the bound.
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var peak atomic.Uint64
	stop := make(chan struct{})
	var sampler sync.WaitGroup
	sampler.Go(func() {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	})

	// 10 s lets the well-behaved peers finish a full audit on a loaded
	// machine; the slow hostile ones (20 s for a banner, a handshake
	// that never ends) still last past it and must end at it.
	const timeout = 10 * time.Second
	s := newTestScanner(t, func(o *Options) { o.Timeout = timeout; o.Concurrency = len(peers) })
	var results []Result
	var mu sync.Mutex
	start := time.Now()
	err = s.Run(context.Background(), seq, nil, func(r Result) error {
		mu.Lock()
		defer mu.Unlock()
		results = append(results, r)
		return nil
	})
	el := time.Since(start)
	close(stop)
	sampler.Wait()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("the scan took %v with a %v time-out", el.Round(time.Millisecond), timeout)
	if el > 3*timeout {
		t.Errorf("the scan took %v with a %v time-out: a hostile peer held it past its time-out", el, timeout)
	}
	const heapBound = 256 << 20
	grown := int64(peak.Load()) - int64(base)
	t.Logf("heap in use grew by at most %d KiB during the scan", grown>>10)
	if grown > heapBound {
		t.Errorf("heap in use grew by %d MiB during the scan, bound %d MiB", grown>>20, heapBound>>20)
	}

	seen := map[int]bool{}
	for _, r := range results {
		i, ok := byPort[uint16(r.Target.Port)]
		if !ok {
			t.Errorf("result for an unknown target %+v", r.Target)
			continue
		}
		seen[i] = true
		p := peers[i]
		t.Logf("%s: status %s, error %q", p.name, r.Status, r.Error)
		switch {
		case p.status == finding.StatusSuccess:
			if r.Status != finding.StatusSuccess || r.Error != "" {
				t.Errorf("%s: status %s, error %q; want a complete audit", p.name, r.Status, r.Error)
			}
		case p.status != "" && r.Status != p.status:
			t.Errorf("%s: status %s, want %s (error %q)", p.name, r.Status, p.status, r.Error)
		case r.Status == finding.StatusSuccess || r.Error == "":
			t.Errorf("%s: status %s, error %q; want an incomplete audit that says why", p.name, r.Status, r.Error)
		}
		if p.flood >= 0 {
			// The scanner reads at most maxConnBytes of a connection; the
			// rest of what got written sits in socket buffers. 64 MiB is
			// far past both and far below the gigabyte offered.
			if n := written[p.flood].Load(); n > 64<<20 {
				t.Errorf("%s: the peer wrote %d MiB before the scanner hung up", p.name, n>>20)
			}
		}
		if strings.HasPrefix(p.name, "well-behaved") {
			want := []string{finding.IDCleartextLogin, finding.IDNoTLS, finding.IDVersionDisclosed}
			if got := ids(r); strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("%s: findings %v, want %v", p.name, got, want)
			}
		}
	}
	for i, p := range peers {
		if !seen[i] {
			t.Errorf("%s: no result", p.name)
		}
	}
	pasvPeer := peers[5]
	if !strings.HasPrefix(pasvPeer.name, "PASV") || !slices.Contains(pasvPeer.f.commands(), "PASV") {
		t.Errorf("%s: the scanner never sent PASV (%q), so the test shows nothing", pasvPeer.name, pasvPeer.f.commands())
	}
	if n := followed.Load(); n != 0 {
		t.Errorf("the scanner made %d connections to the address a PASV reply named", n)
	}

	// Every renderer: nothing a server sent may come out as a terminal
	// escape (ESC, BEL, a C1 control such as CSI U+009B, raw or encoded
	// as UTF-8) or as invalid UTF-8.
	rep := report.Report{Tool: "port21 scan", Started: time.Unix(0, 0).UTC(), Finished: time.Unix(1, 0).UTC(), Results: results}
	for _, f := range report.Formats() {
		var b bytes.Buffer
		if err := report.Write(&b, f, rep, report.Options{}); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out := b.String()
		if !utf8.ValidString(out) {
			t.Errorf("%s report is not valid UTF-8", f)
		}
		if i := strings.IndexFunc(out, func(r rune) bool { return r == 0x1b || r == 0x07 || r >= 0x80 && r < 0xa0 }); i >= 0 {
			t.Errorf("%s report holds a control character: %q", f, out[max(0, i-40):min(len(out), i+40)])
		}
		// The formats that carry evidence show the banner, escaped (the
		// table and CSV show no evidence).
		if f == report.HTML || f == report.JSON || f == report.SARIF {
			if !strings.Contains(out, "owned") {
				t.Errorf("%s report does not show the escaped banner at all", f)
			}
		}
	}
}
