package scan

import (
	"github.com/port21/port21/internal/finding"
	"github.com/port21/port21/internal/ftp"
)

// checkFTPBounce: PORT or EPRT naming a third-party address was accepted.
func checkFTPBounce(o *Observation) []hit {
	if o.Bounce == nil || o.Bounce.Code != ftp.CodeOK {
		return nil
	}
	ev := o.Bounce.Evidence
	ev.Note = "an active-mode data address on a third-party documentation address was accepted; no transfer was started"
	return one(finding.IDFTPBounce, basisConfirmed, ev)
}
