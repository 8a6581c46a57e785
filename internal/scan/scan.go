// Package scan is the engine of `port21 scan`: it probes many host:port
// targets at a bounded concurrency and connection rate, recognises FTP and
// implicit FTPS on any port from what the service says, fingerprints the
// product, runs the safe checks (and the intrusive ones when asked) and hands
// each audited service back as a Result with its findings.
//
// Every byte a target sends is hostile input: replies are read through
// ftp.Reader with caps on line length, lines per reply and bytes per
// connection, and every target has a deadline, so a server that never stops
// talking, or never starts, costs one worker slot for at most the time-out.
// The scanner opens connections only to the target's own address: a PASV
// reply naming another address is reported, never followed.
package scan

import (
	"context"
	"crypto/x509"
	"fmt"
	"iter"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/port21/port21/internal/fdlimit"
	"github.com/port21/port21/internal/finding"
	"github.com/port21/port21/internal/scan/cve"
	"github.com/port21/port21/internal/scan/targets"
)

// Defaults for Options.
const (
	DefaultConcurrency = 100
	DefaultTimeout     = 30 * time.Second
	// DefaultConnectTimeout is long enough for a TCP handshake across the
	// world several times over.
	DefaultConnectTimeout = 5 * time.Second
)

// Options configures a Scanner. The zero value of each field is a usable
// default.
type Options struct {
	// Concurrency is how many targets are audited at once.
	Concurrency int
	// Rate caps how many new TCP connections per second the scanner opens,
	// sweep and audits together; 0 or less means no cap: the sweep's pace
	// is then set by how fast answers come back (see window).
	Rate float64
	// Timeout bounds the whole audit of one target, every connection and
	// probe included.
	Timeout time.Duration
	// ConnectTimeout bounds each TCP connection attempt, so that a filtered
	// port (no answer at all) costs this, not the whole Timeout; 0 means
	// DefaultConnectTimeout, and it is never more than Timeout.
	ConnectTimeout time.Duration
	// Intrusive enables checks that change the target or guess passwords:
	// anonymous-write (stores and deletes a small file) and
	// default-credentials. Without it, nothing is written and no password
	// but the anonymous convention is sent.
	Intrusive bool
	// TLSSuites enumerates every cipher suite the service accepts per
	// protocol version (a handshake per suite, on a connection each), for
	// Service.TLSSuites and the evidence of the TLS findings.
	TLSSuites bool
	// DialContext opens TCP connections; nil means a net.Dialer.
	DialContext func(ctx context.Context, network, address string) (net.Conn, error)
	// LookupNetIP resolves host names; nil means net.DefaultResolver.
	LookupNetIP func(ctx context.Context, network, host string) ([]netip.Addr, error)
	// Roots are the CAs a certificate must chain to; nil means the system's.
	Roots *x509.CertPool
	// Now is the clock for certificate validity; nil means time.Now.
	Now func() time.Time
	// CVE is the vulnerability dataset; nil means the embedded one.
	CVE *cve.DB
}

// Result is one audited target: finding.Result, the type port21 local and
// every report format share, so the command converts nothing. Its Status
// says how far the audit got; Error why it stopped, with the findings made
// before kept.
type Result = finding.Result

// Stats counts a scan's progress. Its fields are read and written
// atomically, so a progress display may read them while the scan runs.
type Stats struct {
	Total atomic.Uint64 // targets to scan, when known
	Done  atomic.Uint64 // targets finished
	// Swept counts targets whose first connection was answered or failed:
	// the discovery phase. Open counts those that accepted it, Audited
	// those whose audit then ended: the audit phase.
	Swept    atomic.Uint64
	Open     atomic.Uint64
	Audited  atomic.Uint64
	FTP      atomic.Uint64 // targets recognised as FTP or FTPS
	Findings atomic.Uint64
}

// Scanner audits targets. It is safe for concurrent use, though one Run at
// a time is the normal use.
type Scanner struct {
	opts    Options
	limiter *rate.Limiter
	dial    func(ctx context.Context, network, address string) (net.Conn, error)
	lookup  func(ctx context.Context, network, host string) ([]netip.Addr, error)
	now     func() time.Time
	db      *cve.DB
}

