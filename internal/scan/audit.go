package scan

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/port21/port21/internal/finding"
	"github.com/port21/port21/internal/ftp"
	"github.com/port21/port21/internal/scan/fingerprint"
	"github.com/port21/port21/internal/scan/targets"
)

// anonPassword is sent with USER anonymous: by convention an e-mail
// address, never a secret.
const anonPassword = "port21-scan@example.com"

// bounceTarget is the third-party address of the ftp-bounce probe: a
// documentation address (RFC 5737) that routes nowhere, so even a server that
// acts on the PORT command reaches no one. Only the reply code is read.
var bounceTarget = netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 51, 100, 1}), 1025)

// ErrNotFTP reports a service that answered, but not like an FTP server.
var ErrNotFTP = errors.New("scan: not an FTP service")

// smtpGreeting matches the 220 greetings of mail servers, the other common
// protocol whose greeting is "220 ...".
var smtpGreeting = regexp.MustCompile(`(?i)\b(?:e?smtp|postfix|exim|sendmail|mail ?service)\b`)

// bounceTarget6 is the IPv6 counterpart of bounceTarget, from the
// documentation prefix 2001:db8::/32 (RFC 3849).
var bounceTarget6 = netip.AddrPortFrom(netip.MustParseAddr("2001:db8::1"), 1025)

// audit is the state of one target's audit.
type audit struct {
	s        *Scanner
	ctx      context.Context
	host     string // as given, for certificate name checks
	addr     netip.AddrPort
	target   finding.Target
	res      *Result
	svc      finding.Service
	obs      fingerprint.Observation
	fp       fingerprint.Result
	implicit bool
	// anonymous is set when an anonymous login succeeded.
	anonymous bool
	// anonNeedsTLS is set when plain anonymous login was refused for want of
	// TLS, so it is worth trying again after AUTH TLS.
	anonNeedsTLS bool
	// noData is set when a passive data connection could not be made.
	noData bool
	// ctl is the current control connection; nil after it was dropped.
	ctl *conn
	// spare is the next plain control connection, opened ahead of need;
	// noSpare is set once the service refused one.
	spare   *spare
	noSpare bool
	// anon is the anonymous logins running beside the other probes
	// (anonprobe.go); nil when none runs.
	anon *anonTrack
	// slowGreeter is set when the first greeting took longer than
	// spareAfter: every new connection will wait as long.
	slowGreeter bool
	// failed are the probes that failed without ending the audit.
	failed []error
	// o is what the probes saw, for the checks.
	o Observation
}

// Audit probes one target. The bool is false when the port did not accept
// a connection (closed, filtered, unreachable): Run reports no Result for
// it, though the Result says which (StatusClosed or StatusTimeout). A target
// whose audit the scan's ctx interrupted is reported, with
// StatusInterrupted and the findings made so far.
func (s *Scanner) Audit(ctx context.Context, t targets.Target) (Result, bool) {
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	t, res, err := s.resolve(ctx, t)
	if err != nil {
		if parent.Err() != nil {
			res.Status = finding.StatusInterrupted
		}
		return res, true
	}
	addr := t.Addr.Unmap()
	res.Target.Address = addr.String()
	a := &audit{s: s, ctx: ctx, host: t.Host, addr: netip.AddrPortFrom(addr, t.Port), target: res.Target, res: &res}
	a.o = Observation{Host: t.Host, Addr: a.addr, Now: s.now(), Roots: s.opts.Roots}
	open, err := a.run()
	if a.anon != nil {
		// run ended early: keep what the logins beside it saw.
		_ = a.joinAnonymous(false)
	}
	a.dropCtl()
	a.closeSpare()
	// Observe, then judge: the probes above only recorded what they saw;
	// the checks decide what it means, with the product finally found.
	a.o.Implicit, a.o.Banner, a.o.Features = a.implicit, a.svc.Banner, a.svc.Features
	a.o.Replies, a.o.Product = a.obs, a.fp
	if len(a.o.Chain) > 0 {
		a.svc.Certificate = certInfo(a.o.Chain[0], len(a.o.Chain))
	} else if a.o.KeyOnly != nil {
		a.svc.Certificate = certInfo(a.o.KeyOnly, 1)
	}
	a.svc.TLSGroups = a.o.Groups
	res.Findings = append(judge(&a.o, res.Target), judgeCVE(&a.o, s.db, res.Target)...)
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) && parent.Err() == nil {
			err = fmt.Errorf("%w (time-out %v)", err, s.opts.Timeout)
		}
		res.Status, res.Error = statusOf(parent, err), err.Error()
		if errors.Is(ctx.Err(), context.DeadlineExceeded) && parent.Err() == nil {
			// The target's time-out closed its connections: whatever
			// error that caused, the cause is the time-out.
			res.Status = finding.StatusTimeout
		}
		if res.Status == finding.StatusInterrupted {
			res.Error = "interrupted: " + res.Error
			open = true
		}
	}
	slices.SortStableFunc(res.Findings, func(x, y finding.Finding) int {
		switch {
		case finding.Less(x, y):
			return -1
		case finding.Less(y, x):
			return 1
		}
		return 0
	})
	return res, open
}

