package scan

import (
	"fmt"
	"time"

	"github.com/port21/port21/internal/finding"
)

// expiringWithin is how close to its end a valid certificate is reported,
// testssl.sh's default warning.
const expiringWithin = 30 * 24 * time.Hour

// checkCertExpiring: the leaf is valid but ends within expiringWithin. An
// expired one is checkCertExpired's.
func checkCertExpiring(o *Observation) []hit {
	if len(o.Chain) == 0 {
		return nil
	}
	leaf := o.Chain[0]
	if o.Now.Before(leaf.NotBefore) || o.Now.After(leaf.NotAfter) || leaf.NotAfter.Sub(o.Now) > expiringWithin {
		return nil
	}
	days := int(leaf.NotAfter.Sub(o.Now).Hours() / 24)
	return one(finding.IDTLSCertExpiring, basisConfirmed,
		finding.Evidence{Note: fmt.Sprintf("%s; expires in %d days (checked at %s)", describeCert(leaf), days, o.Now.UTC().Format(time.RFC3339))})
}
