package scan

import (
	"strings"

	"github.com/port21/port21/internal/finding"
	"github.com/port21/port21/internal/ftp"
	"github.com/port21/port21/internal/scan/fingerprint"
)

// checkVersionDisclosed: the greeting holds the version fingerprinted.
func checkVersionDisclosed(o *Observation) []hit {
	if !fingerprint.VersionInBanner(o.Product, o.Banner) {
		return nil
	}
	return one(finding.IDVersionDisclosed, basisConfirmed, bannerEvidence(o.Banner))
}

// bannerEvidence is the greeting as received.
func bannerEvidence(banner string) finding.Evidence {
	return finding.Evidence{Received: replyText(ftp.Reply{Code: 220, Lines: strings.Split(banner, "\n")})}
}