// resolve returns t with its address, looking its host name up when it
// has none. On failure it returns the target's Result with
// StatusResolveError and the error.
func (s *Scanner) resolve(ctx context.Context, t targets.Target) (targets.Target, Result, error) {
	res := Result{Target: finding.Target{Host: t.Host, Port: int(t.Port)}, Status: finding.StatusSuccess}
	if t.Addr.IsValid() {
		return t, res, nil
	}
	addrs, err := s.lookup(ctx, "ip", t.Host)
	if err == nil && len(addrs) == 0 {
		err = errors.New("no addresses")
	}
	if err != nil {
		err = fmt.Errorf("%w %s: %w", errResolve, t.Host, err)
		res.Status, res.Error = finding.StatusResolveError, err.Error()
		return t, res, err
	}
	t.Addr = addrs[0].Unmap()
	return t, res, nil
}

// dial opens a TCP connection to the target, after waiting for the rate
// limiter, with the audit's deadline set on it.
func (a *audit) dial() (net.Conn, error) {
	return a.dialCtx(a.ctx)
}

// dialCtx is dial under ctx, a context derived from the audit's.
func (a *audit) dialCtx(ctx context.Context) (net.Conn, error) {
	if err := a.s.limiter.Wait(ctx); err != nil {
		return nil, err
	}
	cctx, cancel := context.WithTimeout(ctx, a.s.opts.ConnectTimeout)
	defer cancel()
	c, err := a.s.dial(cctx, "tcp", a.addr.String())
	if err != nil {
		return nil, err
	}
	if d, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(d)
	}
	return c, nil
}

// deadline returns the audit's deadline.
func (a *audit) deadline() time.Time {
	d, _ := a.ctx.Deadline()
	return d
}

// bannerWait is how long the scanner waits for a greeting before trying
// implicit TLS, whose servers say nothing until the client's hello.
func (a *audit) bannerWait() time.Duration {
	return min(a.s.opts.Timeout/3, 5*time.Second)
}

// open connects and reads the greeting: plainly, or with a TLS handshake
// first when implicit is set. It returns the connection and the greeting.
func (a *audit) open(implicit bool, cfg *tls.Config) (*conn, ftp.Reply, error) {
	if !implicit {
		if c, r, ok := a.takeSpare(); ok {
			return c, r, nil
		}
	}
	c, r, err := a.openCtx(a.ctx, implicit, cfg)
	// A server that limits connections per address (vsftpd's max_per_ip=1)
	// may still count the one the scanner has just closed: its 421 is worth
	// a few short waits. A ban refuses the first connection too, and greet
	// reports that at once.
	for wait := 100 * time.Millisecond; err != nil && r.Code == ftp.CodeServiceNotAvailable && wait <= 800*time.Millisecond; wait *= 2 {
		if a.anon != nil {
			// The anonymous logins beside this probe may hold the
			// connection the service counts against the scanner.
			a.anon.wait()
		}
		t := time.NewTimer(wait)
		select {
		case <-a.ctx.Done():
			t.Stop()
			return c, r, err
		case <-t.C:
		}
		c, r, err = a.openCtx(a.ctx, implicit, cfg)
	}
	if err == nil && !implicit {
		// No spare was ready (the anonymous logins had it): start the
		// next one beside this connection, if spares are on.
		a.startSpare()
	}
	return c, r, err
}

