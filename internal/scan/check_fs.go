package scan

import (
	"strings"

	"github.com/port21/port21/internal/finding"
)

// checkForwardSecrecy: a handshake completed with static RSA key exchange,
// in the probe offering only such suites or in the enumeration. TLS 1.3
// always has forward secrecy, so its list is not read.
func checkForwardSecrecy(o *Observation) []hit {
	var evs []finding.Evidence
	if o.StaticRSA != nil {
		evs = append(evs, *o.StaticRSA)
	}
	for _, l := range o.Suites {
		if l.Version == "TLS 1.3" {
			continue
		}
		var static []string
		for _, s := range l.Suites {
			if staticRSA(s) {
				static = append(static, s)
			}
		}
		if len(static) > 0 {
			evs = append(evs, finding.Evidence{Note: l.Version + " accepts suites without forward secrecy: " + strings.Join(static, ", ")})
		}
	}
	if len(evs) == 0 {
		return nil
	}
	return one(finding.IDTLSNoFS, basisConfirmed, evs...)
}

// staticRSA reports whether a suite name has static RSA key exchange
// (TLS_RSA_WITH_..., TLS_RSA_EXPORT_...): the key is the certificate's, so
// recording traffic and later taking the key reveals it.
func staticRSA(name string) bool {
	return strings.HasPrefix(name, "TLS_RSA_")
}