// New returns a Scanner for opts, with defaults filled in.
func New(opts Options) (*Scanner, error) {
	if opts.Concurrency <= 0 {
		opts.Concurrency = DefaultConcurrency
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.ConnectTimeout <= 0 {
		opts.ConnectTimeout = DefaultConnectTimeout
	}
	opts.ConnectTimeout = min(opts.ConnectTimeout, opts.Timeout)
	s := &Scanner{opts: opts, dial: opts.DialContext, lookup: opts.LookupNetIP, now: opts.Now, db: opts.CVE}
	if opts.Rate > 0 {
		s.limiter = rate.NewLimiter(rate.Limit(opts.Rate), max(1, int(opts.Rate/10)))
	} else {
		s.limiter = rate.NewLimiter(rate.Inf, 0)
	}
	if s.dial == nil {
		d := &net.Dialer{}
		s.dial = d.DialContext
	}
	if s.lookup == nil {
		s.lookup = net.DefaultResolver.LookupNetIP
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.db == nil {
		db, err := cve.Load()
		if err != nil {
			return nil, fmt.Errorf("scan: %w", err)
		}
		s.db = db
	}
	return s, nil
}

// Run sweeps every target from ts with one TCP connection each, at the pace
// the answers set (see window), and audits those that accepted it, at most
// Concurrency at once, calling emit for each audited target and each that
// could not be resolved, as it finishes. Closed and unreachable ports
// produce no Result; stats counts them. emit is called from one goroutine
// at a time; an error from it stops the scan and is returned. Run returns
// ctx.Err() if ctx is cancelled, after the targets in flight have been
// emitted with StatusInterrupted.
func (s *Scanner) Run(ctx context.Context, ts iter.Seq[targets.Target], stats *Stats, emit func(Result) error) error {
	if stats == nil {
		stats = &Stats{}
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	// Open targets wait here for an audit slot; the sweep blocks when it
	// is full, so memory stays bounded whatever the number of targets.
	open := make(chan targets.Target, max(4*s.opts.Concurrency, 1024))
	results := make(chan Result)
	w := newWindow(s.sweepMax(), s.opts.ConnectTimeout)
	var sweeps sync.WaitGroup
	go func() {
		defer close(open)
		defer sweeps.Wait()
		for t := range ts {
			if w.acquire(ctx) != nil {
				return
			}
			sweeps.Go(func() {
				rctx, rcancel := context.WithTimeout(ctx, s.opts.Timeout)
				t, r, err := s.resolve(rctx, t)
				rcancel()
				if err != nil {
					w.release(unknown, 0)
					stats.Swept.Add(1)
					stats.Done.Add(1)
					if ctx.Err() == nil {
						results <- r
					}
					return
				}
				err = s.probe(ctx, w, netip.AddrPortFrom(t.Addr.Unmap(), t.Port).String())
				stats.Swept.Add(1)
				if err != nil {
					stats.Done.Add(1)
					return
				}
				stats.Open.Add(1)
				select {
				case open <- t:
				case <-ctx.Done():
					stats.Done.Add(1)
				}
			})
		}
	}()
	var wg sync.WaitGroup
	for range s.opts.Concurrency {
		wg.Go(func() {
			for t := range open {
				r, ok := s.Audit(ctx, t)
				if r.Service != nil {
					stats.FTP.Add(1)
				}
				stats.Audited.Add(1)
				stats.Findings.Add(uint64(len(r.Findings)))
				stats.Done.Add(1)
				if !ok {
					continue
				}
				// Sent even after ^C: the target in flight is reported as
				// interrupted, with what was found so far. The reader
				// drains results until they are closed.
				results <- r
			}
		})
	}
	go func() {
		wg.Wait()
		sweeps.Wait()
		close(results)
	}()
	var emitErr error
	for r := range results {
		if emitErr != nil {
			continue
		}
		if err := emit(r); err != nil {
			emitErr = err
			cancel(err)
		}
	}
	if emitErr != nil {
		return emitErr
	}
	return ctx.Err()
}

// sweepMax is the most connection attempts the sweep keeps in flight: what
// the file descriptor limit leaves after every audit's connections.
func (s *Scanner) sweepMax() int {
	free := fdlimit.Limit() - fdlimit.Reserve - 4*s.opts.Concurrency
	return max(sweepMin, min(sweepMax, free/2))
}
