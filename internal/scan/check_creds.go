package scan

import "github.com/port21/port21/internal/finding"

// checkDefaultCreds: a well-known login worked (--intrusive).
func checkDefaultCreds(o *Observation) []hit {
	if len(o.DefaultCreds) == 0 {
		return nil
	}
	return one(finding.IDDefaultCreds, basisConfirmed, o.DefaultCreds...)
}