// openCtx is open under ctx, a context derived from the audit's: cancelling
// it closes the connection.
func (a *audit) openCtx(ctx context.Context, implicit bool, cfg *tls.Config) (*conn, ftp.Reply, error) {
	raw, err := a.dialCtx(ctx)
	if err != nil {
		return nil, ftp.Reply{}, err
	}
	c := newConn(ctx, raw)
	if implicit {
		if err := c.startTLS(cfg); err != nil {
			c.close()
			return nil, ftp.Reply{}, fmt.Errorf("TLS handshake: %w", err)
		}
	}
	r, err := c.reply()
	if err != nil {
		c.close()
		return nil, r, fmt.Errorf("greeting: %w", err)
	}
	if r.Code != ftp.CodeServiceReady {
		c.close()
		return nil, r, fmt.Errorf("greeting: %s", replyText(r))
	}
	return c, r, nil
}

// greet makes the first connection, works out whether the port speaks
// plain FTP, implicit FTPS or neither, and returns the open connection.
//
// A plain FTP server greets at once; an implicit FTPS server says nothing
// until the client's hello; a slow one greets seconds late on every
// connection. So while the first connection waits for its greeting (up to
// bannerWait), a spare connection is opened after spareAfter and an
// implicit FTPS handshake is tried beside it after implicitAfter: a silent
// port costs one banner wait, not a banner wait plus a handshake.
func (a *audit) greet() (c *conn, open bool, err error) {
	raw, err := a.dial()
	if err != nil {
		// Closed, filtered or unreachable: the status says which, and Run
		// reports nothing for it.
		return nil, false, fmt.Errorf("connect: %w", err)
	}
	c = newConn(a.ctx, raw)
	start := time.Now()
	until := start.Add(a.bannerWait())
	_ = raw.SetReadDeadline(until)
	plain := make(chan greeting, 1)
	go func() {
		r, err := c.reply()
		plain <- greeting{r: r, err: err}
	}()
	spareTimer, tlsTimer := time.NewTimer(spareAfter), time.NewTimer(implicitAfter)
	defer spareTimer.Stop()
	defer tlsTimer.Stop()
	var try *implicitTry
	for {
		select {
		case <-spareTimer.C:
			a.startSpare()
			continue
		case <-tlsTimer.C:
			if try == nil {
				try = a.tryImplicit(until)
			}
			continue
		case g := <-plain:
			_ = raw.SetReadDeadline(a.deadline())
			var ne net.Error
			silent := g.err != nil && c.cr.n == maxConnBytes && errors.As(g.err, &ne) && ne.Timeout()
			if !silent {
				try.stop()
				a.slowGreeter = time.Since(start) > spareAfter
				return a.greeted(c, g.r, g.err)
			}
			if try == nil {
				// bannerWait was shorter than implicitAfter.
				try = a.tryImplicit(time.Now().Add(min(handshakeTimeout, time.Until(a.deadline()))))
			}
			t := try.wait()
			if t.err != nil {
				c.close()
				return nil, true, fmt.Errorf("no greeting (%w), and implicit FTPS failed: %v", g.err, t.err)
			}
			c.close()
			return a.greetedImplicit(t.c, t.r)
		case t := <-try.result():
			if t.err != nil {
				try.done = &t
				continue // the plain greeting may still come
			}
			c.close()
			<-plain
			return a.greetedImplicit(t.c, t.r)
		}
	}
}

// spareAfter is how long a first greeting may take before the scanner
// opens the audit's next connection beside it; implicitAfter is how long
// before it tries implicit FTPS.
const (
	spareAfter    = 200 * time.Millisecond
	implicitAfter = time.Second
)

// greeting is a reply read in the background, or its error.
type greeting struct {
	r   ftp.Reply
	err error
}

// implicitTry is an implicit FTPS handshake tried while the plain
// connection waits for a greeting.
type implicitTry struct {
	ch     chan implicitResult
	cancel context.CancelFunc
	done   *implicitResult
}

type implicitResult struct {
	c   *conn
	r   ftp.Reply
	err error
}

// tryImplicit starts an implicit FTPS handshake and greeting, abandoned at
// until.
func (a *audit) tryImplicit(until time.Time) *implicitTry {
	ctx, cancel := context.WithCancel(a.ctx)
	t := &implicitTry{ch: make(chan implicitResult, 1), cancel: cancel}
	go func() {
		timer := time.AfterFunc(time.Until(until), cancel)
		c, r, err := a.openCtx(ctx, true, a.inspectConfig(0, 0, nil))
		if !timer.Stop() && err == nil {
			// It answered just as its time ran out: the connection is
			// already closed.
			c.close()
			err = fmt.Errorf("TLS handshake: %w", context.DeadlineExceeded)
		}
		if err != nil {
			cancel()
		}
		t.ch <- implicitResult{c: c, r: r, err: err}
	}()
	return t
}

