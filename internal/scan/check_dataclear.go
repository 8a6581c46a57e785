package scan

import (
	"github.com/port21/port21/internal/finding"
	"github.com/port21/port21/internal/ftp"
)

// checkDataCleartext: PROT C was accepted after a login over TLS, and a
// transfer over a clear data connection, when one was tried, went through.
// A server that says 200 to PROT C and then refuses the transfer does not
// move data in clear text.
func checkDataCleartext(o *Observation) []hit {
	if o.ProtC == nil || o.ProtC.Code != ftp.CodeOK {
		return nil
	}
	if o.ClearData != nil && !o.ClearData.OK {
		return nil
	}
	ev := o.ProtC.Evidence
	ev.Note = "after logging in over TLS as anonymous, clear-text data connections were accepted"
	evs := []finding.Evidence{ev}
	if o.ClearData != nil && len(o.ClearData.Evidence) > 0 {
		evs = append(evs, o.ClearData.Evidence...)
		evs[len(evs)-1].Note = "a listing then crossed an unprotected data connection"
	}
	return one(finding.IDDataCleartext, basisConfirmed, evs...)
}
