package scan

import (
	"fmt"

	"github.com/port21/port21/internal/finding"
)

// checkPASVLeak: the PASV reply named an address other than the target's.
func checkPASVLeak(o *Observation) []hit {
	ap := o.PASVAddr
	if o.PASV == nil || !ap.IsValid() || ap == o.Addr.Addr() || ap.IsUnspecified() {
		return nil
	}
	what := "another address"
	if ap.IsPrivate() || ap.IsLoopback() || ap.IsLinkLocalUnicast() {
		what = "an internal address"
	}
	ev := o.PASV.Evidence
	ev.Note = fmt.Sprintf("the reply names %s, %s, not %s; the scanner did not connect to it", what, ap, o.Addr.Addr())
	return one(finding.IDPASVLeak, basisConfirmed, ev)
}
