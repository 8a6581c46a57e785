package scan

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"io"
	"maps"
	"net"
	"slices"
	"strings"
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
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	cert := testCert(t, key, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
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
// costs a few banner waits, not the whole default time-out.
func TestSilentPortBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the banner time-outs")
	}
	t.Parallel()
	ap := startFake(t, &fake{raw: func(c net.Conn) { io.Copy(io.Discard, c) }})
	s := newTestScanner(t, func(o *Options) { o.Timeout = DefaultTimeout })
	start := time.Now()
	r := auditOne(t, s, ap)
	if el := time.Since(start); el > 15*time.Second {
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
	ap := startFake(t, &fake{raw: func(c net.Conn) {
		io.WriteString(c, "220 (vsFTPd 3.0.3)\r\n")
		io.Copy(io.Discard, c) // never answers FEAT
	}})
	s := newTestScanner(t, func(o *Options) { o.Timeout = 20 * time.Second })
	for i := range 6 {
		ctx, cancel := context.WithCancel(context.Background())
		var got []Result
		time.AfterFunc(200*time.Millisecond, cancel)
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
