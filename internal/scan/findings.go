package scan

import (
	"strings"

	"github.com/port21/port21/internal/finding"
	"github.com/port21/port21/internal/scan/cve"
	"github.com/port21/port21/internal/scan/fingerprint"
)

// Finding ids, kept here for the scanner's callers; the catalog in
// internal/finding says what each means.
const (
	IDTLSCertExpired   = finding.IDTLSCertExpired
	IDTLSCertUntrusted = finding.IDTLSCertUntrusted
	IDTLSCertName      = finding.IDTLSCertName
	IDTLSWeakKey       = finding.IDTLSWeakKey
	IDPASVLeak         = finding.IDPASVLeak
	IDDefaultCreds     = finding.IDDefaultCreds
	IDALPACA           = finding.IDALPACA
)

// Bases of a finding (finding.Finding.Basis).
const (
	basisConfirmed = "confirmed"
	basisVersion   = "version"
	// basisBanner is a version match on the greeting's text alone, which
	// anyone can set: nothing else the service said backs the product up.
	basisBanner = "banner"
)

// fixProduct maps a fingerprinted product to its key in finding.Fix.Config;
// "" for a product the catalog has no lines for, which then gets every
// product's.
func fixProduct(product string) string {
	switch product {
	case fingerprint.VsFTPd:
		return finding.ProductVsftpd
	case fingerprint.ProFTPD:
		return finding.ProductProFTPD
	case fingerprint.PureFTPd:
		return finding.ProductPureFTPd
	case fingerprint.Port21:
		return finding.ProductPort21
	}
	if strings.Contains(strings.ToLower(product), "microsoft") || strings.Contains(strings.ToLower(product), "iis") {
		return finding.ProductIIS
	}
	return ""
}

// cveFinding builds the finding for a dataset entry.
func cveFinding(e cve.Entry, t finding.Target, basis string, ev []finding.Evidence) finding.Finding {
	f := finding.Finding{
		ID:         e.ID,
		Severity:   e.Severity,
		Title:      e.Title,
		Detail:     e.Detail,
		Target:     t,
		Basis:      basis,
		Evidence:   ev,
		Fix:        finding.Fix{Summary: e.Fix},
		References: e.References,
	}
	if e.Severity >= finding.High {
		f.Fix.Firewall = finding.FirewallBlock
	}
	if strings.Contains(e.Fix, "mod_copy") {
		f.Fix.Config = map[string][]string{finding.ProductProFTPD: {"# in /etc/proftpd/modules.conf, remove:", "LoadModule mod_copy.c"}}
	}
	return f
}
