package scan

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/port21/port21/internal/finding"
)

// testPKI is a root (ECDSA) and an intermediate (RSA, so that it can sign
// with SHA-1) for the chain tests.
type testPKI struct {
	root, inter       *x509.Certificate
	rootKey, interKey crypto.Signer
}

func newPKI(t testing.TB, now time.Time) testPKI {
	t.Helper()
	var p testPKI
	p.rootKey = ecKey(t)
	ik, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p.interKey = ik
	ca := func(cn string, key crypto.Signer, parent *x509.Certificate, parentKey crypto.Signer) *x509.Certificate {
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
			NotBefore: now.Add(-24 * time.Hour), NotAfter: now.Add(365 * 24 * time.Hour),
			IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
		}
		if parent == nil {
			parent, parentKey = tmpl, key
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), parentKey)
		if err != nil {
			t.Fatal(err)
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	p.root = ca("port21 test root", p.rootKey, nil, nil)
	p.inter = ca("port21 test intermediate", p.interKey, p.root, p.rootKey)
	return p
}

// leaf issues a certificate for 127.0.0.1 under the intermediate, signed
// with sig (0: the default, SHA-256), valid until notAfter.
func (p testPKI) leaf(t testing.TB, key crypto.Signer, sig x509.SignatureAlgorithm, notBefore, notAfter time.Time) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "fake ftp"},
		NotBefore: notBefore, NotAfter: notAfter, SignatureAlgorithm: sig,
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.inter, key.Public(), p.interKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestCertificateDepth runs the certificate and key-exchange probes against
// scripted TLS servers: an incomplete chain with a SHA-1, soon-expiring
// leaf; a complete one; and a server that also takes static RSA key
// exchange, with the groups enumerated.
func TestCertificateDepth(t *testing.T) {
	now := time.Now()
	pki := newPKI(t, now)
	roots := x509.NewCertPool()
	roots.AddCert(pki.root)
	leafKey := ecKey(t)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	sha1Leaf := pki.leaf(t, leafKey, x509.SHA1WithRSA, now.Add(-time.Hour), now.Add(10*24*time.Hour))
	goodLeaf := pki.leaf(t, leafKey, 0, now.Add(-time.Hour), now.Add(90*24*time.Hour))
	rsaLeaf := pki.leaf(t, rsaKey, 0, now.Add(-time.Hour), now.Add(90*24*time.Hour))
	served := func(key crypto.Signer, certs ...*x509.Certificate) tls.Certificate {
		var c tls.Certificate
		for _, x := range certs {
			c.Certificate = append(c.Certificate, x.Raw)
		}
		c.PrivateKey = key
		return c
	}
	replies := map[string]string{"USER": "530 Non-anonymous sessions must use encryption.\r\n"}

	for _, tc := range []struct {
		name     string
		tls      *tls.Config
		suites   bool // --tls-ciphers
		want     []string
		cert     finding.Certificate // the fields compared: key type, bits, signature, chain
		groups   []string
		evidence string // in the tls-no-forward-secrecy evidence, when set
	}{
		{
			name: "leaf alone, SHA-1, expiring in 10 days",
			tls:  &tls.Config{Certificates: []tls.Certificate{served(leafKey, sha1Leaf)}, MinVersion: tls.VersionTLS12, CipherSuites: aeadSuites()},
			want: []string{finding.IDTLSCertExpiring, finding.IDTLSChainIncomplete, IDTLSCertUntrusted, finding.IDTLSWeakSignature},
			cert: finding.Certificate{KeyType: "ECDSA", KeyBits: 256, SignatureAlgorithm: "SHA1-RSA", Chain: 1},
		},
		{
			name: "complete chain, SHA-256, 90 days",
			tls:  &tls.Config{Certificates: []tls.Certificate{served(leafKey, goodLeaf, pki.inter)}, MinVersion: tls.VersionTLS12, CipherSuites: aeadSuites()},
			cert: finding.Certificate{KeyType: "ECDSA", KeyBits: 256, SignatureAlgorithm: "SHA256-RSA", Chain: 2},
		},
		{
			name: "static RSA key exchange accepted, P-384 only",
			tls: &tls.Config{Certificates: []tls.Certificate{served(rsaKey, rsaLeaf, pki.inter)}, MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS12,
				CipherSuites:     []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_RSA_WITH_AES_128_GCM_SHA256},
				CurvePreferences: []tls.CurveID{tls.CurveP384}},
			suites:   true,
			want:     []string{finding.IDTLSNoFS},
			cert:     finding.Certificate{KeyType: "RSA", KeyBits: 2048, SignatureAlgorithm: "SHA256-RSA", Chain: 2},
			groups:   []string{"P-384"},
			evidence: "TLS 1.2 accepts suites without forward secrecy: TLS_RSA_WITH_AES_128_GCM_SHA256",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.tls.NextProtos = []string{"ftp"} // mitigates ALPACA, which is not under test
			ap := startFake(t, &fake{banner: "220 Welcome\r\n", tls: tc.tls, replies: replies})
			s := newTestScanner(t, func(o *Options) { o.Roots = roots; o.TLSSuites = tc.suites })
			r := auditOne(t, s, ap)
			got := slices.DeleteFunc(ids(r), func(id string) bool { return id == finding.IDCleartextLogin })
			want := slices.Sorted(slices.Values(tc.want))
			if !slices.Equal(got, want) {
				t.Errorf("findings %q, want %q (error %q)", got, want, r.Error)
			}
			if r.Service == nil || r.Service.Certificate == nil {
				t.Fatalf("no certificate in the service: %+v", r.Service)
			}
			c := *r.Service.Certificate
			if c.KeyType != tc.cert.KeyType || c.KeyBits != tc.cert.KeyBits || c.SignatureAlgorithm != tc.cert.SignatureAlgorithm || c.Chain != tc.cert.Chain {
				t.Errorf("certificate %+v, want %+v", c, tc.cert)
			}
			if !slices.Equal(r.Service.TLSGroups, tc.groups) {
				t.Errorf("groups %q, want %q", r.Service.TLSGroups, tc.groups)
			}
			if tc.evidence != "" {
				var notes []string
				for _, f := range r.Findings {
					if f.ID == finding.IDTLSNoFS {
						for _, e := range f.Evidence {
							notes = append(notes, e.Note)
						}
					}
				}
				if !slices.Contains(notes, tc.evidence) {
					t.Errorf("forward-secrecy evidence %q, want %q among it", notes, tc.evidence)
				}
			}
		})
	}
}
