package scan

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"

	"github.com/port21/port21/internal/finding"
)

// checkChainIncomplete: the served chain stops below a root. The path is
// followed by issuer name through what was served, so a bad signature (a
// SHA-1 leaf) is not mistaken for a missing certificate; where it ends must
// be a root itself or issued by a trusted one. Nothing is fetched: FTP
// clients do not follow AIA links, so what was not sent is missing for them
// too. A self-signed leaf is checkCertUntrusted's alone.
func checkChainIncomplete(o *Observation) []hit {
	if len(o.Chain) == 0 {
		return nil
	}
	end := pathEnd(o.Chain)
	if selfIssued(end) {
		return nil
	}
	at := o.Now
	if at.After(end.NotAfter) {
		at = end.NotAfter // expiry is checkCertExpired's
	}
	if at.Before(end.NotBefore) {
		at = end.NotBefore
	}
	_, err := end.Verify(x509.VerifyOptions{Roots: o.Roots, CurrentTime: at, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	var unknown x509.UnknownAuthorityError
	if err == nil || !errors.As(err, &unknown) {
		return nil
	}
	return one(finding.IDTLSChainIncomplete, basisConfirmed, finding.Evidence{Note: clean(fmt.Sprintf(
		"%s; the service sent %d certificate(s), and the issuer %q of the last one in the path was not sent and is not a trusted root",
		describeCert(o.Chain[0]), len(o.Chain), end.Issuer.String()), 1024)})
}

// pathEnd follows chain from its leaf by issuer name and returns the last
// certificate reached.
func pathEnd(chain []*x509.Certificate) *x509.Certificate {
	cur, seen := chain[0], []*x509.Certificate{chain[0]}
	for {
		i := slices.IndexFunc(chain, func(c *x509.Certificate) bool {
			return bytes.Equal(c.RawSubject, cur.RawIssuer) && !slices.Contains(seen, c)
		})
		if i < 0 || selfIssued(cur) {
			return cur
		}
		cur = chain[i]
		seen = append(seen, cur)
	}
}
