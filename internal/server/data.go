package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"iter"
	"math"
	"math/rand/v2"
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/port21/port21/internal/audit"
	"github.com/port21/port21/internal/ftp"
)

// Errors of data-connection setup, mapped to replies by dataErrReply.
var (
	errNoReuse     = errors.New("data connection did not resume the control connection's TLS session")
	errDataTLS     = errors.New("data connection TLS handshake failed")
	errDataTimeout = errors.New("no data connection arrived in time")
	errPassiveBusy = errors.New("too many passive ports open")
)

// dataPlan is how the next transfer gets its data connection: a passive
// listener already accepting, or an address to connect to (active mode).
type dataPlan struct {
	active netip.AddrPort // active mode target; invalid in passive mode

	ln      net.Listener   // passive mode
	release func()         // passive: gives back the address's passive slot
	ready   chan dataReady // passive under TLS: the accepted, secured connection
	wanted  chan struct{}  // passive under TLS: closed when a transfer asks for the connection
	noReuse atomic.Bool    // passive: a handshake completed without resuming
	unused  *time.Timer    // passive in clear: closes the listener if no transfer asks for it in time
	taken   atomic.Bool    // passive: openData received from ready
	lnOnce  sync.Once
	want    sync.Once
	once    sync.Once

	// Decided when the plan is made: the accept goroutine secures the
	// connection as soon as it arrives, before the transfer command.
	protect       bool
	reuseOptional bool

	wg *sync.WaitGroup // the server's: tracks the goroutines of the plan
}

type dataReady struct {
	dc  *dataConn
	err error
}

// close stops a passive listener and discards a connection accepted for a
// transfer that never came. Safe on nil and more than once.
func (p *dataPlan) close() {
	if p == nil {
		return
	}
	p.once.Do(func() {
		if p.ln == nil {
			return
		}
		if p.unused != nil {
			p.unused.Stop()
		}
		p.closeListener()
		if p.taken.Load() || p.ready == nil {
			return // openData received the one connection acceptData delivers, or accepts itself
		}
		p.wg.Go(func() {
			if r := <-p.ready; r.dc != nil {
				r.dc.abort()
			}
		})
	})
}

func (p *dataPlan) closeListener() {
	p.lnOnce.Do(func() {
		p.ln.Close()
		p.release()
	})
}

// wantConn tells the accept loop that the transfer command has come, so the
// client is about to connect if it has not yet.
func (p *dataPlan) wantConn() { p.want.Do(func() { close(p.wanted) }) }

// dataConn is an open data connection.
type dataConn struct {
	raw *net.TCPConn
	tls *tls.Conn  // nil when the data travels in clear
	fin *stallConn // under tls: deadlines, and did the peer close TCP without close_notify
}

// conn is what transfers read and write: the TLS layer, or the bare TCP
// connection so that io.Copy can use sendfile and splice.
func (d *dataConn) conn() io.ReadWriter {
	if d.tls != nil {
		return d.tls
	}
	return d.raw
}

func (d *dataConn) setDeadline(t time.Time) { d.raw.SetDeadline(t) }

// finishSend ends a download: TLS close_notify (clients such as FileZilla
// warn without it) and a half-close, then a short wait for the client's own
// close, so the client has all the data before the 226 reply.
func (d *dataConn) finishSend() error {
	var err error
	if d.tls != nil {
		d.fin.freeze()
		d.raw.SetDeadline(time.Now().Add(5 * time.Second))
		err = d.tls.CloseWrite()
		d.raw.SetReadDeadline(time.Now().Add(2 * time.Second))
		io.Copy(io.Discard, io.LimitReader(d.tls, 64<<10))
	} else {
		err = d.raw.CloseWrite()
	}
	d.raw.Close()
	return err
}

// finishReceive ends an upload, answering the client's close_notify with
// ours (Python's ftplib waits for it).
func (d *dataConn) finishReceive() {
	if d.tls != nil {
		d.fin.freeze()
		d.raw.SetDeadline(time.Now().Add(2 * time.Second))
		d.tls.Close()
	}
	d.raw.Close()
}

