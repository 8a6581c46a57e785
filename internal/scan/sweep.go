package scan

import (
	"context"
	"errors"
	"net"
	"sync"
	"syscall"
	"time"
)

// Discovery: Run first tries one TCP connection to every target (the
// sweep) and audits only those that accepted it. The sweep's speed is set by
// what comes back, as nmap's timing and masscan's rate do it: a window of
// connection attempts in flight grows with every answer (accepted or
// refused, both prove the path works) and halves when answers stop coming
// back at the rate they did, the sign of a rate-limiting firewall or a
// congested link. Options.Rate, when set, caps connections per second on
// top of that.
const (
	// sweepStart is the window the sweep opens with: far below what one
	// host can take, far above what a careful scanner starts with.
	sweepStart = 256
	// sweepMin is the smallest the window shrinks to.
	sweepMin = 32
	// sweepMax bounds the window whatever the file descriptor limit.
	sweepMax = 4096
	// sweepSample is how many recent attempts the answer ratio is taken
	// over.
	sweepSample = 128
	// minAdaptiveTimeout lets the kernel's first SYN retransmission (sent
	// after one second) be answered before a port counts as filtered.
	minAdaptiveTimeout = 1500 * time.Millisecond
	// rttSamples is how many answers the connect time-out waits for before
	// it trusts the round-trip estimate.
	rttSamples = 8
	// sweepRate is the most connection attempts per second the window is
	// sized for: by Little's law, attempts in flight = rate x round trip,
	// so a network that answers in 50 ms gets its 2,500 in flight, and
	// loopback or a LAN, which answers in microseconds, gets sweepMin: more
	// would not sweep faster there (the CPU is the limit) but would keep
	// thousands of goroutines runnable and slow the audits beside them.
	sweepRate = 50_000
)

// window is the sweep's congestion control: how many connection attempts
// may be in flight, and how long each may take. It is safe for concurrent
// use.
type window struct {
	mu       sync.Mutex
	cond     *sync.Cond
	size     int // attempts allowed in flight
	max      int
	inflight int
	// recent holds the outcomes of the last attempts (true: answered), a
	// ring of sweepSample; best is the highest answer ratio it has shown.
	recent  [sweepSample]bool
	next, n int
	best    float64
	// srtt and rttvar estimate the connect round trip (RFC 6298); samples
	// counts answers.
	srtt, rttvar time.Duration
	samples      int
	ceiling      time.Duration // the configured connect time-out
}

// newWindow returns a window capped at max attempts in flight, whose
// connect time-out never exceeds ceiling.
func newWindow(max int, ceiling time.Duration) *window {
	w := &window{size: min(sweepStart, max), max: max, ceiling: ceiling}
	w.cond = sync.NewCond(&w.mu)
	return w
}

// acquire waits for room in the window, or for ctx to end.
func (w *window) acquire(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() {
		w.mu.Lock()
		w.cond.Broadcast()
		w.mu.Unlock()
	})
	defer stop()
	w.mu.Lock()
	defer w.mu.Unlock()
	for w.inflight >= w.size {
		if err := ctx.Err(); err != nil {
			return err
		}
		w.cond.Wait()
	}
	w.inflight++
	return nil
}

// outcome is what a sweep attempt learnt about the network.
type outcome int

const (
	unknown outcome = iota // neither answer nor silence: says nothing
	answer                 // accepted or refused: the path works
	silence                // no answer within the time-out
)

// release ends an attempt with what it learnt; rtt is how long an answer
// took.
func (w *window) release(o outcome, rtt time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.inflight--
	w.cond.Broadcast()
	if o == unknown {
		return
	}
	answered := o == answer
	w.recent[w.next] = answered
	w.next = (w.next + 1) % sweepSample
	w.n = min(w.n+1, sweepSample)
	if answered {
		w.sample(rtt)
		w.size = min(w.size+1, w.max, w.needed())
	} else if w.n == sweepSample {
		// A target that stays silent among others that answer is filtered;
		// that alone says nothing about the network. Answers falling to
		// under half of what they were is what congestion looks like.
		ratio := w.ratio()
		w.best = max(w.best, ratio)
		if ratio < w.best/2 {
			w.size = max(w.size/2, sweepMin)
			w.best = ratio // one halving per fall, not one per silent port
		}
	}
}

// needed is the window that sustains sweepRate at the measured round trip
// (with its deviation), once there are enough answers to trust it.
func (w *window) needed() int {
	if w.samples < rttSamples {
		return w.max
	}
	return max(sweepMin, int((w.srtt+4*w.rttvar).Seconds()*sweepRate))
}

// ratio is the share of recent attempts that were answered.
func (w *window) ratio() float64 {
	a := 0
	for _, ok := range w.recent[:w.n] {
		if ok {
			a++
		}
	}
	return float64(a) / float64(w.n)
}

// sample folds an answer's round trip into the estimate, as TCP does.
func (w *window) sample(rtt time.Duration) {
	if w.samples == 0 {
		w.srtt, w.rttvar = rtt, rtt/2
	} else {
		d := w.srtt - rtt
		if d < 0 {
			d = -d
		}
		w.rttvar = (3*w.rttvar + d) / 4
		w.srtt = (7*w.srtt + rtt) / 8
	}
	w.samples++
}

// timeout is how long the next attempt may take: the configured ceiling
// until enough answers came back, then a few round trips (never less than
// minAdaptiveTimeout), so that on a network that answers fast a filtered
// port costs little.
func (w *window) timeout() time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.samples < rttSamples {
		return w.ceiling
	}
	return min(w.ceiling, max(minAdaptiveTimeout, 3*(w.srtt+4*w.rttvar)))
}

// answered reports whether a connection attempt's error still proves the
// target answered: it refused the connection, or the network said it is
// unreachable. A time-out, or a failure on this machine (out of
// descriptors or ports), does not.
func answered(err error) bool {
	if err == nil {
		return true
	}
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH)
}

// localExhaustion reports whether err is this machine running out of
// something a connection needs, which calls for a smaller window, not a
// verdict on the target.
func localExhaustion(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) ||
		errors.Is(err, syscall.EADDRNOTAVAIL) || errors.Is(err, syscall.ENOBUFS)
}

// shrink halves the window after a local failure.
func (w *window) shrink() {
	w.mu.Lock()
	w.size = max(w.size/2, sweepMin)
	w.mu.Unlock()
}

// probe makes the sweep's connection to address and closes it at once: the
// audit connects again, so a service never holds a connection open for an
// audit slot that is not free yet. It returns the dial error.
func (s *Scanner) probe(ctx context.Context, w *window, address string) error {
	if err := s.limiter.Wait(ctx); err != nil {
		return err
	}
	for {
		cctx, cancel := context.WithTimeout(ctx, w.timeout())
		start := time.Now()
		c, err := s.dial(cctx, "tcp", address)
		cancel()
		if err == nil {
			c.Close()
		}
		if localExhaustion(err) && ctx.Err() == nil {
			w.shrink()
			// Others in flight will free what this one lacked.
			select {
			case <-time.After(50 * time.Millisecond):
				continue
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		var ne net.Error
		switch {
		case ctx.Err() != nil:
			w.release(unknown, 0)
		case answered(err):
			w.release(answer, time.Since(start))
		case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
			w.release(silence, 0)
		default:
			w.release(unknown, 0)
		}
		return err
	}
}
