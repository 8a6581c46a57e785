package scan

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"maps"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/port21/port21/internal/finding"
	"github.com/port21/port21/internal/scan/targets"
)

// TestDroppedConnectionDoesNotBlind checks the fix for an audit that a
// single hang-up used to end: vsftpd with force_anon_logins_ssl=YES answers
// USER anonymous with 530 and closes the connection. The scanner must
// reconnect and still run the cleartext-login probe and the TLS checks.
func TestDroppedConnectionDoesNotBlind(t *testing.T) {
	cert := validCert(t)
	replies := maps.Clone(vsftpdPlain)
	replies["USER anonymous"] = "530 Anonymous sessions must use encryption.\r\n"
	delete(replies, "AUTH") // the fake then does AUTH TLS itself
	f := &fake{
		banner:  "220 (vsFTPd 3.0.3)\r\n",
		replies: replies,
		tls:     &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS13},
		hangUp:  map[string]bool{"USER anonymous": true},
	}
	ap := startFake(t, f)
	r := auditOne(t, newTestScanner(t, nil), ap)
	if r.Status != finding.StatusSuccess || r.Error != "" {
		t.Errorf("status %q, error %q: one hang-up ended the audit", r.Status, r.Error)
	}
	got := ids(r)
	for _, want := range []string{finding.IDCleartextLogin, finding.IDTLSLegacyProtocol, finding.IDTLSCertUntrusted} {
		if !slices.Contains(got, want) {
			t.Errorf("findings %q lack %s", got, want)
		}
	}
	if r.Service == nil || r.Service.Product != "vsftpd" || len(r.Service.Clues) == 0 {
		t.Errorf("service %+v, want vsftpd and the clues it rests on", r.Service)
	}
}

// TestDroppedEveryTime checks that a probe that fails on a fresh
// connection too is named in the error, with status protocol-error, while
// the other probes still ran.
func TestDroppedEveryTime(t *testing.T) {
	replies := maps.Clone(vsftpdPlain)
	f := &fake{
		banner:  "220 (vsFTPd 3.0.3)\r\n",
		replies: replies,
		hangUp:  map[string]bool{"SYST": true},
	}
	delete(replies, "SYST")
	// SYST gets no reply at all: the server closes before answering.
	f.replies["SYST"] = ""
	ap := startFake(t, f)
	r := auditOne(t, newTestScanner(t, nil), ap)
	if r.Status != finding.StatusProtocolError {
		t.Errorf("status %q, want protocol-error (error %q)", r.Status, r.Error)
	}
	if !slices.Contains(ids(r), finding.IDNoTLS) {
		t.Errorf("findings %q lack no-tls: the audit stopped at the failed probe", ids(r))
	}
}

// TestSilentPortBounded checks that a port that accepts and never speaks
// costs one banner wait (the implicit FTPS attempt runs beside it), not the
// whole default time-out.
func TestSilentPortBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the banner time-outs")
	}
	t.Parallel()
	ap := startFake(t, &fake{raw: func(c net.Conn) { io.Copy(io.Discard, c) }})
	s := newTestScanner(t, func(o *Options) { o.Timeout = DefaultTimeout })
	start := time.Now()
	r := auditOne(t, s, ap)
	if el := time.Since(start); el > 8*time.Second {
		t.Errorf("a silent port took %v (time-out %v)", el, DefaultTimeout)
	}
	if r.Status != finding.StatusTimeout {
		t.Errorf("status %q, want timeout", r.Status)
	}
}

// TestRefusedLoginWith421 checks that a 421 refusal of USER followed by a
// hang-up (Pure-FTPd with TLS required) is an answer, not a broken audit.
func TestRefusedLoginWith421(t *testing.T) {
	replies := maps.Clone(vsftpdPlain)
	replies["USER"] = "421-Sorry, cleartext sessions and weak ciphers are not accepted on this server.\r\n421 Please reconnect using TLS security mechanisms.\r\n"
	replies["USER anonymous"] = replies["USER"]
	ap := startFake(t, &fake{banner: "220 FTP server ready.\r\n", replies: replies, hangUp: map[string]bool{"USER": true}})
	r := auditOne(t, newTestScanner(t, nil), ap)
	if r.Status != finding.StatusSuccess || r.Error != "" {
		t.Errorf("status %q, error %q", r.Status, r.Error)
	}
	if slices.Contains(ids(r), finding.IDCleartextLogin) || slices.Contains(ids(r), finding.IDAnonymousLogin) {
		t.Errorf("findings %q after every login was refused", ids(r))
	}
}