// abort drops the connection at once.
func (d *dataConn) abort() {
	d.raw.SetLinger(0)
	d.raw.Close()
}

// stallConn sits under crypto/tls on a data connection. It notes a TCP FIN:
// crypto/tls reports a FIN at a record boundary as a clean io.EOF, exactly
// like a close_notify alert, so an attacker who can inject a FIN could cut
// an upload short and it would look complete; after a close_notify
// crypto/tls stops reading, so a FIN seen here means the peer never sent
// one. It also pushes the deadline forward as data moves, so that a slow
// transfer lives and only a stalled one times out.
type stallConn struct {
	net.Conn
	tcp     *net.TCPConn
	timeout time.Duration
	fin     atomic.Bool
	next    atomic.Int64 // unix nanoseconds after which to refresh the deadline
	quick   int          // reads left on which to ask for quick ACKs; one goroutine reads

	// During a download crypto/tls writes every 16 KiB record with a
	// system call of its own, and on loopback each one also wakes the
	// client; batch collects them into writes of up to limit bytes. nil
	// when not batching; one goroutine writes.
	batch []byte
	limit int
}

// A TLS record on the wire is at most 16 KiB of data and 256 bytes of
// header, padding and tag. Batches start at two records and grow to eight:
// larger ones saved no more CPU and held the client back (1 MiB batches
// were 10% slower on loopback).
const (
	maxRecord = 16<<10 + 256
	minBatch  = 2 * maxRecord
	maxBatch  = 8 * maxRecord
)

// startBatch makes writes collect in buf (of maxBatch bytes) until
// endBatch.
func (w *stallConn) startBatch(buf []byte) {
	w.batch, w.limit = buf[:0], minBatch
}

// endBatch writes what the batch holds and stops batching.
func (w *stallConn) endBatch() error {
	err := w.flush()
	w.batch = nil
	return err
}

// flush writes the batch. Its size adapts as clear-text chunks do (see
// minChunk): it doubles while writes go fast and halves when one is slow,
// so that a slow client still moves a batch within every data-timeout.
func (w *stallConn) flush() error {
	if len(w.batch) == 0 {
		return nil
	}
	w.refresh()
	start := time.Now()
	_, err := w.Conn.Write(w.batch)
	switch took := time.Since(start); {
	case took < w.timeout/8:
		w.limit = min(2*w.limit, cap(w.batch))
	case took > w.timeout/2:
		w.limit = max(w.limit/2, minBatch)
	}
	w.batch = w.batch[:0]
	return err
}

// quickReads is how many reads of a data connection ask for quick ACKs: the
// handshake and a small file's whole life, never the bulk of a large one.
const quickReads = 32

func (w *stallConn) refresh() {
	now := time.Now()
	if now.UnixNano() < w.next.Load() {
		return
	}
	// Refreshing at most once a second (or a quarter of the time-out)
	// keeps timers off the hot path.
	w.next.Store(now.Add(min(time.Second, w.timeout/4)).UnixNano())
	w.Conn.SetDeadline(now.Add(w.timeout))
}

// freeze stops the refreshing, so that a deadline set for closing holds.
func (w *stallConn) freeze() { w.next.Store(math.MaxInt64) }

// thaw starts it again: the next read or write sets the stall deadline.
func (w *stallConn) thaw() { w.next.Store(0) }

func (w *stallConn) Read(b []byte) (int, error) {
	w.refresh()
	if w.quick > 0 {
		w.quick--
		quickAck(w.tcp)
	}
	n, err := w.Conn.Read(b)
	if errors.Is(err, io.EOF) {
		w.fin.Store(true)
	}
	return n, err
}

func (w *stallConn) Write(b []byte) (int, error) {
	if w.batch != nil {
		if len(w.batch)+len(b) > w.limit {
			if err := w.flush(); err != nil {
				return 0, err
			}
		}
		if len(b) <= w.limit {
			w.batch = append(w.batch, b...)
			return len(b), nil
		}
	}
	w.refresh()
	return w.Conn.Write(b)
}

