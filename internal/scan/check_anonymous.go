package scan

import (
	"fmt"
	"strings"

	"github.com/port21/port21/internal/finding"
)

// checkAnonymousLogin: the anonymous login worked, in clear text or over
// TLS. The evidence names the world-writable directories of the listing,
// as nmap's ftp-anon does.
func checkAnonymousLogin(o *Observation) []hit {
	var evs []finding.Evidence
	switch {
	case o.Anonymous.OK:
		evs = o.Anonymous.Evidence
	case o.AnonymousTLS.OK:
		evs = o.AnonymousTLS.Evidence
	default:
		return nil
	}
	evs = append([]finding.Evidence(nil), evs...)
	if ev, ok := writableEvidence(o.Listing); ok {
		evs = append(evs, ev)
	}
	return one(finding.IDAnonymousLogin, basisConfirmed, evs...)
}

// writableEvidence describes the directories of a listing whose mode bits
// let anyone write.
func writableEvidence(entries []dirEntry) (finding.Evidence, bool) {
	var names, lines []string
	for _, e := range entries {
		if e.dir() && e.worldWritable() {
			names = append(names, e.name+"/")
			lines = append(lines, e.line)
		}
	}
	if len(names) == 0 {
		return finding.Evidence{}, false
	}
	return finding.Evidence{
		Sent:     "LIST",
		Received: clean(strings.Join(lines, "\n"), maxEvidence),
		Note: fmt.Sprintf("the anonymous listing shows world-writable directories: %s (read from the mode bits; nothing was written)",
			strings.Join(names, ", ")),
	}, true
}
