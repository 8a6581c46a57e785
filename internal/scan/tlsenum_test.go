package scan

import (
	"crypto/tls"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/port21/port21/internal/finding"
)

// TestEnumerateSuites scans a server that accepts exactly a known set of
// suites per version, and checks that the enumeration lists that set, in
// the server's order of preference, and that the weak ones are evidence.
func TestEnumerateSuites(t *testing.T) {
	cert := validCert(t)
	// ECDSA certificate: the ECDHE_ECDSA suites are the ones that can work.
	allowed := []uint16{
		tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
		tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
		tls.TLS_ECDHE_ECDSA_WITH_RC4_128_SHA,
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS12, CipherSuites: allowed}
	ap := startFake(t, &fake{banner: "220 Welcome\r\n", tls: cfg, replies: map[string]string{"USER": "530 no\r\n"}})
	s := newTestScanner(t, func(o *Options) { o.TLSSuites = true; o.Timeout = 20 * time.Second })
	r := auditOne(t, s, ap)
	if r.Error != "" || r.Service == nil {
		t.Fatalf("audit: %q %+v", r.Error, r.Service)
	}
	got := r.Service.TLSSuites
	want12 := []string{"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA"}
	if !slices.Equal(got["TLS 1.2"], want12) {
		t.Errorf("TLS 1.2 suites %q, want %q", got["TLS 1.2"], want12)
	}
	want10 := []string{"TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA"}
	if !slices.Equal(got["TLS 1.0"], want10) {
		t.Errorf("TLS 1.0 suites %q, want %q", got["TLS 1.0"], want10)
	}
	if _, ok := got["TLS 1.3"]; ok {
		t.Errorf("TLS 1.3 listed for a server capped at 1.2: %q", got)
	}
	if !hasNote(r, finding.IDTLSWeakCipher, "TLS 1.2 accepts weak suites: TLS_ECDHE_ECDSA_WITH_RC4_128_SHA") {
		t.Errorf("tls-weak-cipher evidence lacks the enumerated RC4 suite: %+v", r.Findings)
	}
	if !hasNote(r, finding.IDTLSLegacyProtocol, "TLS 1.0 accepts: ") {
		t.Errorf("tls-legacy-protocol evidence lacks the TLS 1.0 list: %+v", r.Findings)
	}
	for v, l := range got {
		if strings.Contains(strings.Join(l, ","), "anon") {
			t.Errorf("%s lists an anonymous suite the server does not have: %q", v, l)
		}
	}
}