// plan returns the data plan of the session's current settings.
func (s *session) newPlan() *dataPlan {
	return &dataPlan{
		protect:       s.tlsOn && s.prot == 'P',
		reuseOptional: s.user != nil && s.user.TLSReuseOptional,
		wg:            &s.srv.wg,
	}
}

// listenPassive opens a passive listener on the control connection's local
// address, on a random free port of the configured range. Each session holds
// at most one (a new PASV closes the last), and each client address (IPv6:
// its /64) at most max-passive-per-ip, so that a few clients cannot hold the
// whole range while other users wait.
func (s *session) listenPassive() (*dataPlan, error) {
	release, reason, ok := s.srv.passiveSlots.Acquire(s.remote.Addr())
	if !ok {
		return nil, fmt.Errorf("%w: %s", errPassiveBusy, reason)
	}
	pr := s.srv.conf().Passive
	lc := net.ListenConfig{KeepAlive: noKeepAlive}
	var lastErr error
	for port := range passiveCandidates(pr.Low, pr.Len()) {
		ln, err := lc.Listen(context.Background(), "tcp", netip.AddrPortFrom(s.local.Addr(), port).String())
		if err != nil {
			lastErr = err
			if errors.Is(err, syscall.EADDRINUSE) {
				continue
			}
			release()
			return nil, err
		}
		p := s.newPlan()
		p.ln = ln
		p.release = release
		if p.protect {
			p.ready = make(chan dataReady, 1)
			p.wanted = make(chan struct{})
			s.srv.wg.Go(func() { s.acceptData(p) })
		} else {
			// A timer, not a goroutine: the port is free again after
			// data-timeout if no transfer comes, as under TLS.
			p.unused = time.AfterFunc(s.srv.conf().DataTimeout.Duration, p.closeListener)
		}
		return p, nil
	}
	release()
	return nil, fmt.Errorf("no free passive port in %s: %w", pr, lastErr)
}

// noKeepAlive turns TCP keep-alive off on data connections. Go enables it
// on every accepted and dialled connection, at four setsockopt calls each,
// which a small file pays for nothing: data-timeout already ends a data
// connection that stalls, long before the first keep-alive probe.
const noKeepAlive = -1

// passiveRandomTries is how many ports of the range listenPassive picks at
// random before it sweeps the whole range.
const passiveRandomTries = 16

// passiveCandidates yields the ports of the range of n ports from low in
// the order listenPassive tries them: a few at random, which finds a free
// one at once unless the range is nearly full, then every port once, from
// a random start, so that the last free port of a nearly full range is
// still found (random tries alone missed it about a third of the time on a
// four-port range with one left). A bind that fails costs a system call,
// so even a sweep of all 65,535 ports is cheap next to a TLS handshake.
func passiveCandidates(low uint16, n int) iter.Seq[uint16] {
	return func(yield func(uint16) bool) {
		for range min(n, passiveRandomTries) {
			if !yield(low + uint16(rand.IntN(n))) {
				return
			}
		}
		start := rand.IntN(n)
		for k := range n {
			if !yield(low + uint16((start+k)%n)) {
				return
			}
		}
	}
}

// maxDataHandshakes bounds the TLS handshakes that run at once on one
// passive listener (and so per session, which has one listener at a time):
// connections from the client's own address are all handshaken, since only
// the handshake tells the client's from another, but they cannot be allowed
// to take every file descriptor.
const maxDataHandshakes = 8

// dataHandshakeTimeout is the absolute limit on a data connection's TLS
// handshake (data-timeout, if shorter): a peer that trickles bytes cannot
// hold one open by keeping it busy.
const dataHandshakeTimeout = 10 * time.Second

// dataRetryGrace is how long a passive listener stays open for another
// connection once the transfer has been asked for and every connection so
// far has failed: long enough for the client's own to arrive after a probe
// that got there first, short enough that a client that cannot resume
// (ftplib without the subclass) learns why at once.
const dataRetryGrace = 2 * time.Second