// result is the channel the outcome arrives on: nil (never ready) when
// there is no attempt or it already answered.
func (t *implicitTry) result() <-chan implicitResult {
	if t == nil || t.done != nil {
		return nil
	}
	return t.ch
}

// wait returns the attempt's outcome.
func (t *implicitTry) wait() implicitResult {
	if t.done == nil {
		r := <-t.ch
		t.done = &r
	}
	return *t.done
}

// stop abandons the attempt and closes its connection.
func (t *implicitTry) stop() {
	if t == nil {
		return
	}
	t.cancel()
	if r := t.wait(); r.c != nil {
		r.c.close()
	}
}

// greetedImplicit takes the connection of a successful implicit FTPS
// attempt. A spare opened meanwhile is of no use: its greeting needs the
// probe's TLS configuration.
func (a *audit) greetedImplicit(tc *conn, r ftp.Reply) (*conn, bool, error) {
	a.closeSpare()
	a.implicit = true
	a.svc.Banner = message(r)
	a.obs.Banner = message(r)
	a.svc.TLS = "implicit"
	return tc, true, nil
}

// greeted judges the first greeting of a plain connection, or the error
// that came instead.
func (a *audit) greeted(c *conn, r ftp.Reply, err error) (*conn, bool, error) {
	if err != nil {
		silent := c.cr.n == maxConnBytes
		c.close()
		if errors.Is(err, ftp.ErrMalformedReply) {
			return nil, true, fmt.Errorf("%w: %v", ErrNotFTP, err)
		}
		if silent && errors.Is(err, io.EOF) {
			return nil, true, fmt.Errorf("%w: the connection was closed without a greeting (TCP wrappers or a ban)", ErrRefused)
		}
		return nil, true, fmt.Errorf("greeting: %w", err)
	}
	a.svc.Banner = message(r)
	a.obs.Banner = message(r)
	switch {
	case r.Code == ftp.CodeServiceReady && smtpGreeting.MatchString(a.svc.Banner):
		// SMTP greets with 220 too; an SMTP server is not an FTP
		// service to audit, and must not be sent FTP commands.
		c.close()
		a.svc = finding.Service{}
		return nil, true, fmt.Errorf("%w: the greeting is an SMTP server's: %s", ErrNotFTP, replyText(r))
	case r.Code == ftp.CodeServiceReady:
		return c, true, nil
	case r.Code == ftp.CodeServiceNotAvailable:
		// 421 at connect: too many connections, or this address is
		// banned (port21, fail2ban and most daemons say so this way).
		c.close()
		return nil, true, fmt.Errorf("%w: greeting %s (too many connections, or the scanner's address is banned)", ErrRefused, replyText(r))
	case r.Code == ftp.CodeServiceReadyIn:
		c.close()
		return nil, true, fmt.Errorf("%w: service not ready: %s", ErrRefused, replyText(r))
	}
	c.close()
	return nil, true, fmt.Errorf("%w: greeting %s", ErrNotFTP, replyText(r))
}

// run performs the audit and returns whether the port was open. The
// probes run in a fixed order, each on the current control connection or on
// its own; a probe that fails because the server hung up is tried once more
// on a fresh connection, and a probe that still fails is recorded while the
// others go on, so one dropped connection cannot blind the whole audit.
// Only the target's time-out, ^C, or a service that no longer accepts the
// scanner end it early.
func (a *audit) run() (bool, error) {
	c, open, err := a.greet()
	if c == nil {
		return open, err
	}
	a.res.Service = &a.svc
	a.ctl = c
	a.startSpare()
	var tlsState *tls.ConnectionState
	if a.implicit {
		tlsState = c.tls
	}
	if err := a.control("pre-login probes", a.probeInfo); err != nil && a.fatal(err) {
		return true, a.failure(err)
	}
	type probe struct {
		name string
		run  func(*conn) error
	}
	probes := []probe{{"mod_copy probe", a.probeModCopy}}
	if !a.startAnonymous() {
		probes = append(probes, probe{"anonymous login", a.probeAnonymous})
	}
	probes = append(probes, probe{"cleartext-login probe", a.probeCleartext})
	for _, p := range probes {
		if err := a.control(p.name, p.run); err != nil && a.fatal(err) {
			return true, a.failure(err)
		}
	}
	a.dropCtl()
	a.identify()
	a.probeBackdoor()

	// Explicit TLS (or implicit again): the certificate, and what can be
	// done after a login over TLS.
	if !a.implicit {
		st, err := a.explicitTLS()
		if err != nil && a.record(err) {
			return true, a.failure(err)
		}
		tlsState = st
	}
	if tlsState != nil {
		a.certChecks(tlsState)
		if err := a.tlsProtocolChecks(); err != nil && a.record(fmt.Errorf("TLS probes: %w", err)) {
			return true, a.failure(nil)
		}
		if a.s.opts.TLSSuites {
			if err := a.enumerateSuites(); err != nil && a.record(err) {
				return true, a.failure(nil)
			}
			a.svc.TLSSuites = map[string][]string{}
			for _, l := range a.o.Suites {
				a.svc.TLSSuites[l.Version] = l.Suites
			}
		}
	}
	if err := a.joinAnonymous(true); err != nil && a.record(err) {
		return true, a.failure(err)
	}
	if a.s.opts.Intrusive {
		if err := a.defaultCreds(); err != nil && a.record(err) {
			return true, a.failure(nil)
		}
	}
	return true, a.failure(nil)
}

