package scan

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
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
}

// Audit probes one target. The bool is false when the port did not accept
// a connection (closed, filtered, unreachable): there is nothing to report.
func (s *Scanner) Audit(ctx context.Context, t targets.Target) (Result, bool) {
	ctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	res := Result{Target: finding.Target{Host: t.Host, Port: int(t.Port)}}
	addr := t.Addr
	if !addr.IsValid() {
		addrs, err := s.lookup(ctx, "ip", t.Host)
		if err == nil && len(addrs) == 0 {
			err = errors.New("no addresses")
		}
		if err != nil {
			res.Err = fmt.Errorf("resolve %s: %w", t.Host, err)
			return res, true
		}
		addr = addrs[0]
	}
	addr = addr.Unmap()
	res.Target.Address = addr.String()
	a := &audit{s: s, ctx: ctx, host: t.Host, addr: netip.AddrPortFrom(addr, t.Port), target: res.Target, res: &res}
	open, err := a.run()
	// Findings made before the product was identified get the
	// configuration lines of the product finally found.
	for i, f := range res.Findings {
		if c, ok := checks[f.ID]; ok {
			res.Findings[i].Fix.Config = configFor(c.config, a.fp.Product)
		}
	}
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			err = fmt.Errorf("%w (time-out %v)", err, s.opts.Timeout)
		}
		res.Err = err
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
	return a.openCtx(a.ctx, implicit, cfg)
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
func (a *audit) greet() (c *conn, open bool, err error) {
	raw, err := a.dial()
	if err != nil {
		return nil, false, nil // closed, filtered or unreachable: nothing to report
	}
	c = newConn(a.ctx, raw)
	_ = raw.SetReadDeadline(time.Now().Add(a.bannerWait()))
	r, err := c.reply()
	_ = raw.SetReadDeadline(a.deadline())
	if err == nil {
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
		case r.Code == ftp.CodeServiceReadyIn || r.Code == ftp.CodeServiceNotAvailable:
			c.close()
			return nil, true, fmt.Errorf("service not ready: %s", replyText(r))
		}
		c.close()
		return nil, true, fmt.Errorf("%w: greeting %s", ErrNotFTP, replyText(r))
	}
	silent := c.cr.n == maxConnBytes
	var ne net.Error
	if !silent || !errors.As(err, &ne) || !ne.Timeout() {
		c.close()
		if errors.Is(err, ftp.ErrMalformedReply) {
			return nil, true, fmt.Errorf("%w: %v", ErrNotFTP, err)
		}
		if silent && errors.Is(err, io.EOF) {
			return nil, true, errors.New("connection closed without a greeting")
		}
		return nil, true, fmt.Errorf("greeting: %w", err)
	}
	// Silent: perhaps implicit FTPS, which waits for the ClientHello. The
	// plain connection stays open meanwhile, because a server doing a slow
	// reverse DNS lookup greets late.
	tc, r, terr := a.open(true, a.inspectConfig(0, 0, nil))
	if terr == nil {
		c.close()
		a.implicit = true
		a.svc.Banner = message(r)
		a.obs.Banner = message(r)
		a.svc.TLS = "implicit"
		return tc, true, nil
	}
	r, err = c.reply()
	if err != nil {
		c.close()
		return nil, true, fmt.Errorf("no greeting (%v), and implicit FTPS failed: %w", err, terr)
	}
	a.svc.Banner = message(r)
	a.obs.Banner = message(r)
	if r.Code != ftp.CodeServiceReady {
		c.close()
		return nil, true, fmt.Errorf("%w: greeting %s", ErrNotFTP, replyText(r))
	}
	return c, true, nil
}

// run performs the audit and returns whether the port was open.
func (a *audit) run() (bool, error) {
	c, open, err := a.greet()
	if c == nil {
		return open, err
	}
	a.res.Service = &a.svc
	var tlsState *tls.ConnectionState
	if a.implicit {
		tlsState = c.tls
	}
	err = a.probeControl(c)
	c.close()
	if err != nil {
		return true, err
	}
	a.cveChecks()

	// Second connection: explicit TLS (or implicit again), the certificate,
	// and what can be done after a login over TLS.
	if !a.implicit {
		st, err := a.explicitTLS()
		if err != nil {
			return true, err
		}
		tlsState = st
	}
	if tlsState != nil {
		a.certChecks(tlsState)
		if err := a.tlsProtocolChecks(); err != nil {
			return true, err
		}
	}
	if a.s.opts.Intrusive {
		if err := a.defaultCreds(); err != nil {
			return true, err
		}
	}
	return true, nil
}

