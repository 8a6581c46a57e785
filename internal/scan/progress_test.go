package scan

import (
	"bytes"
	"context"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/port21/port21/internal/scan/targets"
)

// TestProgressLine shows both phases: the sweep while targets are still
// being tried, then the audits of those that answered.
func TestProgressLine(t *testing.T) {
	for _, tc := range []struct {
		name                                string
		total, swept, open, audited, ftp, f uint64
		want                                []string
		prefix                              string
	}{
		{"discovery", 200, 50, 4, 1, 1, 7, []string{"[======                  ] 50/200  25.0%", "5/s", "open 4", "audits 1/4", "ftp 1", "findings 7", "ETA 30s"}, "discovery "},
		{"audits", 200, 200, 4, 3, 3, 9, []string{"[==================      ] 3/4  75.0%", "ftp 3", "findings 9"}, "audits "},
		{"audits, none open", 200, 200, 0, 0, 0, 0, []string{"0/0 100.0%"}, "audits "},
		{"no total", 0, 50, 2, 1, 1, 0, []string{"50 swept, 2 open", "audits 1/2"}, "discovery "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var st Stats
			st.Total.Store(tc.total)
			st.Swept.Store(tc.swept)
			st.Open.Store(tc.open)
			st.Audited.Store(tc.audited)
			st.FTP.Store(tc.ftp)
			st.Findings.Store(tc.f)
			p := &Progress{stats: &st, start: time.Unix(1000, 0)}
			got := p.Line(time.Unix(1010, 0))
			if !strings.HasPrefix(got, tc.prefix) {
				t.Errorf("Line = %q, want prefix %q", got, tc.prefix)
			}
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("Line = %q, want it to contain %q", got, w)
				}
			}
		})
	}
}

// TestRunCountsPhases checks that Run fills the counters the two phases
// read: one target that answers, one closed port.
func TestRunCountsPhases(t *testing.T) {
	ap := startFake(t, &fake{banner: "220 Welcome\r\n", replies: vsftpdPlain})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := netip.MustParseAddrPort(ln.Addr().String())
	ln.Close()
	var st Stats
	ts := []targets.Target{{Addr: ap.Addr(), Port: ap.Port()}, {Addr: closed.Addr(), Port: closed.Port()}}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err = newTestScanner(t, nil).Run(ctx, slices.Values(ts), &st, func(Result) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	if st.Swept.Load() != 2 || st.Open.Load() != 1 || st.Audited.Load() != 1 || st.Done.Load() != 2 {
		t.Errorf("swept %d open %d audited %d done %d, want 2 1 1 2", st.Swept.Load(), st.Open.Load(), st.Audited.Load(), st.Done.Load())
	}
}

// drawWriter keeps what the bar writes and closes drawn at the first write.
type drawWriter struct {
	mu    sync.Mutex
	b     bytes.Buffer
	once  sync.Once
	drawn chan struct{}
}

func (w *drawWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	defer w.once.Do(func() { close(w.drawn) })
	return w.b.Write(p)
}

func (w *drawWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

func TestProgressDrawsAndErases(t *testing.T) {
	var st Stats
	st.Total.Store(1)
	w := &drawWriter{drawn: make(chan struct{})}
	p := StartProgress(w, &st, 5*time.Millisecond)
	// Wait for a draw rather than sleeping: a loaded machine may miss ticks.
	select {
	case <-w.drawn:
	case <-time.After(10 * time.Second):
	}
	p.Stop()
	out := w.String()
	if !strings.Contains(out, "0/1") || !strings.HasSuffix(out, "\r") {
		t.Errorf("progress output %q", out)
	}
}
