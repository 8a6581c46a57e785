package scan

import (
	"context"
	"crypto/tls"
	"maps"
	"net"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/port21/port21/internal/finding"
)

// TestAnonymousLoginBesideOtherProbes checks that a server holding back its
// answer to the anonymous login (vsftpd waits about 3 s before refusing an
// anonymous PASS) does not hold back the rest of the audit: the TLS probes
// must arrive while the PASS is still unanswered. The server here answers
// the PASS only once it has seen three AUTH TLS on other connections, or
// after 5 s; run in line, as before, no AUTH TLS could come first. The
// findings must be those of an audit whose probes all ran.
func TestAnonymousLoginBesideOtherProbes(t *testing.T) {
	cert := validCert(t)
	replies := maps.Clone(vsftpdPlain)
	delete(replies, "AUTH") // the fake then does AUTH TLS itself
	besides := make(chan bool, 1)
	f := &fake{
		banner:  "220 (vsFTPd 3.0.3)\r\n",
		replies: replies,
		tls:     &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS10},
	}
	f.hold = map[string]func(){"PASS": func() {
		until := time.Now().Add(5 * time.Second)
		for time.Now().Before(until) {
			if count(f.commands(), "AUTH TLS") >= 3 {
				besides <- true
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		besides <- false
	}}
	ap := startFake(t, f)
	r := auditOne(t, newTestScanner(t, func(o *Options) { o.Timeout = 20 * time.Second }), ap)
	select {
	case ok := <-besides:
		if !ok {
			t.Error("no TLS probe came while the anonymous PASS was unanswered: the login held back the audit")
		}
	default:
		t.Error("the scanner never sent the anonymous PASS")
	}
	if r.Status != finding.StatusSuccess || r.Error != "" {
		t.Errorf("status %q, error %q", r.Status, r.Error)
	}
	got := ids(r)
	for _, want := range []string{finding.IDCleartextLogin, finding.IDTLSLegacyProtocol, finding.IDTLSCertUntrusted} {
		if !slices.Contains(got, want) {
			t.Errorf("findings %q lack %s", got, want)
		}
	}
	if slices.Contains(got, finding.IDAnonymousLogin) {
		t.Errorf("findings %q: anonymous login reported, but it was refused", got)
	}
}

// TestAnonymousLoginOverTLSBeside checks the other half of the track: an
// anonymous login refused in clear for want of TLS is tried again over TLS,
// and what the session then finds (anonymous access, a world-writable
// directory, clear data connections after PROT C) reaches the result.
func TestAnonymousLoginOverTLSBeside(t *testing.T) {
	cert := validCert(t)
	replies := with(vsftpdPlain, "USER anonymous", "530 Anonymous sessions must use encryption.\r\n")
	delete(replies, "AUTH")
	f := &fake{
		banner:  "220 (vsFTPd 3.0.3)\r\n",
		replies: replies,
		tlsReplies: map[string]string{
			"USER anonymous": "331 Please specify the password.\r\n",
			"PASS":           "230 Login successful.\r\n",
			"PBSZ":           "200 PBSZ set to 0.\r\n",
			"PROT":           "200 PROT now Clear.\r\n",
			"PORT":           "500 Illegal PORT command.\r\n",
			"PASV":           "227 Entering Passive Mode (127,0,0,1,4,1).\r\n",
			"EPSV":           "data",
			"LIST":           "data",
		},
		tls:     &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		listing: "drwxrwxrwx    2 0        0            4096 Jan 01 12:00 incoming\r\n",
	}
	ap := startFake(t, f)
	r := auditOne(t, newTestScanner(t, func(o *Options) { o.Timeout = 20 * time.Second }), ap)
	if r.Status != finding.StatusSuccess || r.Error != "" {
		t.Errorf("status %q, error %q", r.Status, r.Error)
	}
	got := ids(r)
	for _, want := range []string{finding.IDAnonymousLogin, finding.IDAnonymousWrite, finding.IDDataCleartext} {
		if !slices.Contains(got, want) {
			t.Errorf("findings %q lack %s", got, want)
		}
	}
	if slices.Contains(got, finding.IDFTPBounce) {
		t.Errorf("findings %q: bounce reported, but PORT was refused", got)
	}
}

func count(lines []string, s string) int {
	n := 0
	for _, l := range lines {
		if l == s {
			n++
		}
	}
	return n
}

// TestAnonymousTrackOneConnectionServer checks a service that takes one
// connection per address, whose refusal of the spare comes only after the
// anonymous track was handed it. The cleartext probe's USER is answered
// after 2 s, so the track's retries all meet 421 and it gives up; the
// logins must then run in line, and the audit end complete, with the
// findings of a service without the limit.
func TestAnonymousTrackOneConnectionServer(t *testing.T) {
	cert := validCert(t)
	replies := maps.Clone(vsftpdPlain)
	delete(replies, "AUTH")
	audit := func(maxConns int) Result {
		f := &fake{
			banner:   "220 (vsFTPd 3.0.3)\r\n",
			replies:  replies,
			tls:      &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS10},
			maxConns: maxConns,
			hold:     map[string]func(){"USER": func() { time.Sleep(2 * time.Second) }},
		}
		ap := startFake(t, f)
		var d net.Dialer
		var dials atomic.Int32
		s := newTestScanner(t, func(o *Options) {
			o.Timeout = 20 * time.Second
			o.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
				if dials.Add(1) == 2 {
					// The spare: late, so it is still pending when the
					// anonymous track takes it.
					time.Sleep(50 * time.Millisecond)
				}
				return d.DialContext(ctx, network, addr)
			}
		})
		return auditOne(t, s, ap)
	}
	free, one := audit(0), audit(1)
	for _, r := range []Result{free, one} {
		if r.Status != finding.StatusSuccess || r.Error != "" {
			t.Errorf("status %q, error %q", r.Status, r.Error)
		}
	}
	if !slices.Equal(ids(free), ids(one)) {
		t.Errorf("one connection per address: findings %q, with no limit %q", ids(one), ids(free))
	}
}