func (a *audit) add(id, basis string, ev ...finding.Evidence) {
	a.res.Findings = append(a.res.Findings, newFinding(id, a.target, a.fp.Product, basis, ev))
}

// probeControl runs the pre-login probes and the anonymous checks on the
// first connection.
func (a *audit) probeControl(c *conn) error {
	banner := finding.Evidence{Received: replyText(ftp.Reply{Code: 220, Lines: strings.Split(a.svc.Banner, "\n")})}
	codes := map[string]int{}
	a.obs.Codes = codes
	for _, p := range []struct {
		key, cmd string
		dst      *string
	}{
		{"feat", "FEAT", &a.obs.Feat},
		{"syst", "SYST", &a.obs.Syst},
		{"help", "HELP", &a.obs.Help},
		{"unknown", "XPRB", &a.obs.Unknown},
	} {
		r, _, err := c.cmd(p.cmd)
		if err != nil {
			return err
		}
		codes[p.key] = r.Code
		*p.dst = message(r)
		if p.key == "feat" && r.Code == ftp.CodeSystemStatus {
			a.svc.Features = features(r)
		}
	}
	a.fp = fingerprint.Identify(a.obs)

	// ProFTPD mod_copy: SITE CPFR before login answered 350 means anyone
	// may copy files. CPTO is never sent, so nothing is copied.
	if a.fp.Product == fingerprint.ProFTPD || a.fp.Product == "" && hasFeature(a.svc.Features, "SITE COPY") {
		r, ev, err := c.cmd("SITE CPFR /")
		if err != nil {
			return err
		}
		if r.Code == ftp.CodePendingMore {
			for _, e := range a.s.db.Probes(fingerprint.ProFTPD) {
				if e.Probe == "proftpd-mod_copy" && (a.fp.Version == "" || e.Affects(a.fp.Version)) {
					a.res.Findings = append(a.res.Findings, cveFinding(e, a.target, basisConfirmed, []finding.Evidence{banner, ev}))
				}
			}
		}
	}

	// Anonymous login first: a second USER after a USER without PASS is
	// not accepted by every server, but a retry after a failed login is.
	ok, needTLS, evs, err := a.anonymousLogin(c)
	if err != nil {
		return err
	}
	a.anonNeedsTLS = needTLS
	if ok {
		a.anonymous = true
		a.add(finding.IDAnonymousLogin, basisConfirmed, evs...)
		plainData := !a.implicit
		if a.implicit {
			if plainData, err = a.protCheck(c); err != nil {
				return err
			}
		}
		if err := a.loggedInChecks(c, plainData); err != nil {
			return err
		}
	}

	if !a.implicit {
		// cleartext-login: a random user name, never a password, on a
		// fresh connection if this one is logged in.
		uc := c
		if ok {
			c.close()
			if uc, _, err = a.open(false, nil); err != nil {
				return fmt.Errorf("cleartext-login probe connection: %w", err)
			}
		}
		r, ev, err := uc.cmd("USER " + randomName())
		if err != nil {
			return err
		}
		codes["user"] = r.Code
		a.obs.User = message(r)
		if r.Code == ftp.CodeNeedPassword || r.Code == ftp.CodeLoggedIn {
			ev.Note = "the server asked for a password on an unencrypted connection; none was sent"
			a.add(finding.IDCleartextLogin, basisConfirmed, ev)
		}
		a.fp = fingerprint.Identify(a.obs)
		if uc != c {
			uc.close()
		}
	}
	a.svc.Product = a.fp.Product
	a.svc.Version = a.fp.Version
	a.svc.Confidence = a.fp.Confidence
	if fingerprint.VersionInBanner(a.fp, a.svc.Banner) {
		a.add(finding.IDVersionDisclosed, basisConfirmed, banner)
	}
	return nil
}

