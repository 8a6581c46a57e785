package scan

import (
	"crypto/x509"
	"net/netip"
	"time"

	"github.com/port21/port21/internal/finding"
	"github.com/port21/port21/internal/scan/fingerprint"
)

// Observation is everything the probes saw on one target, and nothing
// else: the probe phase (audit.go, tlscheck.go, anonwrite.go, creds.go)
// fills it in, in a fixed order, and the checks (check_*.go) read it. A
// check is a pure function of an Observation, so each is tested with a table
// of observations and no network. A nil or zero field means the probe did
// not run or got no answer, never that the answer was good.
type Observation struct {
	Host     string         // as given, for certificate name checks
	Addr     netip.AddrPort // the address connected to
	Implicit bool           // implicit FTPS (TLS at connect)
	// Now is the moment certificates are judged at; Roots the CAs they
	// must chain to (nil: the system's).
	Now   time.Time
	Roots *x509.CertPool

	// Banner is the greeting's text, lines joined by "\n"; Replies what the
	// fingerprint reads (FEAT, SYST, HELP, an unknown command, USER).
	Banner   string
	Features []string
	Replies  fingerprint.Observation
	Product  fingerprint.Result

	// ModCopy is the reply to SITE CPFR / before login (ProFTPD mod_copy).
	ModCopy *Exchange
	// Anonymous is the anonymous login in clear text (or at connect for
	// implicit FTPS); AnonymousTLS the one after AUTH TLS.
	Anonymous, AnonymousTLS Login
	// Cleartext is the reply to USER with a random name before TLS.
	Cleartext *Exchange
	// AuthTLS is the reply to AUTH TLS on a plain connection.
	AuthTLS *Exchange
	// ProtC is the reply to PROT C after a login over TLS; ClearData the
	// LIST over an unprotected data connection that followed, when one was
	// made (Pure-FTPd with TLS 3 says 200 to PROT C and then refuses it).
	ProtC     *Exchange
	ClearData *Login
	// Bounce is the reply to PORT/EPRT naming a third-party address.
	Bounce *Exchange
	// PASV is the reply to PASV and the address it names, when parsed.
	PASV     *Exchange
	PASVAddr netip.Addr
	// Listing is the anonymous login directory's listing; MLSDWritable
	// the directories whose MLSD perm facts let the session create files.
	Listing      []dirEntry
	MLSDWritable []mlsdDir
	// Upload is the --intrusive anonymous upload that worked; UploadTried
	// says an upload was attempted, whose refusal outweighs the listing.
	Upload      []finding.Evidence
	UploadTried bool
	// DefaultCreds is the exchange of the well-known login that worked.
	DefaultCreds []finding.Evidence

	// Chain is the certificate chain the service presented, leaf first;
	// KeyOnly a leaf captured from a handshake crypto/tls refused (an RSA
	// key too short for it), good only for the key size.
	Chain   []*x509.Certificate
	KeyOnly *x509.Certificate
	// Legacy are the handshakes completed at SSL 3.0, TLS 1.0 or 1.1.
	Legacy []finding.Evidence
	// ALPACA is the handshake completed offering only ALPN http/1.1.
	ALPACA *finding.Evidence
	// WeakSuites are the handshakes completed with RC4, 3DES, NULL,
	// EXPORT, anonymous or DES suites.
	WeakSuites []finding.Evidence
	// Suites are the accepted cipher suites per version, when enumerated
	// (Options.TLSSuites).
	Suites []SuiteList
	// CBC is the handshake completed offering only CBC-mode suites that
	// are not weak for another reason.
	CBC *finding.Evidence
	// StaticRSA is the handshake completed offering only suites with static
	// RSA key exchange, which have no forward secrecy.
	StaticRSA *finding.Evidence
	// Groups are the key-exchange groups a handshake completed with when
	// offered alone (Options.TLSSuites).
	Groups []string
	// BackdoorPort is set when TCP 6200 accepted a connection.
	BackdoorPort string
}

// Exchange is one command and its reply.
type Exchange struct {
	Code     int
	Evidence finding.Evidence
}

// Login is one login attempt: whether it worked, whether the refusal asked
// for TLS first, and the exchange.
type Login struct {
	Tried, OK, NeedTLS bool
	Evidence           []finding.Evidence
}

// hit is one finding a check made, before the catalog fills it in.
type hit struct {
	id       string
	basis    string
	evidence []finding.Evidence
}

// check is one pure judgement of an observation.
type check func(o *Observation) []hit

// checks are run in this order; each lives in its own check_*.go file.
var checks = []check{
	checkNoTLS,
	checkCleartextLogin,
	checkAnonymousLogin,
	checkAnonymousWrite,
	checkDataCleartext,
	checkFTPBounce,
	checkPASVLeak,
	checkVersionDisclosed,
	checkCertExpired,
	checkCertUntrusted,
	checkCertName,
	checkWeakKey,
	checkCertExpiring,
	checkWeakSignature,
	checkChainIncomplete,
	checkForwardSecrecy,
	checkLegacyProtocol,
	checkALPACA,
	checkWeakCipher,
	checkCBCCipher,
	checkDefaultCreds,
}

// judge runs every check on o and returns the findings for target t, with
// the fix lines of the product found.
func judge(o *Observation, t finding.Target) []finding.Finding {
	var out []finding.Finding
	product := fixProduct(o.Product.Product)
	for _, c := range checks {
		for _, h := range c(o) {
			out = append(out, finding.New(h.id, t, product, h.basis, h.evidence))
		}
	}
	return out
}

// one is a check's single hit.
func one(id, basis string, ev ...finding.Evidence) []hit {
	return []hit{{id: id, basis: basis, evidence: ev}}
}