// control runs probe p on the control connection, opening one when the
// last was dropped. When the server hangs up during p (vsftpd with
// force_anon_logins_ssl=YES closes after refusing anonymous), p is tried
// once more on a fresh connection. The error is recorded in the audit's
// failures unless it is fatal.
func (a *audit) control(name string, p func(*conn) error) error {
	var err error
	for attempt := range 2 {
		var c *conn
		if c, err = a.controlConn(); err != nil {
			err = fmt.Errorf("%s: reconnect: %w", name, err)
			break
		}
		if err = p(c); err == nil {
			return nil
		}
		a.dropCtl()
		err = fmt.Errorf("%s: %w", name, err)
		if attempt > 0 || !dropped(err) || a.ctx.Err() != nil {
			break
		}
		slog.Debug("scan: the server hung up; retrying on a new connection", "target", a.addr, "probe", name, "err", err)
	}
	if a.record(err) {
		return err
	}
	return nil
}

// record keeps a probe's failure for the result and reports whether it is
// fatal to the audit.
func (a *audit) record(err error) bool {
	if a.fatal(err) {
		return true
	}
	a.failed = append(a.failed, err)
	return false
}

// fatal reports whether err ends the audit: the time-out or ^C, a service
// that refused the scanner's new connection (a 421 greeting, or a port
// that closed), or a failed reconnection.
func (a *audit) fatal(err error) bool {
	return a.ctx.Err() != nil || errors.Is(err, ErrRefused) || errors.Is(err, errReconnect)
}

// errReconnect marks a control connection that could not be made again.
var errReconnect = errors.New("the service no longer accepts connections")

// failure joins the fatal error, if any, with the probes that failed, or
// returns nil when every probe ran.
func (a *audit) failure(fatal error) error {
	errs := a.failed
	if fatal != nil {
		errs = append(errs, fatal)
	}
	if len(errs) == 0 {
		return nil
	}
	return errors.Join(errs...)
}

// controlConn returns the open control connection, or opens a new one.
func (a *audit) controlConn() (*conn, error) {
	if a.ctl != nil {
		return a.ctl, nil
	}
	c, r, err := a.open(a.implicit, a.inspectConfig(0, 0, nil))
	if err != nil {
		if r.Code == ftp.CodeServiceNotAvailable {
			return nil, fmt.Errorf("%w: %w (too many connections, or the scanner's address is banned)", ErrRefused, err)
		}
		return nil, fmt.Errorf("%w: %w", errReconnect, err)
	}
	a.ctl = c
	return c, nil
}

// dropCtl closes the control connection, so the next probe opens another.
func (a *audit) dropCtl() {
	if a.ctl != nil {
		a.ctl.close()
		a.ctl = nil
	}
}

// probeInfo sends FEAT, SYST, HELP and an unknown command before login, for
// the fingerprint.
func (a *audit) probeInfo(c *conn) error {
	if a.obs.Codes == nil {
		a.obs.Codes = map[string]int{}
	}
	for _, p := range []struct {
		key, cmd string
		dst      *string
	}{
		{"feat", "FEAT", &a.obs.Feat},
		{"syst", "SYST", &a.obs.Syst},
		{"help", "HELP", &a.obs.Help},
		{"unknown", "XPRB", &a.obs.Unknown},
	} {
		if _, done := a.obs.Codes[p.key]; done {
			continue // answered on a connection that dropped later
		}
		r, _, err := c.cmd(p.cmd)
		if err != nil {
			return err
		}
		a.obs.Codes[p.key] = r.Code
		*p.dst = message(r)
		if p.key == "feat" && r.Code == ftp.CodeSystemStatus {
			a.svc.Features = features(r)
		}
	}
	a.fp = fingerprint.Identify(a.obs)
	return nil
}

