package scan

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/port21/port21/internal/finding"
	"github.com/port21/port21/internal/scan/cve"
	"github.com/port21/port21/internal/scan/fingerprint"
)

// TestChecks feeds each check observations and compares the ids it finds:
// no network, the judgement alone.
func TestChecks(t *testing.T) {
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	weak, _ := rsa.GenerateKey(rand.Reader, 1024)
	leaf := func(key any, from, to time.Time) *x509.Certificate {
		c, err := x509.ParseCertificate(testCert(t, key, from, to).Certificate[0])
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	valid := leaf(ec, now.Add(-time.Hour), now.Add(time.Hour))
	expired := leaf(ec, now.Add(-48*time.Hour), now.Add(-24*time.Hour))
	weakLeaf := leaf(weak, now.Add(-time.Hour), now.Add(time.Hour))
	trusted := x509.NewCertPool()
	trusted.AddCert(valid)
	target := netip.MustParseAddrPort("127.0.0.1:21")
	pki := newPKI(t, now)
	pkiRoots := x509.NewCertPool()
	pkiRoots.AddCert(pki.root)
	expiring := pki.leaf(t, ec, 0, now.Add(-time.Hour), now.Add(10*24*time.Hour))
	lasting := pki.leaf(t, ec, 0, now.Add(-time.Hour), now.Add(60*24*time.Hour))
	sha1Leaf := pki.leaf(t, ec, x509.SHA1WithRSA, now.Add(-time.Hour), now.Add(60*24*time.Hour))
	sha1Root := *pki.root // a root's own signature is not relied on
	sha1Root.SignatureAlgorithm = x509.SHA1WithRSA
	ex := func(code int) *Exchange { return &Exchange{Code: code} }
	anon := Login{Tried: true, OK: true}
	writable := []dirEntry{{mode: "drwxrwxrwx", name: "upload", line: "drwxrwxrwx 2 0 0 4096 Nov 24 16:47 upload"}}
	readOnly := []dirEntry{{mode: "drwxr-xr-x", name: "pub", line: "drwxr-xr-x 2 0 0 4096 Nov 24 16:47 pub"}}

	for _, tc := range []struct {
		name  string
		check check
		o     Observation
		want  []string // ids; nil for none
		basis string   // of the first hit, when set
	}{
		{"no-tls: AUTH TLS refused", checkNoTLS, Observation{AuthTLS: ex(500)}, []string{finding.IDNoTLS}, basisConfirmed},
		{"no-tls: AUTH TLS accepted", checkNoTLS, Observation{AuthTLS: ex(234)}, nil, ""},
		{"no-tls: implicit FTPS", checkNoTLS, Observation{Implicit: true, AuthTLS: ex(500)}, nil, ""},
		{"no-tls: not probed", checkNoTLS, Observation{}, nil, ""},
		{"cleartext: 331", checkCleartextLogin, Observation{Cleartext: ex(331)}, []string{finding.IDCleartextLogin}, basisConfirmed},
		{"cleartext: 530", checkCleartextLogin, Observation{Cleartext: ex(530)}, nil, ""},
		{"anonymous: plain", checkAnonymousLogin, Observation{Anonymous: anon}, []string{finding.IDAnonymousLogin}, ""},
		{"anonymous: over TLS only", checkAnonymousLogin, Observation{AnonymousTLS: anon}, []string{finding.IDAnonymousLogin}, ""},
		{"anonymous: refused", checkAnonymousLogin, Observation{Anonymous: Login{Tried: true, NeedTLS: true}}, nil, ""},
		{"anonymous-write: listing", checkAnonymousWrite, Observation{Anonymous: anon, Listing: writable}, []string{finding.IDAnonymousWrite}, basisListing},
		{"anonymous-write: read-only listing", checkAnonymousWrite, Observation{Anonymous: anon, Listing: readOnly}, nil, ""},
		{"anonymous-write: upload refused beats the mode bits", checkAnonymousWrite, Observation{Anonymous: anon, Listing: writable, UploadTried: true}, nil, ""},
		{"anonymous-write: upload worked", checkAnonymousWrite, Observation{Anonymous: anon, UploadTried: true, Upload: []finding.Evidence{{Sent: "STOR x"}}}, []string{finding.IDAnonymousWrite}, basisConfirmed},
		{"anonymous-write: no login", checkAnonymousWrite, Observation{Listing: writable}, nil, ""},
		{"anonymous-write: MLSD perm facts", checkAnonymousWrite, Observation{Anonymous: anon, Listing: readOnly, MLSDWritable: []mlsdDir{{name: "incoming", line: "type=dir;perm=flcdmpe; incoming"}}}, []string{finding.IDAnonymousWrite}, basisListing},
		{"PROT C accepted", checkDataCleartext, Observation{ProtC: ex(200)}, []string{finding.IDDataCleartext}, ""},
		{"PROT C refused", checkDataCleartext, Observation{ProtC: ex(534)}, nil, ""},
		{"PROT C accepted, clear LIST refused", checkDataCleartext, Observation{ProtC: ex(200), ClearData: &Login{Tried: true}}, nil, ""},
		{"PROT C accepted, clear LIST worked", checkDataCleartext, Observation{ProtC: ex(200), ClearData: &Login{Tried: true, OK: true, Evidence: []finding.Evidence{{Sent: "LIST"}}}}, []string{finding.IDDataCleartext}, basisConfirmed},
		{"bounce accepted", checkFTPBounce, Observation{Bounce: ex(200)}, []string{finding.IDFTPBounce}, ""},
		{"bounce refused", checkFTPBounce, Observation{Bounce: ex(500)}, nil, ""},
		{"PASV names an internal address", checkPASVLeak, Observation{Addr: netip.MustParseAddrPort("192.0.2.1:21"), PASV: ex(227), PASVAddr: netip.MustParseAddr("10.0.0.5")}, []string{finding.IDPASVLeak}, ""},
		{"PASV names the target", checkPASVLeak, Observation{Addr: target, PASV: ex(227), PASVAddr: target.Addr()}, nil, ""},
		{"PASV names 0.0.0.0", checkPASVLeak, Observation{Addr: target, PASV: ex(227), PASVAddr: netip.IPv4Unspecified()}, nil, ""},
		{"version in banner", checkVersionDisclosed, Observation{Banner: "(vsFTPd 3.0.3)", Product: fingerprint.Result{Product: "vsftpd", Version: "3.0.3"}}, []string{finding.IDVersionDisclosed}, ""},
		{"version from FEAT only", checkVersionDisclosed, Observation{Banner: "FTP ready", Product: fingerprint.Result{Product: "vsftpd", Version: "3.0.3"}}, nil, ""},
		{"cert expired", checkCertExpired, Observation{Now: now, Chain: []*x509.Certificate{expired}}, []string{finding.IDTLSCertExpired}, ""},
		{"cert valid", checkCertExpired, Observation{Now: now, Chain: []*x509.Certificate{valid}}, nil, ""},
		{"cert untrusted", checkCertUntrusted, Observation{Now: now, Roots: x509.NewCertPool(), Chain: []*x509.Certificate{valid}}, []string{finding.IDTLSCertUntrusted}, ""},
		{"cert trusted", checkCertUntrusted, Observation{Now: now, Roots: trusted, Chain: []*x509.Certificate{valid}}, nil, ""},
		{"cert names 127.0.0.1", checkCertName, Observation{Host: "127.0.0.1", Chain: []*x509.Certificate{valid}}, nil, ""},
		{"cert does not name ftp.example.net", checkCertName, Observation{Host: "ftp.example.net", Chain: []*x509.Certificate{valid}}, []string{finding.IDTLSCertName}, ""},
		{"RSA 1024", checkWeakKey, Observation{Chain: []*x509.Certificate{weakLeaf}}, []string{finding.IDTLSWeakKey}, ""},
		{"RSA 1024 from a refused handshake", checkWeakKey, Observation{KeyOnly: weakLeaf}, []string{finding.IDTLSWeakKey}, ""},
		{"P-256", checkWeakKey, Observation{Chain: []*x509.Certificate{valid}}, nil, ""},
		{"cert expires in 10 days", checkCertExpiring, Observation{Now: now, Chain: []*x509.Certificate{expiring}}, []string{finding.IDTLSCertExpiring}, basisConfirmed},
		{"cert expires in 60 days", checkCertExpiring, Observation{Now: now, Chain: []*x509.Certificate{lasting}}, nil, ""},
		{"cert already expired is not expiring", checkCertExpiring, Observation{Now: now, Chain: []*x509.Certificate{expired}}, nil, ""},
		{"SHA-1 signed leaf", checkWeakSignature, Observation{Chain: []*x509.Certificate{sha1Leaf, pki.inter}}, []string{finding.IDTLSWeakSignature}, basisConfirmed},
		{"SHA-1 signed leaf from a refused handshake", checkWeakSignature, Observation{KeyOnly: sha1Leaf}, []string{finding.IDTLSWeakSignature}, ""},
		{"SHA-256 chain", checkWeakSignature, Observation{Chain: []*x509.Certificate{lasting, pki.inter}}, nil, ""},
		{"SHA-1 on a served root only", checkWeakSignature, Observation{Chain: []*x509.Certificate{lasting, pki.inter, &sha1Root}}, nil, ""},
		{"chain complete", checkChainIncomplete, Observation{Now: now, Roots: pkiRoots, Chain: []*x509.Certificate{lasting, pki.inter}}, nil, ""},
		{"chain with its root", checkChainIncomplete, Observation{Now: now, Roots: pkiRoots, Chain: []*x509.Certificate{lasting, pki.inter, pki.root}}, nil, ""},
		{"intermediate missing", checkChainIncomplete, Observation{Now: now, Roots: pkiRoots, Chain: []*x509.Certificate{lasting}}, []string{finding.IDTLSChainIncomplete}, basisConfirmed},
		{"intermediate missing, SHA-1 leaf", checkChainIncomplete, Observation{Now: now, Roots: pkiRoots, Chain: []*x509.Certificate{sha1Leaf}}, []string{finding.IDTLSChainIncomplete}, ""},
		{"SHA-1 leaf, intermediate served", checkChainIncomplete, Observation{Now: now, Roots: pkiRoots, Chain: []*x509.Certificate{sha1Leaf, pki.inter}}, nil, ""},
		{"private CA: intermediate served, root unknown", checkChainIncomplete, Observation{Now: now, Roots: x509.NewCertPool(), Chain: []*x509.Certificate{lasting, pki.inter}}, []string{finding.IDTLSChainIncomplete}, ""},
		{"self-signed leaf is untrusted, not incomplete", checkChainIncomplete, Observation{Now: now, Roots: x509.NewCertPool(), Chain: []*x509.Certificate{valid}}, nil, ""},
		{"static RSA handshake", checkForwardSecrecy, Observation{StaticRSA: &finding.Evidence{Note: "TLS_RSA_WITH_AES_128_GCM_SHA256"}}, []string{finding.IDTLSNoFS}, basisConfirmed},
		{"static RSA in the enumeration", checkForwardSecrecy, Observation{Suites: []SuiteList{{Version: "TLS 1.2", Suites: []string{"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_RSA_WITH_AES_256_CBC_SHA"}}}}, []string{finding.IDTLSNoFS}, ""},
		{"ECDHE and TLS 1.3 only", checkForwardSecrecy, Observation{Suites: []SuiteList{{Version: "TLS 1.2", Suites: []string{"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"}}, {Version: "TLS 1.3", Suites: []string{"TLS_AES_128_GCM_SHA256"}}}}, nil, ""},
		{"TLS 1.0 handshake", checkLegacyProtocol, Observation{Legacy: []finding.Evidence{{Note: "TLS 1.0"}}}, []string{finding.IDTLSLegacyProtocol}, ""},
		{"no legacy handshake", checkLegacyProtocol, Observation{}, nil, ""},
		{"ALPN http/1.1 accepted", checkALPACA, Observation{ALPACA: &finding.Evidence{}}, []string{finding.IDALPACA}, ""},
		{"RC4 accepted", checkWeakCipher, Observation{WeakSuites: []finding.Evidence{{Note: "RC4"}}}, []string{finding.IDTLSWeakCipher}, ""},
		{"CBC handshake", checkCBCCipher, Observation{CBC: &finding.Evidence{Note: "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"}}, []string{finding.IDTLSCBCCipher}, basisConfirmed},
		{"CBC in the enumeration", checkCBCCipher, Observation{Suites: []SuiteList{{Version: "TLS 1.2", Suites: []string{"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA"}}}}, []string{finding.IDTLSCBCCipher}, ""},
		{"3DES is not counted as CBC", checkCBCCipher, Observation{Suites: []SuiteList{{Version: "TLS 1.0", Suites: []string{"TLS_RSA_WITH_3DES_EDE_CBC_SHA"}}}}, nil, ""},
		{"AEAD only", checkCBCCipher, Observation{Suites: []SuiteList{{Version: "TLS 1.2", Suites: []string{"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"}}}}, nil, ""},
		{"default password", checkDefaultCreds, Observation{DefaultCreds: []finding.Evidence{{Sent: "USER admin"}}}, []string{finding.IDDefaultCreds}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hits := tc.check(&tc.o)
			var got []string
			for _, h := range hits {
				got = append(got, h.id)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("ids %q, want %q", got, tc.want)
			}
			if tc.basis != "" && len(hits) > 0 && hits[0].basis != tc.basis {
				t.Errorf("basis %q, want %q", hits[0].basis, tc.basis)
			}
		})
	}
}

