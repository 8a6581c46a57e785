package scan

import (
	//lint:ignore SA1019 only to read the size of a DSA key a server presents
	"crypto/dsa"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/port21/port21/internal/finding"
	"github.com/port21/port21/internal/ftp"
)

// The scanner's TLS client is crypto/tls with explicit settings, so it needs
// no GODEBUG: an explicit MinVersion of TLS 1.0 and explicit CipherSuites
// still make crypto/tls offer TLS 1.0/1.1, RC4 and 3DES. It cannot offer
// SSLv3, EXPORT, NULL, anonymous or DHE suites, so those are not tested.
// Certificates are verified by the scanner itself after the handshake
// (InsecureSkipVerify), because a bad certificate is a finding, not a
// reason to stop looking.

// inspectConfig returns a client configuration for versions minV to maxV
// (0: TLS 1.0 to the newest) that accepts any certificate and, if captured
// is not nil, stores the leaf's DER there even when the handshake then
// fails.
func (a *audit) inspectConfig(minV, maxV uint16, captured *[]byte) *tls.Config {
	if minV == 0 {
		minV = tls.VersionTLS10
	}
	cfg := &tls.Config{
		MinVersion:         minV,
		MaxVersion:         maxV,
		InsecureSkipVerify: true, // verified by certChecks, which reports rather than refuses
	}
	if _, err := netip.ParseAddr(a.host); err != nil && a.host != "" {
		cfg.ServerName = a.host
	}
	if captured != nil {
		cfg.VerifyPeerCertificate = func(raw [][]byte, _ [][]*x509.Certificate) error {
			if len(raw) > 0 {
				*captured = raw[0]
			}
			return nil
		}
	}
	return cfg
}

// handshake opens a new connection and completes a TLS handshake with cfg,
// after AUTH TLS unless the service is implicit FTPS. st is nil when the
// service refused (which is usually the good answer); err is for failures
// that end the audit, such as the time-out.
func (a *audit) handshake(cfg *tls.Config) (st *tls.ConnectionState, ev finding.Evidence, err error) {
	c, _, err := a.open(a.implicit, cfg)
	if a.implicit {
		if err != nil {
			return nil, ev, a.ctx.Err()
		}
		ev.Note = "TLS handshake at connect (implicit FTPS)"
		st := c.tls
		c.close()
		return st, ev, nil
	}
	if err != nil {
		return nil, ev, fmt.Errorf("TLS probe connection: %w", err)
	}
	defer c.close()
	r, ev, err := c.cmd("AUTH TLS")
	if err != nil || r.Code != ftp.CodeAuthOK {
		return nil, ev, err
	}
	if err := c.startTLS(cfg); err != nil {
		return nil, ev, a.ctx.Err()
	}
	return c.tls, ev, nil
}

