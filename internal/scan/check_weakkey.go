package scan

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"fmt"

	"github.com/port21/port21/internal/finding"
)

// checkWeakKey: the leaf's key is RSA under 2048 bits, an elliptic curve
// under 256, or DSA. A leaf from a handshake crypto/tls refused (RSA under
// 1024 bits) counts.
func checkWeakKey(o *Observation) []hit {
	leaf := o.KeyOnly
	if len(o.Chain) > 0 {
		leaf = o.Chain[0]
	}
	if leaf == nil {
		return nil
	}
	var why string
	switch k := leaf.PublicKey.(type) {
	case *rsa.PublicKey:
		if n := k.N.BitLen(); n < 2048 {
			why = fmt.Sprintf("RSA key of %d bits", n)
		}
	case *ecdsa.PublicKey:
		if n := k.Curve.Params().BitSize; n < 256 {
			why = fmt.Sprintf("ECDSA key of %d bits", n)
		}
	case nil:
		why = "public key of an unsupported type"
	}
	if leaf.PublicKeyAlgorithm == x509.DSA {
		why = "DSA key"
	}
	if why == "" {
		return nil
	}
	return one(finding.IDTLSWeakKey, basisConfirmed, finding.Evidence{Note: describeCert(leaf) + "; " + why})
}
