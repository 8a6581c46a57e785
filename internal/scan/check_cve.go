package scan

import (
	"fmt"

	"github.com/port21/port21/internal/finding"
	"github.com/port21/port21/internal/ftp"
	"github.com/port21/port21/internal/scan/cve"
	"github.com/port21/port21/internal/scan/fingerprint"
)

// judgeCVE returns the dataset's entries for the product and version
// found. An entry with a safe probe is reported only when the probe
// confirmed it (mod_copy: SITE CPFR answered 350); the others on the
// version, marked banner when the greeting alone named the product.
func judgeCVE(o *Observation, db *cve.DB, t finding.Target) []finding.Finding {
	var out []finding.Finding
	banner := bannerEvidence(o.Banner)
	if o.ModCopy != nil && o.ModCopy.Code == ftp.CodePendingMore {
		for _, e := range db.Probes(fingerprint.ProFTPD) {
			if e.Probe == "proftpd-mod_copy" && (o.Product.Version == "" || e.Affects(o.Product.Version)) {
				out = append(out, cveFinding(e, t, basisConfirmed, []finding.Evidence{banner, o.ModCopy.Evidence}))
			}
		}
	}
	if o.Product.Product == "" {
		return out
	}
	for _, e := range db.Match(o.Product.Product, o.Product.Version) {
		if e.Probe == "proftpd-mod_copy" {
			continue // the probe ran (above) and decided
		}
		ev := []finding.Evidence{banner}
		basis := basisVersion
		ev[0].Note = fmt.Sprintf("%s %s identified with confidence %d; distributions backport fixes without changing the version", o.Product.Product, o.Product.Version, o.Product.Confidence)
		if o.Product.BannerOnly {
			basis = basisBanner
			ev[0].Note = fmt.Sprintf("%s %s named by the greeting alone, which anyone can set: no other reply matched the product", o.Product.Product, o.Product.Version)
		}
		if e.Probe == "vsftpd-backdoor-port" && o.BackdoorPort != "" {
			basis = basisConfirmed
			ev = append(ev, finding.Evidence{Note: o.BackdoorPort})
		}
		out = append(out, cveFinding(e, t, basis, ev))
	}
	return out
}
