package scan

import (
	"strings"

	"github.com/port21/port21/internal/finding"
)

// checkCBCCipher: a handshake completed offering only CBC-mode suites, or
// the enumeration lists one. Suites that are weak for another reason (3DES,
// DES, RC2) are tls-weak-cipher's, so they are not counted twice. TLS 1.3
// has no CBC suites.
func checkCBCCipher(o *Observation) []hit {
	var evs []finding.Evidence
	if o.CBC != nil {
		evs = append(evs, *o.CBC)
	}
	for _, l := range o.Suites {
		var cbc []string
		for _, s := range l.Suites {
			if strings.Contains(s, "_CBC_") && !weakSuite(s) {
				cbc = append(cbc, s)
			}
		}
		if len(cbc) > 0 {
			evs = append(evs, finding.Evidence{Note: l.Version + " accepts CBC-mode suites: " + strings.Join(cbc, ", ")})
		}
	}
	if len(evs) == 0 {
		return nil
	}
	return one(finding.IDTLSCBCCipher, basisConfirmed, evs...)
}