// anonymousLogin tries USER anonymous with the conventional e-mail password.
// needTLS reports a refusal that asks for TLS first.
func (a *audit) anonymousLogin(c *conn) (ok, needTLS bool, evs []finding.Evidence, err error) {
	r, ev, err := c.cmd("USER anonymous")
	if err != nil {
		return false, false, nil, err
	}
	evs = append(evs, ev)
	if r.Code == ftp.CodeNeedPassword {
		r, ev, err = c.cmd("PASS " + anonPassword)
		if err != nil {
			return false, false, evs, err
		}
		evs = append(evs, ev)
	}
	if r.Code == ftp.CodeLoggedIn {
		return true, false, evs, nil
	}
	text := strings.ToLower(strings.Join(r.Lines, " "))
	needTLS = r.Code == ftp.CodePolicyRefused || strings.Contains(text, "encrypt") || strings.Contains(text, "tls") || strings.Contains(text, "ssl")
	return false, needTLS, evs, nil
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
	if r.Code == ftp.CodeOK {
		ev.Note = "an active-mode data address on a third-party documentation address was accepted; no transfer was started"
		a.add(finding.IDFTPBounce, basisConfirmed, ev)
	}
	if a.addr.Addr().Is4() {
		r, ev, err = c.cmd("PASV")
		if err != nil {
			return err
		}
		if r.Code == ftp.CodeEnteringPassive {
			if ap, perr := ftp.ParsePASVReply(strings.Join(r.Lines, " ")); perr == nil && ap.Addr() != a.addr.Addr() && !ap.Addr().IsUnspecified() {
				what := "another address"
				if ap.Addr().IsPrivate() || ap.Addr().IsLoopback() || ap.Addr().IsLinkLocalUnicast() {
					what = "an internal address"
				}
				ev.Note = fmt.Sprintf("the reply names %s, %s, not %s; the scanner did not connect to it", what, ap.Addr(), a.addr.Addr())
				a.add(IDPASVLeak, basisConfirmed, ev)
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
	a.noteWritableDirs(entries)
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
	c, _, err := a.open(false, nil)
	if err != nil {
		return nil, fmt.Errorf("second connection: %w", err)
	}
	defer c.close()
	r, ev, err := c.cmd("AUTH TLS")
	if err != nil {
		return nil, err
	}
	if r.Code != ftp.CodeAuthOK {
		ev.Note = "AUTH TLS was refused: the service offers no encryption"
		a.add(finding.IDNoTLS, basisConfirmed, ev)
		return nil, nil
	}
	var captured []byte
	cfg := a.inspectConfig(0, 0, &captured)
	if err := c.startTLS(cfg); err != nil {
		a.weakKeyFromRaw(captured)
		return nil, fmt.Errorf("TLS handshake after AUTH TLS: %w", err)
	}
	a.svc.TLS = "explicit"
	st := c.tls
	return st, a.afterTLSLogin(c)
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
	if !a.anonymous {
		a.anonymous = true
		a.add(finding.IDAnonymousLogin, basisConfirmed, evs...)
	}
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
	if r.Code != ftp.CodeOK {
		return false, nil
	}
	ev.Note = "after logging in over TLS as anonymous, clear-text data connections were accepted"
	a.add(finding.IDDataCleartext, basisConfirmed, ev)
	return true, nil
}

// cveChecks adds the dataset's entries for the product and version found,
// confirmed by a probe where the entry has one.
func (a *audit) cveChecks() {
	if a.fp.Product == "" {
		return
	}
	have := map[string]bool{}
	for _, f := range a.res.Findings {
		have[f.ID] = true
	}
	banner := finding.Evidence{Received: replyText(ftp.Reply{Code: 220, Lines: strings.Split(a.svc.Banner, "\n")})}
	for _, e := range a.s.db.Match(a.fp.Product, a.fp.Version) {
		if have[e.ID] {
			continue
		}
		if e.Probe == "proftpd-mod_copy" {
			continue // the probe ran and did not confirm it: mod_copy is not loaded
		}
		ev := []finding.Evidence{banner}
		basis := basisVersion
		if e.Probe == "vsftpd-backdoor-port" {
			if note, open := a.backdoorPort(); open {
				basis = basisConfirmed
				ev = append(ev, finding.Evidence{Note: note})
			}
		}
		ev[0].Note = fmt.Sprintf("%s %s identified with confidence %d", a.fp.Product, a.fp.Version, a.fp.Confidence)
		a.res.Findings = append(a.res.Findings, cveFinding(e, a.target, basis, ev))
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

// features returns the feature lines of a FEAT reply, trimmed.
func features(r ftp.Reply) []string {
	if len(r.Lines) < 3 {
		return nil
	}
	var out []string
	for _, l := range r.Lines[1 : len(r.Lines)-1] {
		if l = strings.TrimSpace(clean(l, 256)); l != "" && len(out) < 100 {
			out = append(out, l)
		}
	}
	return out
}

func hasFeature(feats []string, name string) bool {
	for _, f := range feats {
		if strings.EqualFold(f, name) || len(f) > len(name) && strings.EqualFold(f[:len(name)+1], name+" ") {
			return true
		}
	}
	return false
}

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