// probeModCopy checks ProFTPD's mod_copy: SITE CPFR before login answered
// 350 means anyone may copy files. CPTO is never sent, so nothing is copied.
func (a *audit) probeModCopy(c *conn) error {
	if !(a.fp.Product == fingerprint.ProFTPD || a.fp.Product == "" && hasFeature(a.svc.Features, "SITE COPY")) {
		return nil
	}
	r, ev, err := c.cmd("SITE CPFR /")
	if err != nil {
		return err
	}
	a.o.ModCopy = &Exchange{Code: r.Code, Evidence: ev}
	return nil
}

// probeAnonymous tries an anonymous login and, when it works, the checks
// that need a session. A second USER after a USER without PASS is not
// accepted by every server, so the session is closed afterwards.
func (a *audit) probeAnonymous(c *conn) error {
	ok, needTLS, evs, err := a.anonymousLogin(c)
	if err != nil {
		return err
	}
	a.anonNeedsTLS = needTLS
	a.o.Anonymous = Login{Tried: true, OK: ok, NeedTLS: needTLS, Evidence: evs}
	if !ok {
		return nil
	}
	a.anonymous = true
	defer a.dropCtl()
	plainData := !a.implicit
	if a.implicit {
		if plainData, err = a.protCheck(c); err != nil {
			return err
		}
	}
	return a.loggedInChecks(c, plainData)
}

// probeCleartext sends USER with a random name, never a password, before
// TLS: 331 means the server would take a password in clear text.
func (a *audit) probeCleartext(c *conn) error {
	if a.implicit {
		return nil
	}
	r, ev, err := c.cmd("USER " + randomName())
	if errors.Is(err, errClosing) {
		// Refused with 421 and a hang-up: an answer, and not a 331.
		a.dropCtl()
		err = refusal421(err)
	}
	if err != nil {
		return err
	}
	a.obs.Codes["user"] = r.Code
	a.obs.User = message(r)
	a.o.Cleartext = &Exchange{Code: r.Code, Evidence: ev}
	return nil
}

// identify settles the product from everything the control probes saw.
func (a *audit) identify() {
	a.fp = fingerprint.Identify(a.obs)
	a.svc.Product = a.fp.Product
	a.svc.Version = a.fp.Version
	a.svc.VersionRange = a.fp.VersionRange
	a.svc.Confidence = a.fp.Confidence
	a.svc.Clues = nil
	for _, c := range a.fp.Clues {
		a.svc.Clues = append(a.svc.Clues, clean(c, 256))
	}
	if a.fp.BannerOnly && a.fp.Product != "" {
		a.svc.Clues = append(a.svc.Clues, "only the greeting names the product; no other reply matched it")
	}
}

// anonymousLogin tries USER anonymous with the conventional e-mail password.
// needTLS reports a refusal that asks for TLS first.
//
// A 421 refusal (Pure-FTPd with TLS required says "421 Sorry, cleartext
// sessions ... are not accepted" and hangs up) is an answer, not a failure:
// the connection is dropped and the next probe opens another.
func (a *audit) anonymousLogin(c *conn) (ok, needTLS bool, evs []finding.Evidence, err error) {
	r, ev, err := c.cmd("USER anonymous")
	if errors.Is(err, errClosing) {
		a.dropCtl()
		err = refusal421(err)
	}
	if err != nil {
		return false, false, nil, err
	}
	evs = append(evs, ev)
	if r.Code == ftp.CodeNeedPassword {
		r, ev, err = c.cmd("PASS " + anonPassword)
		if errors.Is(err, errClosing) {
			a.dropCtl()
			err = refusal421(err)
		}
		if err != nil {
			return false, false, evs, err
		}
		evs = append(evs, ev)
	}
	if r.Code == ftp.CodeLoggedIn {
		return true, false, evs, nil
	}
	text := strings.ToLower(strings.Join(r.Lines, " "))
	needTLS = r.Code == ftp.CodePolicyRefused || strings.Contains(text, "encrypt") || strings.Contains(text, "tls") ||
		strings.Contains(text, "ssl") || strings.Contains(text, "cleartext") || strings.Contains(text, "clear text")
	return false, needTLS, evs, nil
}