// acceptData waits for the client's data connection. Connections from any
// address but the control connection's are refused (and logged) and the
// wait goes on, so another host cannot steal or block the transfer. The
// TLS handshake starts at once: many clients connect before they send the
// transfer command.
//
// Under TLS, every connection from the client's address is handshaken side
// by side, at most maxDataHandshakes at once (a newer one pushes out the
// oldest, which had its chance), each within dataHandshakeTimeout. One that
// fails its handshake (a port probe, a scanner, garbage) or completes it
// without resuming this session's ticket (a probe, ftplib without
// resumption, or an attempt to take the transfer) is refused, and the wait
// goes on: the connection is taken by the first that resumes. The wait ends
// at data-timeout or, once the transfer command has come and nothing is
// still handshaking, dataRetryGrace after the last failure, with the most
// telling reason, so a client that cannot resume still learns why.
func (s *session) acceptData(p *dataPlan) {
	tl := p.ln.(*net.TCPListener)
	tl.SetDeadline(time.Now().Add(s.srv.conf().DataTimeout.Duration))
	conns := make(chan *net.TCPConn)
	acceptErr := make(chan error, 1)
	stop := make(chan struct{})
	s.srv.wg.Go(func() {
		for {
			c, err := s.acceptOwn(tl)
			if err != nil {
				acceptErr <- err
				return
			}
			select {
			case conns <- c:
			case <-stop:
				c.Close()
				return
			}
		}
	})

	type result struct {
		c   *net.TCPConn
		dc  *dataConn
		err error
	}
	results := make(chan result)
	running := 0               // handshake goroutines that have not reported
	var queue []*net.TCPConn   // handshakes in arrival order, oldest first
	wanted := p.wanted         // nil once the transfer has asked
	var grace <-chan time.Time // running when wanted, idle and failed
	var failed error           // why the last refused connection was refused
	accepting := true
	deliver := func(r dataReady) {
		close(stop)
		p.closeListener()
		for _, c := range queue {
			c.Close() // their handshakes fail and are drained below
		}
		if n := running; n > 0 {
			s.srv.wg.Go(func() {
				for ; n > 0; n-- {
					if r := <-results; r.dc != nil {
						r.dc.abort()
					}
				}
			})
		}
		p.ready <- r
	}
	for {
		if wanted == nil && len(queue) == 0 && failed != nil && grace == nil && accepting {
			grace = time.After(dataRetryGrace)
		}
		select {
		case c := <-conns:
			if len(queue) >= maxDataHandshakes {
				s.emit(audit.Refused{Stage: audit.StageData, Reason: "superseded", Detail: "handshake from " + addrPort(queue[0].RemoteAddr()).String() + " pushed out by a newer connection"})
				queue[0].SetLinger(0)
				queue[0].Close() // its handshake fails and reports below
				queue = queue[1:]
			}
			queue = append(queue, c)
			running++
			grace = nil
			s.srv.wg.Go(func() {
				dc, err := s.secure(c, p)
				results <- result{c, dc, err}
			})
		case r := <-results:
			running--
			queue = slices.DeleteFunc(queue, func(c *net.TCPConn) bool { return c == r.c })
			if r.err == nil {
				deliver(dataReady{dc: r.dc})
				return
			}
			if errors.Is(r.err, errNoReuse) { // secure logged it
				p.noReuse.Store(true)
			} else {
				s.emit(audit.Refused{Stage: audit.StageData, Reason: "handshake", Detail: r.err.Error()})
			}
			if failed == nil || !errors.Is(failed, errNoReuse) || errors.Is(r.err, errNoReuse) {
				failed = r.err // a completed handshake without reuse says most
			}
			if !accepting && len(queue) == 0 {
				deliver(dataReady{err: failed})
				return
			}
		case <-wanted:
			wanted = nil
		case <-grace:
			deliver(dataReady{err: failed})
			return
		case err := <-acceptErr:
			accepting = false
			conns = nil
			if errors.Is(err, net.ErrClosed) { // the plan was dropped
				deliver(dataReady{err: net.ErrClosed})
				return
			}
			if failed == nil {
				failed = errDataTimeout
			}
			if len(queue) == 0 {
				deliver(dataReady{err: failed})
				return
			}
			// The deadline passed during handshakes: their outcome decides.
		}
	}
}

