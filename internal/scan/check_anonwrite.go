package scan

import "github.com/port21/port21/internal/finding"

// basisListing is a finding read from a directory listing's permissions
// (LIST mode bits), not confirmed by a write.
const basisListing = "listing"

// checkAnonymousWrite: an anonymous upload worked (--intrusive, basis
// confirmed) or, without one, the anonymous listing shows a world-writable
// directory (basis listing), which nmap's ftp-anon reports too.
func checkAnonymousWrite(o *Observation) []hit {
	if len(o.Upload) > 0 {
		return one(finding.IDAnonymousWrite, basisConfirmed, o.Upload...)
	}
	if o.UploadTried || !o.Anonymous.OK && !o.AnonymousTLS.OK {
		// A write test that failed says more than mode bits.
		return nil
	}
	if ev, ok := writableEvidence(o.Listing); ok {
		return one(finding.IDAnonymousWrite, basisListing, ev)
	}
	return nil
}
