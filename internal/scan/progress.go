package scan

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// Progress draws a one-line progress bar for a running scan: targets done
// of the total, the rate, FTP services and findings so far, and the time
// left. It redraws the line in place with a carriage return, so it belongs
// on a terminal only; the caller decides that (port21 scan draws it on
// standard error when that is a terminal).
type Progress struct {
	w     io.Writer
	stats *Stats
	start time.Time
	now   func() time.Time
	stop  chan struct{}
	done  sync.WaitGroup
	width int
}

// StartProgress draws the bar on w every interval until Stop.
func StartProgress(w io.Writer, stats *Stats, interval time.Duration) *Progress {
	p := &Progress{w: w, stats: stats, start: time.Now(), now: time.Now, stop: make(chan struct{})}
	p.done.Go(func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				p.draw()
			case <-p.stop:
				return
			}
		}
	})
	return p
}

// Stop erases the bar and stops drawing it.
func (p *Progress) Stop() {
	close(p.stop)
	p.done.Wait()
	if p.width > 0 {
		fmt.Fprintf(p.w, "\r%s\r", strings.Repeat(" ", p.width))
	}
}

func (p *Progress) draw() {
	line := p.Line(p.now())
	pad := max(0, p.width-len(line))
	p.width = len(line)
	fmt.Fprintf(p.w, "\r%s%s", line, strings.Repeat(" ", pad))
}

// Line renders the bar as of now, in two phases: while connections to
// targets are still being tried, the discovery count (targets swept of the
// total, how many answered, at what rate); once every target was tried,
// the audits of those that answered. Audits run while the sweep goes on,
// so the first phase shows their count too.
func (p *Progress) Line(now time.Time) string {
	total, swept := p.stats.Total.Load(), p.stats.Swept.Load()
	open, audited := p.stats.Open.Load(), p.stats.Audited.Load()
	elapsed := now.Sub(p.start)
	rate := 0.0
	if s := elapsed.Seconds(); s > 0 {
		rate = float64(swept) / s
	}
	var b strings.Builder
	switch {
	case total == 0:
		fmt.Fprintf(&b, "discovery %d swept, %d open  %.0f/s  audits %d/%d", swept, open, rate, audited, open)
	case swept < total:
		b.WriteString("discovery ")
		bar(&b, swept, total)
		fmt.Fprintf(&b, "  %.0f/s  open %d  audits %d/%d", rate, open, audited, open)
		if rate > 0 {
			left := time.Duration(float64(total-swept) / rate * float64(time.Second)).Round(time.Second)
			fmt.Fprintf(&b, "  ETA %v", left)
		}
	default:
		b.WriteString("audits ")
		bar(&b, audited, open)
	}
	fmt.Fprintf(&b, "  ftp %d  findings %d", p.stats.FTP.Load(), p.stats.Findings.Load())
	return b.String()
}

// bar writes "[====    ] done/total  pct%".
func bar(b *strings.Builder, done, total uint64) {
	const width = 24
	frac := 1.0
	if total > 0 {
		frac = min(1, float64(done)/float64(total))
	}
	fill := int(frac * width)
	fmt.Fprintf(b, "[%s%s] %d/%d %5.1f%%", strings.Repeat("=", fill), strings.Repeat(" ", width-fill), done, total, frac*100)
}