// tlsProtocolChecks tries SSL 3.0, TLS 1.0, TLS 1.1, a foreign ALPN
// protocol, and weak and broken cipher suites, each on a connection of its
// own.
func (a *audit) tlsProtocolChecks() error {
	var legacy []finding.Evidence
	v, _, ok, ev, err := a.rawHandshake(versionSSL30, sslv3Suites)
	if err != nil {
		return err
	}
	if ok && v == versionSSL30 {
		ev.Note = "the server answered an SSL 3.0 ClientHello with an SSL 3.0 ServerHello"
		legacy = append(legacy, ev)
	}
	for _, v := range []uint16{tls.VersionTLS10, tls.VersionTLS11} {
		cfg := a.inspectConfig(v, v, nil)
		cfg.CipherSuites = suitesFor(v, nil)
		st, ev, err := a.handshake(cfg)
		if err != nil {
			return err
		}
		if st != nil {
			ev.Note = strings.TrimSpace(ev.Note + " handshake completed with " + tls.VersionName(st.Version) + ", " + tls.CipherSuiteName(st.CipherSuite))
			legacy = append(legacy, ev)
		}
	}
	if len(legacy) > 0 {
		a.o.Legacy = legacy
	}

	// ALPACA: a server that completes a handshake offering only the ALPN
	// protocol http/1.1 can be made the far end of a browser's HTTPS
	// connection. Mitigated servers abort with no_application_protocol.
	cfg := a.inspectConfig(0, 0, nil)
	cfg.NextProtos = []string{"http/1.1"}
	st, ev, err := a.handshake(cfg)
	if err != nil {
		return err
	}
	if st != nil {
		ev.Note = strings.TrimSpace(ev.Note + " handshake offering only ALPN http/1.1 completed")
		if st.NegotiatedProtocol != "" {
			ev.Note += ", negotiated " + clean(st.NegotiatedProtocol, 64)
		}
		kept := ev // ev is reused by the next probe
		a.o.ALPACA = &kept
	}

	var weakEv []finding.Evidence
	weak := suitesFor(0, func(s *tls.CipherSuite) bool {
		return strings.Contains(s.Name, "RC4") || strings.Contains(s.Name, "3DES")
	})
	cfg = a.inspectConfig(tls.VersionTLS10, tls.VersionTLS12, nil)
	cfg.CipherSuites = weak
	st, ev, err = a.handshake(cfg)
	if err != nil {
		return err
	}
	if st != nil {
		ev.Note = strings.TrimSpace(ev.Note + " handshake completed with " + tls.VersionName(st.Version) + ", " + tls.CipherSuiteName(st.CipherSuite) + " (only RC4 and 3DES suites were offered)")
		weakEv = append(weakEv, ev)
	}
	// CBC: one handshake offering only CBC suites that are not already weak
	// (AES-CBC with any key exchange), so the answer is about CBC alone.
	cfg = a.inspectConfig(tls.VersionTLS10, tls.VersionTLS12, nil)
	cfg.CipherSuites = suitesFor(0, func(s *tls.CipherSuite) bool {
		return strings.Contains(s.Name, "_CBC_") && !weakSuite(s.Name)
	})
	st, ev, err = a.handshake(cfg)
	if err != nil {
		return err
	}
	if st != nil {
		ev.Note = strings.TrimSpace(ev.Note + " handshake completed with " + tls.VersionName(st.Version) + ", " + tls.CipherSuiteName(st.CipherSuite) + " (only CBC-mode suites were offered)")
		kept := ev // ev is reused by the next probe
		a.o.CBC = &kept
	}
	// Forward secrecy: one handshake offering only static RSA key exchange.
	cfg = a.inspectConfig(tls.VersionTLS10, tls.VersionTLS12, nil)
	cfg.CipherSuites = suitesFor(0, func(s *tls.CipherSuite) bool { return staticRSA(s.Name) })
	st, ev, err = a.handshake(cfg)
	if err != nil {
		return err
	}
	if st != nil {
		ev.Note = strings.TrimSpace(ev.Note + " handshake completed with " + tls.VersionName(st.Version) + ", " + tls.CipherSuiteName(st.CipherSuite) + " (only static RSA key exchange suites were offered)")
		kept := ev // ev is reused by the next probe
		a.o.StaticRSA = &kept
	}

	broken := slices.Sorted(maps.Keys(brokenSuites))
	_, suite, ok, ev, err := a.rawHandshake(tls.VersionTLS12, broken)
	if err != nil {
		return err
	}
	if name, bad := brokenSuites[suite]; ok && bad {
		ev.Note = strings.TrimSpace(ev.Note + " the server chose " + name + " from a ClientHello offering only NULL, EXPORT, anonymous and DES suites")
		weakEv = append(weakEv, ev)
	}
	if len(weakEv) > 0 {
		a.o.WeakSuites = weakEv
	}
	return nil
}

// suitesFor returns the IDs of every cipher suite crypto/tls can offer,
// secure or not, that supports version v (any version when v is 0) and
// passes keep (all when keep is nil).
func suitesFor(v uint16, keep func(*tls.CipherSuite) bool) []uint16 {
	var ids []uint16
	for _, s := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		ok := v == 0
		for _, sv := range s.SupportedVersions {
			ok = ok || sv == v
		}
		if ok && (keep == nil || keep(s)) {
			ids = append(ids, s.ID)
		}
	}
	return ids
}

// certChecks records the chain the service presented, for the checks.
func (a *audit) certChecks(st *tls.ConnectionState) {
	a.o.Chain = st.PeerCertificates
}

// certInfo describes leaf, one of n certificates served, for the report.
func certInfo(leaf *x509.Certificate, n int) *finding.Certificate {
	ci := &finding.Certificate{
		Subject:            clean(leaf.Subject.String(), 512),
		Issuer:             clean(leaf.Issuer.String(), 512),
		KeyType:            leaf.PublicKeyAlgorithm.String(),
		SignatureAlgorithm: leaf.SignatureAlgorithm.String(),
		NotBefore:          leaf.NotBefore.UTC().Format(time.RFC3339),
		NotAfter:           leaf.NotAfter.UTC().Format(time.RFC3339),
		Chain:              n,
	}
	switch k := leaf.PublicKey.(type) {
	case *rsa.PublicKey:
		ci.KeyBits = k.N.BitLen()
	case *ecdsa.PublicKey:
		ci.KeyBits = k.Curve.Params().BitSize
	case ed25519.PublicKey:
		ci.KeyBits = 256
	case *dsa.PublicKey:
		ci.KeyBits = k.P.BitLen()
	}
	return ci
}

// describeCert summarises a certificate for evidence.
func describeCert(c *x509.Certificate) string {
	names := append([]string(nil), c.DNSNames...)
	for _, ip := range c.IPAddresses {
		names = append(names, ip.String())
	}
	if len(names) > 8 {
		names = append(names[:8], "...")
	}
	return clean(fmt.Sprintf("certificate subject %q, issuer %q, valid %s to %s, names [%s]",
		c.Subject.String(), c.Issuer.String(), c.NotBefore.UTC().Format(time.DateOnly), c.NotAfter.UTC().Format(time.DateOnly),
		strings.Join(names, " ")), 1024)
}
