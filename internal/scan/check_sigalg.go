package scan

import (
	"bytes"
	"crypto/x509"
	"fmt"

	"github.com/port21/port21/internal/finding"
)

// weakSignatures are the signature algorithms whose hashes have practical
// collisions.
var weakSignatures = map[x509.SignatureAlgorithm]bool{
	x509.MD2WithRSA: true, x509.MD5WithRSA: true, x509.SHA1WithRSA: true,
	x509.DSAWithSHA1: true, x509.ECDSAWithSHA1: true,
}

// checkWeakSignature: a certificate of the served chain is signed with
// SHA-1 or MD5. A self-issued certificate above the leaf is a root, whose
// own signature no client relies on, so it is skipped.
func checkWeakSignature(o *Observation) []hit {
	chain := o.Chain
	if len(chain) == 0 && o.KeyOnly != nil {
		chain = []*x509.Certificate{o.KeyOnly}
	}
	var evs []finding.Evidence
	for i, c := range chain {
		if i > 0 && selfIssued(c) {
			continue
		}
		if weakSignatures[c.SignatureAlgorithm] {
			evs = append(evs, finding.Evidence{Note: fmt.Sprintf("%s; signed with %s", describeCert(c), c.SignatureAlgorithm)})
		}
	}
	if len(evs) == 0 {
		return nil
	}
	return one(finding.IDTLSWeakSignature, basisConfirmed, evs...)
}

// selfIssued reports whether c names itself as its issuer: a root, or a
// self-signed leaf.
func selfIssued(c *x509.Certificate) bool {
	return bytes.Equal(c.RawIssuer, c.RawSubject)
}
