package scan

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestProgressLine(t *testing.T) {
	var st Stats
	st.Total.Store(200)
	st.Done.Store(50)
	st.FTP.Store(3)
	st.Findings.Store(7)
	p := &Progress{stats: &st, start: time.Unix(1000, 0)}
	got := p.Line(time.Unix(1010, 0))
	for _, want := range []string{"[======                  ] 50/200  25.0%", "5/s", "ftp 3", "findings 7", "ETA 30s"} {
		if !strings.Contains(got, want) {
			t.Errorf("Line = %q, want it to contain %q", got, want)
		}
	}
	st.Total.Store(0)
	if got := p.Line(time.Unix(1010, 0)); !strings.HasPrefix(got, "50 done") {
		t.Errorf("Line without a total = %q", got)
	}
}

func TestProgressDrawsAndErases(t *testing.T) {
	var st Stats
	st.Total.Store(1)
	var b bytes.Buffer
	p := StartProgress(&b, &st, 5*time.Millisecond)
	time.Sleep(30 * time.Millisecond)
	p.Stop()
	out := b.String()
	if !strings.Contains(out, "0/1") || !strings.HasSuffix(out, "\r") {
		t.Errorf("progress output %q", out)
	}
}
