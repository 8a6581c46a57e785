package scan

import (
	"crypto/x509"
	"fmt"
	"net/netip"
	"time"

	"github.com/port21/port21/internal/finding"
)

// checkCertExpired: the leaf is outside its validity period.
func checkCertExpired(o *Observation) []hit {
	if len(o.Chain) == 0 {
		return nil
	}
	leaf := o.Chain[0]
	if !o.Now.After(leaf.NotAfter) && !o.Now.Before(leaf.NotBefore) {
		return nil
	}
	return one(finding.IDTLSCertExpired, basisConfirmed,
		finding.Evidence{Note: fmt.Sprintf("%s; checked at %s", describeCert(leaf), o.Now.UTC().Format(time.RFC3339))})
}

// checkCertUntrusted: the chain does not lead to a trusted root. Trust is
// checked at a moment inside the validity period, so that an expired
// certificate is reported once, as expired, and not again as untrusted.
func checkCertUntrusted(o *Observation) []hit {
	if len(o.Chain) == 0 {
		return nil
	}
	leaf := o.Chain[0]
	at := o.Now
	if at.After(leaf.NotAfter) {
		at = leaf.NotAfter
	}
	if at.Before(leaf.NotBefore) {
		at = leaf.NotBefore
	}
	inter := x509.NewCertPool()
	for _, c := range o.Chain[1:] {
		inter.AddCert(c)
	}
	_, err := leaf.Verify(x509.VerifyOptions{Roots: o.Roots, Intermediates: inter, CurrentTime: at})
	if err == nil {
		return nil
	}
	return one(finding.IDTLSCertUntrusted, basisConfirmed, finding.Evidence{Note: describeCert(leaf) + "; " + clean(err.Error(), 512)})
}

// checkCertName: the leaf names neither the host name given nor, for an
// address, the address.
func checkCertName(o *Observation) []hit {
	if len(o.Chain) == 0 {
		return nil
	}
	name := o.Host
	if name == "" {
		name = o.Addr.Addr().String()
	} else if a, err := netip.ParseAddr(name); err == nil {
		name = a.Unmap().String()
	}
	if err := o.Chain[0].VerifyHostname(name); err == nil {
		return nil
	}
	return one(finding.IDTLSCertName, basisConfirmed, finding.Evidence{Note: fmt.Sprintf("%s; does not cover %q", describeCert(o.Chain[0]), name)})
}