// acceptClear accepts a passive data connection in clear, in the
// transfer's goroutine once the transfer asks for it: the first connection
// from the client's address is the data connection, and one that came
// earlier waits in the listener's backlog meanwhile. A mirror of small files
// opens one data connection per file, and an accepting goroutine per PASV
// (and the wake-up between it and the transfer) cost more than the accept.
// A listener that no transfer asks for within data-timeout of PASV is
// closed (p.unused), which frees its port and the address's passive slot;
// once a transfer asks, the wait for the connection gets data-timeout anew.
// ctx's end (ABOR, QUIT, the session's end) closes the listener.
func (s *session) acceptClear(ctx context.Context, p *dataPlan) (*dataConn, error) {
	if !p.unused.Stop() {
		p.closeListener() // it fired, or is firing: too late
		return nil, errDataTimeout
	}
	defer p.closeListener()
	tl := p.ln.(*net.TCPListener)
	tl.SetDeadline(time.Now().Add(s.srv.conf().DataTimeout.Duration))
	stop := context.AfterFunc(ctx, p.closeListener)
	defer stop()
	c, err := s.acceptOwn(tl)
	switch {
	case err == nil:
		return &dataConn{raw: c}, nil
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case errors.Is(err, net.ErrClosed):
		return nil, err
	default: // the deadline passed
		return nil, errDataTimeout
	}
}

// acceptOwn accepts the next connection from the client's own address;
// any other address is refused (reset) and logged.
func (s *session) acceptOwn(tl *net.TCPListener) (*net.TCPConn, error) {
	for {
		c, err := tl.AcceptTCP()
		if err != nil {
			return nil, err
		}
		if from := addrPort(c.RemoteAddr()); from.Addr() != s.remote.Addr() {
			s.emit(audit.Refused{Stage: audit.StageData, Reason: "foreign-address", Detail: "from " + from.String()})
			c.SetLinger(0)
			c.Close()
			continue
		}
		return c, nil
	}
}

// secure wraps a fresh data connection in TLS when the plan asks for it and
// enforces the session binding: the handshake must resume a ticket issued
// to this control session (or a sibling's, see dataTLSConfig).
func (s *session) secure(c *net.TCPConn, p *dataPlan) (*dataConn, error) {
	dc := &dataConn{raw: c}
	quickAck(c)
	if !p.protect {
		return dc, nil
	}
	dc.fin = &stallConn{Conn: c, tcp: c, timeout: s.srv.conf().DataTimeout.Duration, quick: quickReads}
	dc.tls = tls.Server(dc.fin, s.dataTLSConfig())
	// An absolute deadline: the stall timer, which data pushes forward,
	// starts only after the handshake.
	dc.fin.freeze()
	c.SetDeadline(time.Now().Add(min(dataHandshakeTimeout, s.srv.conf().DataTimeout.Duration)))
	err := dc.tls.Handshake()
	if err != nil {
		dc.abort()
		return nil, fmt.Errorf("%w: %v", errDataTLS, err)
	}
	st := dc.tls.ConnectionState()
	if !st.DidResume && !p.reuseOptional {
		s.emit(audit.Refused{Stage: audit.StageData, Reason: "not-resumed", Detail: "the data connection's TLS session is not the control connection's"})
		dc.tls.Close()
		return nil, errNoReuse
	}
	s.emit(audit.TLS{Channel: audit.ChannelData, Version: tls.VersionName(st.Version), Cipher: tls.CipherSuiteName(st.CipherSuite),
		ALPN: st.NegotiatedProtocol, Resumed: st.DidResume})
	dc.fin.thaw()
	return dc, nil
}

