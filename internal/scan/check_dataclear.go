package scan

import (
	"github.com/port21/port21/internal/finding"
	"github.com/port21/port21/internal/ftp"
)

// checkDataCleartext: PROT C was accepted after a login over TLS.
func checkDataCleartext(o *Observation) []hit {
	if o.ProtC == nil || o.ProtC.Code != ftp.CodeOK {
		return nil
	}
	ev := o.ProtC.Evidence
	ev.Note = "after logging in over TLS as anonymous, clear-text data connections were accepted"
	return one(finding.IDDataCleartext, basisConfirmed, ev)
}
