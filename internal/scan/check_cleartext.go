package scan

import (
	"github.com/port21/port21/internal/finding"
	"github.com/port21/port21/internal/ftp"
)

// checkCleartextLogin: USER with a random name before TLS was answered
// 331 (or 230): the server would take a password in clear text.
func checkCleartextLogin(o *Observation) []hit {
	if o.Cleartext == nil || o.Cleartext.Code != ftp.CodeNeedPassword && o.Cleartext.Code != ftp.CodeLoggedIn {
		return nil
	}
	ev := o.Cleartext.Evidence
	ev.Note = "the server asked for a password on an unencrypted connection; none was sent"
	return one(finding.IDCleartextLogin, basisConfirmed, ev)
}