// openData returns the plan's data connection: the accepted one in passive
// mode, or a new connection to the client in active mode.
func (s *session) openData(ctx context.Context, p *dataPlan) (*dataConn, error) {
	if p.ln != nil && !p.protect {
		return s.acceptClear(ctx, p)
	}
	if p.ln != nil {
		p.wantConn()
		select {
		case r := <-p.ready:
			p.taken.Store(true)
			return r.dc, r.err
		case <-ctx.Done():
			if p.noReuse.Load() {
				return nil, fmt.Errorf("%w (then the session ended)", errNoReuse)
			}
			return nil, ctx.Err()
		}
	}
	d := net.Dialer{
		LocalAddr: net.TCPAddrFromAddrPort(netip.AddrPortFrom(s.local.Addr(), 0)),
		Timeout:   s.srv.conf().DataTimeout.Duration,
		KeepAlive: noKeepAlive,
	}
	c, err := d.DialContext(ctx, "tcp", p.active.String())
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", p.active, err)
	}
	return s.secure(c.(*net.TCPConn), p)
}

// dataErrReply turns a data-connection failure into the reply the client sees.
func dataErrReply(err error) (int, string) {
	switch {
	case errors.Is(err, errNoReuse):
		return ftp.CodeBadNetworkProtocol, "Data connection refused: it must resume the TLS session of this control connection " +
			"(TLS session reuse), so that no one else can take over the transfer. If your client cannot (Python's ftplib), " +
			"an administrator can allow it for your account: port21 user mod NAME --tls-reuse-optional"
	case errors.Is(err, errDataTLS):
		return ftp.CodeCantOpenData, "Data connection TLS handshake failed."
	case errors.Is(err, errDataTimeout):
		return ftp.CodeCantOpenData, "No data connection arrived in time."
	default:
		return ftp.CodeCantOpenData, "Cannot open data connection."
	}
}

// dataPolicy checks, before a transfer, that the session may open a data
// connection at all; it replies and returns false when not.
func (s *session) dataPolicy() bool {
	switch {
	case s.data == nil:
		s.reply(ftp.CodeCantOpenData, "Use PASV, EPSV, PORT or EPRT first.")
		return false
	case s.tlsOn && s.prot != 'P' && !s.user.AllowCleartext:
		s.data.close()
		s.data = nil
		s.reply(ftp.CodeDataProtectionRefused, "Data connections must be protected: send PBSZ 0 and PROT P.")
		return false
	case s.data.protect != (s.tlsOn && s.prot == 'P'):
		s.data.close()
		s.data = nil
		s.reply(ftp.CodeCantOpenData, "PROT changed after the data connection was set up; send PASV or EPSV again.")
		return false
	}
	return true
}

func (s *session) setPlan(p *dataPlan) {
	s.data.close()
	s.data = p
}

func (s *session) cmdPASV(string) bool {
	if s.epsvAll {
		s.reply(ftp.CodeBadSequence, "EPSV ALL is in effect; use EPSV.")
		return true
	}
	// The client's network picks the address (passive-host, else
	// public-host, else the address it reached us on).
	announce := s.local.Addr()
	if a := s.srv.conf().PassiveAddr(s.remote.Addr()); a.IsValid() {
		announce = a
	}
	if !announce.Is4() {
		s.reply(ftp.CodeParamSyntaxError, "PASV is IPv4 only; use EPSV.")
		return true
	}
	if port, ok := s.passive(); ok {
		s.reply(ftp.CodeEnteringPassive, "%s", ftp.FormatPASV(netip.AddrPortFrom(announce, port)))
	}
	return true
}

func (s *session) cmdEPSV(arg string) bool {
	proto, all, err := ftp.ParseEPSVArg(arg)
	if err != nil {
		s.reply(ftp.CodeParamSyntaxError, "Bad EPSV argument.")
		return true
	}
	if all {
		s.epsvAll = true
		s.reply(ftp.CodeOK, "EPSV ALL ok.")
		return true
	}
	if mine := netProto(s.local.Addr()); proto != 0 && proto != mine {
		s.reply(ftp.CodeBadNetworkProtocol, "Network protocol not supported, use (%d)", mine)
		return true
	}
	if port, ok := s.passive(); ok {
		s.reply(ftp.CodeEnteringEPSV, "%s", ftp.FormatEPSV(port))
	}
	return true
}