// banWords are what a 421 says when the server stopped serving this
// address (port21, fail2ban-style bans, connection limits), as opposed to a
// refusal of one login (Pure-FTPd's "cleartext sessions ... not accepted").
var banWords = regexp.MustCompile(`(?i)\bban(ned)?\b|too many|blocked|try again later`)

// refusal421 turns a 421 reply to a login into nil, an answer the next
// probe reconnects after, unless it says the scanner is banned or over a
// limit: then the audit stops with ErrRefused, and the status says so.
func refusal421(err error) error {
	if banWords.MatchString(err.Error()) {
		return fmt.Errorf("%w: %v (the server stopped serving the scanner's address: banned, or over a connection limit)", ErrRefused, err)
	}
	return nil
}

// loggedInChecks runs the checks that need a session: the bounce probe, the
// PASV address, the listing's world-writable directories, and with
// --intrusive an anonymous upload. plainData says the data connection would
// be unencrypted, which the listing and the upload need.
func (a *audit) loggedInChecks(c *conn, plainData bool) error {
	bounce := "EPRT " + ftp.FormatEPRT(bounceTarget6)
	if a.addr.Addr().Is4() {
		arg, _ := ftp.FormatPORT(bounceTarget)
		bounce = "PORT " + arg
	}
	r, ev, err := c.cmd(bounce)
	if err != nil {
		return err
	}
	a.o.Bounce = &Exchange{Code: r.Code, Evidence: ev}
	if a.addr.Addr().Is4() {
		r, ev, err = c.cmd("PASV")
		if err != nil {
			return err
		}
		a.o.PASV = &Exchange{Code: r.Code, Evidence: ev}
		if r.Code == ftp.CodeEnteringPassive {
			if ap, perr := ftp.ParsePASVReply(strings.Join(r.Lines, " ")); perr == nil {
				a.o.PASVAddr = ap.Addr()
			}
		}
	}
	if !plainData {
		return nil
	}
	// Like nmap's ftp-anon, read the listing (safe, read-only) for
	// world-writable directories; --intrusive then confirms with an upload.
	entries, err := a.listLogin(c)
	if err != nil {
		return err
	}
	a.o.Listing = entries
	if ftp.HasFeature(a.svc.Features, "MLST") || ftp.HasFeature(a.svc.Features, "MLSD") {
		if a.o.MLSDWritable, err = a.listMLSD(c); err != nil {
			return err
		}
	}
	if a.s.opts.Intrusive {
		return a.anonymousWrite(c, entries)
	}
	return nil
}

// passivePort asks for a passive data port with EPSV, then PASV, and returns
// only the port: the address is always the target's own.
func (a *audit) passivePort(c *conn) (uint16, finding.Evidence, error) {
	r, ev, err := c.cmd("EPSV")
	if err != nil {
		return 0, ev, err
	}
	if r.Code == ftp.CodeEnteringEPSV {
		p, perr := ftp.ParseEPSVReply(strings.Join(r.Lines, " "))
		if perr == nil {
			return p, ev, nil
		}
	}
	r, ev, err = c.cmd("PASV")
	if err != nil {
		return 0, ev, err
	}
	if r.Code == ftp.CodeEnteringPassive {
		if ap, perr := ftp.ParsePASVReply(strings.Join(r.Lines, " ")); perr == nil {
			return ap.Port(), ev, nil
		}
	}
	return 0, ev, nil
}

// explicitTLS opens the second connection, asks for AUTH TLS, and inspects
// the handshake. It reports no-tls when the service refuses.
func (a *audit) explicitTLS() (*tls.ConnectionState, error) {
	var captured []byte
	c, auth, err := a.authTLS(&captured)
	if auth != nil {
		a.o.AuthTLS = auth
	}
	if err != nil {
		if der, perr := x509.ParseCertificate(captured); errors.Is(err, ErrTLS) && captured != nil && perr == nil {
			a.o.KeyOnly = der
		}
		return nil, err
	}
	if c == nil {
		return nil, nil
	}
	defer c.close()
	a.svc.TLS = "explicit"
	st := c.tls
	if a.anon != nil {
		return st, nil // the anonymous track logs in over TLS itself
	}
	return st, a.afterTLSLogin(c)
}

