package scan

import (
	"github.com/port21/port21/internal/finding"
	"github.com/port21/port21/internal/ftp"
)

// checkNoTLS: AUTH TLS refused on a plain connection.
func checkNoTLS(o *Observation) []hit {
	if o.Implicit || o.AuthTLS == nil || o.AuthTLS.Code == ftp.CodeAuthOK {
		return nil
	}
	ev := o.AuthTLS.Evidence
	ev.Note = "AUTH TLS was refused: the service offers no encryption"
	return one(finding.IDNoTLS, basisConfirmed, ev)
}