// TestInterruptedTargetReported checks that ^C in the middle of an audit
// reports the target in flight as interrupted, every time, instead of
// dropping it.
func TestInterruptedTargetReported(t *testing.T) {
	s := newTestScanner(t, func(o *Options) { o.Timeout = 20 * time.Second })
	for i := range 6 {
		// ^C comes once the audit has sent its first command (the sweep's
		// probe sends none), not on a clock that a loaded machine can beat.
		inFlight := make(chan struct{})
		var once sync.Once
		ap := startFake(t, &fake{raw: func(c net.Conn) {
			io.WriteString(c, "220 (vsFTPd 3.0.3)\r\n")
			if _, err := bufio.NewReader(c).ReadString('\n'); err == nil {
				once.Do(func() { close(inFlight) })
			}
			io.Copy(io.Discard, c) // never answers FEAT
		}})
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			select {
			case <-inFlight:
				cancel()
			case <-ctx.Done():
			}
		}()
		var got []Result
		err := s.Run(ctx, slices.Values([]targets.Target{{Host: ap.Addr().String(), Addr: ap.Addr(), Port: ap.Port()}}), nil,
			func(r Result) error { got = append(got, r); return nil })
		cancel()
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("try %d: Run returned %v, want context.Canceled", i, err)
		}
		if len(got) != 1 || got[0].Status != finding.StatusInterrupted || got[0].Service == nil {
			t.Fatalf("try %d: results %+v, want the target in flight as interrupted", i, got)
		}
	}
}

// TestBannedMidAudit checks that a server that bans the scanner during the
// audit (421 to USER, as port21 does after too many failed logins) gives
// status refused, not a clean result.
func TestBannedMidAudit(t *testing.T) {
	replies := maps.Clone(vsftpdPlain)
	replies["USER"] = "421 Too many failed logins from your address; try again later.\r\n"
	replies["USER anonymous"] = replies["USER"]
	ap := startFake(t, &fake{banner: "220 FTP server ready.\r\n", replies: replies, hangUp: map[string]bool{"USER": true}})
	r := auditOne(t, newTestScanner(t, nil), ap)
	if r.Status != finding.StatusRefused || !strings.Contains(r.Error, "banned") {
		t.Errorf("status %q, error %q; want refused, saying the address may be banned", r.Status, r.Error)
	}
}

// TestSpareConnections checks the connection the audit opens ahead of need
// for a slow greeter: the target never sees more than two of the scanner's
// connections at once, and a server that allows only one per address (and
// greets the spare with 421) is audited as fully as one that allows many,
// not reported as refusing the scanner.
func TestSpareConnections(t *testing.T) {
	cert := validCert(t)
	replies := maps.Clone(vsftpdPlain)
	delete(replies, "AUTH") // the fake then does AUTH TLS itself
	// peak is the most control connections the scanner held at once;
	// overlaps counts those it opened while holding another.
	var peak, overlaps int
	audit := func(maxConns int) (Result, *fake) {
		f := &fake{
			banner:   "220 (vsFTPd 3.0.3)\r\n",
			delay:    spareAfter + 100*time.Millisecond, // slow enough for a spare
			replies:  replies,
			tls:      &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
			maxConns: maxConns,
		}
		ap := startFake(t, f)
		var d net.Dialer
		var mu sync.Mutex
		open := 0
		s := newTestScanner(t, func(o *Options) {
			o.Timeout = 20 * time.Second
			o.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
				c, err := d.DialContext(ctx, network, addr)
				if err != nil || addr != ap.String() {
					return c, err // data connections are not counted
				}
				mu.Lock()
				if open > 0 {
					overlaps++
				}
				open++
				peak = max(peak, open)
				mu.Unlock()
				return &closeHook{Conn: c, hook: func() {
					mu.Lock()
					open--
					mu.Unlock()
				}}, nil
			}
		})
		return auditOne(t, s, ap), f
	}
	free, _ := audit(0)
	if peak > 2 {
		t.Errorf("the scanner held %d connections at once", peak)
	}
	if overlaps < 2 {
		t.Errorf("%d connections opened ahead of need for a slow greeter, want a spare for each", overlaps)
	}
	overlaps = 0
	one, _ := audit(1)
	for _, r := range []Result{free, one} {
		if r.Status != finding.StatusSuccess || r.Error != "" {
			t.Errorf("status %q, error %q", r.Status, r.Error)
		}
	}
	if !slices.Equal(ids(free), ids(one)) {
		t.Errorf("one connection per address: findings %q, with no limit %q", ids(one), ids(free))
	}
	if overlaps != 1 {
		t.Errorf("%d connections opened beside another where one per address is allowed: spares go on after the first was refused", overlaps)
	}
}

// closeHook calls hook once, when the connection is first closed.
type closeHook struct {
	net.Conn
	once sync.Once
	hook func()
}

func (c *closeHook) Close() error {
	c.once.Do(c.hook)
	return c.Conn.Close()
}
