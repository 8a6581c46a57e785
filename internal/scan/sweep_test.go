package scan

import (
	"context"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/port21/port21/internal/scan/targets"
)

// TestWindowGrowsWithAnswers: every answer widens the window, up to its
// cap, and silence among answers does not narrow it.
// wanRTT is the round trip of the window tests: a network far enough away
// that the window is bounded by its cap, not by the round trip.
const wanRTT = 200 * time.Millisecond

func TestWindowGrowsWithAnswers(t *testing.T) {
	w := newWindow(300, 5*time.Second)
	for range 100 {
		w.inflight++
		w.release(answer, wanRTT)
	}
	if w.size != 300 {
		t.Fatalf("window after 100 answers = %d, want its cap 300", w.size)
	}
	// A network where one port in three is filtered, steadily.
	for i := range 3 * sweepSample {
		w.inflight++
		if i%3 == 0 {
			w.release(silence, 0)
		} else {
			w.release(answer, wanRTT)
		}
	}
	if w.size != 300 {
		t.Fatalf("window with steady filtering = %d, want 300: a filtered port says nothing about the network", w.size)
	}
}

// TestWindowHalvesWhenAnswersStop: answers falling to under half of what
// they were (a rate-limiting firewall) halve the window once per fall, and
// answers that stop altogether bring it down to sweepMin.
func TestWindowHalvesWhenAnswersStop(t *testing.T) {
	w := newWindow(sweepMax, 5*time.Second)
	for range sweepSample {
		w.inflight++
		w.release(answer, wanRTT)
	}
	before := w.size
	// From every attempt answered to two in five, steadily.
	for i := range 4 * sweepSample {
		w.inflight++
		if i%5 < 2 {
			w.release(answer, wanRTT)
		} else {
			w.release(silence, 0)
		}
	}
	grown := 4 * sweepSample * 2 / 5
	if w.size >= before+grown-before/4 || w.size <= 2*sweepMin {
		t.Fatalf("window after a fall to 40%% answers = %d (was %d, +%d answers since), want halved, not collapsed", w.size, before, grown)
	}
	for range 4 * sweepSample {
		w.inflight++
		w.release(silence, 0)
	}
	if w.size != sweepMin {
		t.Fatalf("window after answers stopped = %d, want %d", w.size, sweepMin)
	}
}

// TestWindowNothingAnswers: a fully filtered range keeps the starting
// window and the configured connect time-out, since no answer ever
// measured the network.
// TestWindowFitsTheRoundTrip: where answers come back in microseconds
// (loopback, a LAN), a large window would not sweep faster, only keep
// goroutines runnable beside the audits, so it stays at sweepMin; a slower
// network gets what its round trip needs for sweepRate.
func TestWindowFitsTheRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		rtt  time.Duration
		want int
	}{
		{100 * time.Microsecond, sweepMin},
		{10 * time.Millisecond, 10 * sweepRate / 1000},
		{200 * time.Millisecond, sweepMax},
	} {
		w := newWindow(sweepMax, 5*time.Second)
		for range 4 * sweepMax {
			w.inflight++
			w.release(answer, tc.rtt)
		}
		// rttvar decays towards zero with a steady round trip, so the
		// window settles just above rtt x sweepRate.
		if w.size < tc.want || w.size > tc.want+tc.want/10+1 {
			t.Errorf("round trip %v: window %d, want about %d", tc.rtt, w.size, tc.want)
		}
	}
}

func TestWindowNothingAnswers(t *testing.T) {
	w := newWindow(sweepMax, 5*time.Second)
	for range 4 * sweepSample {
		w.inflight++
		w.release(silence, 0)
	}
	if w.size != sweepStart {
		t.Fatalf("window = %d, want the start %d", w.size, sweepStart)
	}
	if got := w.timeout(); got != 5*time.Second {
		t.Fatalf("timeout = %v, want the configured 5s", got)
	}
}

// TestWindowTimeoutFollowsRTT: after rttSamples answers the connect
// time-out follows the round trip, within its floor and ceiling.
func TestWindowTimeoutFollowsRTT(t *testing.T) {
	for _, tc := range []struct {
		rtt, ceiling, lo, hi time.Duration
	}{
		{time.Millisecond, 5 * time.Second, minAdaptiveTimeout, minAdaptiveTimeout}, // loopback: the floor
		{2 * time.Second, 5 * time.Second, 5 * time.Second, 5 * time.Second},        // never above the ceiling
		{time.Second, 30 * time.Second, 3 * time.Second, 9 * time.Second},           // three round trips and their deviation
	} {
		w := newWindow(sweepMax, tc.ceiling)
		for range rttSamples - 1 {
			w.inflight++
			w.release(answer, tc.rtt)
		}
		if got := w.timeout(); got != tc.ceiling {
			t.Errorf("rtt %v: timeout before %d answers = %v, want the ceiling %v", tc.rtt, rttSamples, got, tc.ceiling)
		}
		w.inflight++
		w.release(answer, tc.rtt)
		if got := w.timeout(); got < tc.lo || got > tc.hi {
			t.Errorf("rtt %v ceiling %v: timeout %v, want within [%v, %v]", tc.rtt, tc.ceiling, got, tc.lo, tc.hi)
		}
	}
}

// TestWindowAcquireHonoursContext: a full window blocks acquire until a
// release, or until the context ends.
func TestWindowAcquireHonoursContext(t *testing.T) {
	w := newWindow(sweepMin, time.Second)
	w.size = 1
	if err := w.acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := w.acquire(ctx); err == nil {
		t.Fatal("acquire on a full window succeeded")
	}
	go w.release(unknown, 0)
	if err := w.acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestRunSweepsThenAuditsOnlyOpen: a range of closed loopback ports with
// one FTP service among them is swept in full, and only the service is
// audited and reported.
func TestRunSweepsThenAuditsOnlyOpen(t *testing.T) {
	open := startFake(t, &fake{banner: "220 (vsFTPd 3.0.3)\r\n", replies: vsftpdPlain})
	var ts []targets.Target
	for i := range 1000 {
		// 127.0.3.0/24 and on: nothing listens there on this port.
		a := netip.AddrFrom4([4]byte{127, 0, byte(3 + i/250), byte(1 + i%250)})
		ts = append(ts, targets.Target{Host: a.String(), Addr: a, Port: open.Port()})
	}
	ts = append(ts[:500], append([]targets.Target{{Host: open.Addr().String(), Addr: open.Addr(), Port: open.Port()}}, ts[500:]...)...)
	var stats Stats
	var got []Result
	if err := newTestScanner(t, nil).Run(context.Background(), slices.Values(ts), &stats, func(r Result) error {
		got = append(got, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if stats.Swept.Load() != 1001 || stats.Open.Load() != 1 || stats.Audited.Load() != 1 || stats.Done.Load() != 1001 {
		t.Errorf("stats: swept %d open %d audited %d done %d, want 1001 1 1 1001",
			stats.Swept.Load(), stats.Open.Load(), stats.Audited.Load(), stats.Done.Load())
	}
	if len(got) != 1 || got[0].Target.Address != open.Addr().String() || got[0].Service == nil {
		t.Fatalf("results %+v, want the one FTP service", got)
	}
}