// passive opens a passive listener for the next transfer and returns its
// port; it replies itself on failure.
func (s *session) passive() (uint16, bool) {
	s.setPlan(nil) // the old listener's slot counts against the new one
	p, err := s.listenPassive()
	if errors.Is(err, errPassiveBusy) {
		s.emit(audit.Refused{Stage: audit.StageData, Reason: "passive-limit", Detail: err.Error()})
		s.reply(ftp.CodeCantOpenData, "Too many passive ports are open from your address; finish a transfer first.")
		return 0, false
	}
	if err != nil {
		s.log.Error("passive listen failed", "err", err)
		s.reply(ftp.CodeCantOpenData, "Cannot open a passive port.")
		return 0, false
	}
	s.setPlan(p)
	return uint16(p.ln.Addr().(*net.TCPAddr).Port), true
}

func netProto(a netip.Addr) int {
	if a.Is4() {
		return 1
	}
	return 2
}

func (s *session) cmdPORT(arg string) bool {
	ap, err := ftp.ParsePORT(arg)
	if err != nil {
		s.reply(ftp.CodeParamSyntaxError, "Bad PORT argument.")
		return true
	}
	return s.active(ap)
}

func (s *session) cmdEPRT(arg string) bool {
	ap, err := ftp.ParseEPRT(arg)
	switch {
	case errors.Is(err, ftp.ErrUnsupportedProtocol):
		// RFC 2428 section 2: an unknown protocol gets 522 and the ones we speak.
		s.reply(ftp.CodeBadNetworkProtocol, "Network protocol not supported, use (%d)", netProto(s.remote.Addr()))
		return true
	case err != nil:
		s.reply(ftp.CodeParamSyntaxError, "Bad EPRT argument.")
		return true
	}
	if netProto(ap.Addr()) != netProto(s.remote.Addr()) {
		s.reply(ftp.CodeBadNetworkProtocol, "Network protocol not supported, use (%d)", netProto(s.remote.Addr()))
		return true
	}
	return s.active(ap)
}

// active accepts an active-mode target only on the client's own address
// and an unprivileged port: anything else would let a client use the
// server to connect to third parties (the FTP bounce attack, CERT CA-1997-27).
func (s *session) active(ap netip.AddrPort) bool {
	if ap.Addr().IsUnspecified() {
		// "EPRT |2|::|port|" (lftp on IPv6 loopback) means "my address":
		// the client's own address is the only one it may name anyway.
		ap = netip.AddrPortFrom(s.remote.Addr(), ap.Port())
	}
	switch {
	case !s.srv.conf().ActiveMode:
		s.reply(ftp.CodeNotImplemented, "Active mode (PORT/EPRT) is disabled on this server; use PASV or EPSV.")
	case s.epsvAll:
		s.reply(ftp.CodeBadSequence, "EPSV ALL is in effect; use EPSV.")
	case ap.Addr().Unmap() != s.remote.Addr():
		s.emit(audit.Refused{Stage: audit.StageData, Reason: "bounce", Detail: "PORT to " + ap.String()})
		s.reply(ftp.CodeParamSyntaxError, "PORT refused: the data connection must go to your own address (%s).", s.remote.Addr())
	case ap.Port() < 1024:
		s.emit(audit.Refused{Stage: audit.StageData, Reason: "privileged-port", Detail: "PORT to " + ap.String()})
		s.reply(ftp.CodeParamSyntaxError, "PORT refused: ports below 1024 are not allowed.")
	default:
		p := s.newPlan()
		p.active = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
		s.setPlan(p)
		s.reply(ftp.CodeOK, "PORT command successful. Consider using EPSV.")
	}
	return true
}
