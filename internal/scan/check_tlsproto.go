package scan

import "github.com/port21/port21/internal/finding"

// checkLegacyProtocol: a handshake completed at SSL 3.0, TLS 1.0 or 1.1.
func checkLegacyProtocol(o *Observation) []hit {
	if len(o.Legacy) == 0 {
		return nil
	}
	return one(finding.IDTLSLegacyProtocol, basisConfirmed, o.Legacy...)
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
	if len(o.WeakSuites) == 0 {
		return nil
	}
	return one(finding.IDTLSWeakCipher, basisConfirmed, o.WeakSuites...)
}
