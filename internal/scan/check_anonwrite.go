package scan

import (
	"strings"

	"github.com/port21/port21/internal/finding"
)

// basisListing is a finding read from a directory listing's permissions
// (LIST mode bits), not confirmed by a write.
const basisListing = "listing"

// checkAnonymousWrite: an anonymous upload worked (--intrusive, basis
// confirmed) or, without one, the anonymous listing shows a world-writable
// directory (LIST mode bits, as nmap's ftp-anon reads them) or MLSD perm
// facts that let the session create files (basis listing).
func checkAnonymousWrite(o *Observation) []hit {
	if len(o.Upload) > 0 {
		return one(finding.IDAnonymousWrite, basisConfirmed, o.Upload...)
	}
	if o.UploadTried || !o.Anonymous.OK && !o.AnonymousTLS.OK {
		// A write test that failed says more than mode bits.
		return nil
	}
	var evs []finding.Evidence
	if ev, ok := writableEvidence(o.Listing); ok {
		evs = append(evs, ev)
	}
	if len(o.MLSDWritable) > 0 {
		var names, lines []string
		for _, d := range o.MLSDWritable {
			names = append(names, d.name)
			lines = append(lines, d.line)
		}
		evs = append(evs, finding.Evidence{
			Sent:     "MLSD",
			Received: clean(strings.Join(lines, "\n"), maxEvidence),
			Note:     "the MLSD perm facts let the anonymous session create files in: " + strings.Join(names, ", ") + " (nothing was written)",
		})
	}
	if len(evs) == 0 {
		return nil
	}
	return one(finding.IDAnonymousWrite, basisListing, evs...)
}