// TestJudgeCVE checks banner trust: a version named by the greeting alone
// is marked basis banner; one other replies back up is basis version; the
// mod_copy entry needs its probe's 350.
func TestJudgeCVE(t *testing.T) {
	db, err := cve.Load()
	if err != nil {
		t.Fatal(err)
	}
	tgt := finding.Target{Address: "127.0.0.1", Port: 21}
	basisOf := func(fs []finding.Finding, id string) string {
		for _, f := range fs {
			if f.ID == id {
				return f.Basis
			}
		}
		return ""
	}
	vs := fingerprint.Result{Product: fingerprint.VsFTPd, Version: "2.3.4", Confidence: 100}
	only := vs
	only.BannerOnly = true
	for _, tc := range []struct {
		name string
		o    Observation
		id   string
		want string
	}{
		{"banner alone", Observation{Banner: "(vsFTPd 2.3.4)", Product: only}, "CVE-2011-2523", basisBanner},
		{"backed by other replies", Observation{Banner: "(vsFTPd 2.3.4)", Product: vs}, "CVE-2011-2523", basisVersion},
		{"backdoor port open", Observation{Banner: "(vsFTPd 2.3.4)", Product: vs, BackdoorPort: "open"}, "CVE-2011-2523", basisConfirmed},
		{"mod_copy confirmed", Observation{Product: fingerprint.Result{Product: fingerprint.ProFTPD}, ModCopy: &Exchange{Code: 350}}, "CVE-2015-3306", basisConfirmed},
		{"mod_copy refused", Observation{Product: fingerprint.Result{Product: fingerprint.ProFTPD, Version: "1.3.5"}, ModCopy: &Exchange{Code: 500}}, "CVE-2015-3306", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := basisOf(judgeCVE(&tc.o, db, tgt), tc.id); got != tc.want {
				t.Errorf("%s basis %q, want %q", tc.id, got, tc.want)
			}
		})
	}
}
