package scan

import (
	"strings"

	"github.com/port21/port21/internal/finding"
)

// checkLegacyProtocol: a handshake completed at SSL 3.0, TLS 1.0 or 1.1.
func checkLegacyProtocol(o *Observation) []hit {
	if len(o.Legacy) == 0 {
		return nil
	}
	evs := append([]finding.Evidence(nil), o.Legacy...)
	for _, l := range o.Suites {
		if l.Version == "TLS 1.0" || l.Version == "TLS 1.1" {
			evs = append(evs, finding.Evidence{Note: l.Version + " accepts: " + strings.Join(l.Suites, ", ")})
		}
	}
	return one(finding.IDTLSLegacyProtocol, basisConfirmed, evs...)
}

// checkALPACA: a handshake offering only ALPN http/1.1 completed.
func checkALPACA(o *Observation) []hit {
	if o.ALPACA == nil {
		return nil
	}
	return one(finding.IDALPACA, basisConfirmed, *o.ALPACA)
}

// checkWeakCipher: a handshake completed with a weak or broken suite.
func checkWeakCipher(o *Observation) []hit {
	evs := append([]finding.Evidence(nil), o.WeakSuites...)
	for _, l := range o.Suites {
		var weak []string
		for _, s := range l.Suites {
			if weakSuite(s) {
				weak = append(weak, s)
			}
		}
		if len(weak) > 0 {
			evs = append(evs, finding.Evidence{Note: l.Version + " accepts weak suites: " + strings.Join(weak, ", ")})
		}
	}
	if len(evs) == 0 {
		return nil
	}
	return one(finding.IDTLSWeakCipher, basisConfirmed, evs...)
}