// authTLS opens a plain connection, asks for AUTH TLS and completes the
// handshake with the inspecting configuration (captured as for
// inspectConfig). auth is the reply to AUTH TLS; c is nil, with no error,
// when the service refused it. A 421 at connect is ErrRefused.
func (a *audit) authTLS(captured *[]byte) (c *conn, auth *Exchange, err error) {
	c, r, err := a.open(false, nil)
	if err != nil {
		if r.Code == ftp.CodeServiceNotAvailable {
			return nil, nil, fmt.Errorf("%w: explicit TLS connection: %w", ErrRefused, err)
		}
		return nil, nil, fmt.Errorf("explicit TLS connection: %w", err)
	}
	r, ev, err := c.cmd("AUTH TLS")
	if err != nil {
		c.close()
		return nil, nil, err
	}
	auth = &Exchange{Code: r.Code, Evidence: ev}
	if r.Code != ftp.CodeAuthOK {
		c.close()
		return nil, auth, nil
	}
	if err := c.startTLS(a.inspectConfig(0, 0, captured)); err != nil {
		c.close()
		return nil, auth, fmt.Errorf("%w after AUTH TLS: %w", ErrTLS, err)
	}
	return c, auth, nil
}

// afterTLSLogin logs in as anonymous over TLS, when anonymous access exists,
// or when a plain attempt was refused for want of TLS, to see whether PROT C
// is accepted. c is the open explicit-TLS connection. (Implicit FTPS does
// all of this on its first connection.)
func (a *audit) afterTLSLogin(c *conn) error {
	if !a.anonymous && !a.anonNeedsTLS {
		return nil
	}
	ok, _, evs, err := a.anonymousLogin(c)
	if err != nil || !ok {
		return err
	}
	a.o.AnonymousTLS = Login{Tried: true, OK: true, Evidence: evs}
	a.anonymous = true
	plainData, err := a.protCheck(c)
	if err != nil {
		return err
	}
	if a.anonNeedsTLS {
		return a.loggedInChecks(c, plainData)
	}
	return nil
}

// protCheck asks a session logged in over TLS for clear-text data
// connections (PROT C), and reports whether they were granted.
func (a *audit) protCheck(c *conn) (bool, error) {
	if _, _, err := c.cmd("PBSZ 0"); err != nil {
		return false, err
	}
	r, ev, err := c.cmd("PROT C")
	if err != nil {
		return false, err
	}
	a.o.ProtC = &Exchange{Code: r.Code, Evidence: ev}
	return r.Code == ftp.CodeOK, nil
}

// probeBackdoor checks TCP 6200 when the dataset has an entry for the
// product and version found that asks for it (the vsftpd 2.3.4 backdoor).
func (a *audit) probeBackdoor() {
	if a.fp.Product == "" {
		return
	}
	for _, e := range a.s.db.Match(a.fp.Product, a.fp.Version) {
		if e.Probe == "vsftpd-backdoor-port" {
			if note, open := a.backdoorPort(); open {
				a.o.BackdoorPort = note
			}
			return
		}
	}
}

// backdoorPort checks whether TCP 6200 on the target already accepts
// connections: the vsftpd 2.3.4 backdoor's shell listens there once
// triggered. It connects and closes at once, sending nothing, and never
// triggers the backdoor itself.
func (a *audit) backdoorPort() (string, bool) {
	if err := a.s.limiter.Wait(a.ctx); err != nil {
		return "", false
	}
	ctx, cancel := context.WithTimeout(a.ctx, 2*time.Second)
	defer cancel()
	c, err := a.s.dial(ctx, "tcp", netip.AddrPortFrom(a.addr.Addr(), 6200).String())
	if err != nil {
		return "", false
	}
	c.Close()
	return "TCP port 6200 on the target accepts connections: the backdoor's shell may already be open (sign of compromise)", true
}

// features returns the feature lines of a FEAT reply, trimmed and made
// safe to store.
func features(r ftp.Reply) []string {
	out := ftp.ParseFeatures(r, 100)
	for i, f := range out {
		out[i] = strings.TrimSpace(clean(f, 256))
	}
	return out
}

func hasFeature(feats []string, name string) bool { return ftp.HasFeature(feats, name) }

// randomName returns a user or file name no one has: "p21" and 12 hex
// digits from crypto/rand.
func randomName() string {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		// crypto/rand does not fail on supported systems; the pid is a
		// poor but harmless fallback for a probe name.
		return fmt.Sprintf("p21%d", os.Getpid())
	}
	return "p21" + hex.EncodeToString(b[:])
}
