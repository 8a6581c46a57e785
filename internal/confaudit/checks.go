package confaudit

import (
	"strings"

	"github.com/port21/port21/internal/finding"
)

// Finding ids of configuration problems only; those port21 scan also
// reports are finding's shared ids (finding.IDNoTLS ...), the same problem
// seen in the file instead of on the wire.
const (
	IDNoChroot          = "no-chroot"
	IDWritableChroot    = "writable-chroot"
	IDNoPassiveRange    = "no-passive-range"
	IDLoggingOff        = "logging-off"
	IDNoLoginBan        = "no-login-ban"
	IDTruncationAllowed = "tls-truncation-allowed"
)

// check is one configuration finding. Ids shared with port21 scan take
// their severity and title from finding.Shared and leave them empty here.
type check struct {
	sev           finding.Severity
	title, detail string
	summary       string
}

// shared is a check for a shared id: detail and fix summary only.
func shared(detail, summary string) check { return check{detail: detail, summary: summary} }

var checks = map[string]check{
	finding.IDAnonymousLogin: shared("Anyone can log in without a password and read what the anonymous account can see.",
		"Turn anonymous logins off unless the server is meant to publish files to everyone."),
	finding.IDAnonymousWrite: shared("Anyone can store files on the server: it becomes a free drop box for malware and stolen data.",
		"Deny writes to anonymous users."),
	finding.IDNoTLS: shared("Passwords and files cross the network in clear text.",
		"Turn TLS on (explicit FTPS, AUTH TLS) with a certificate."),
	finding.IDCleartextLogin: shared("TLS is available but not required: a client can send its password in clear text.",
		"Require TLS for every login."),
	finding.IDDataCleartext: shared("Files and listings may cross the network unencrypted even when the login was protected.",
		"Require TLS on data connections too (PROT P)."),
	finding.IDTLSLegacyProtocol: shared("SSLv2, SSLv3, TLS 1.0 and TLS 1.1 have known weaknesses and are deprecated (RFC 8996).",
		"Allow TLS 1.2 and 1.3 only."),
	finding.IDTLSWeakCipher: shared("RC4, DES, 3DES, NULL, EXPORT or anonymous suites can be forced by an attacker in the path.",
		"Allow only strong (AEAD) cipher suites."),
	finding.IDFTPBounce: shared("The server will open data connections to any address a client names (PORT), so it can be used to scan or attack third parties from inside the network.",
		"Only allow data connections to the client's own address."),
	finding.IDVersionDisclosed: shared("The greeting tells every visitor which version to look up exploits for.",
		"Set a greeting without the product version."),
	IDNoChroot: {finding.Medium, "Users are not confined to their home directory",
		"A logged-in user can browse the whole file system the account can read (/etc, other homes).",
		"Confine users to their home directory (chroot)."},
	IDWritableChroot: {finding.Medium, "Writable chroot allowed",
		"A user who can write to the root of the chroot can plant files (/etc, lib) that a privileged process inside it may trust.",
		"Make the chroot root read-only and give users a writable subdirectory."},
	IDNoPassiveRange: {finding.Low, "No fixed passive port range",
		"Passive data connections use any high port, so the firewall must either open them all or rely on the FTP helper, which cannot read TLS-protected control connections.",
		"Set a passive port range and open only it, to the networks that need it (port21 firewall)."},
	IDLoggingOff: {finding.Low, "Transfer logging off",
		"Uploads, downloads and deletions leave no trace to investigate an incident with.",
		"Turn transfer logging on."},
	IDNoLoginBan: {finding.Low, "Failed logins are never banned",
		"Password guessing can go on without limit.",
		"Ban addresses after a few failed logins."},
	IDTruncationAllowed: {finding.Low, "TLS uploads may be truncated",
		"An upload that ends without a TLS close_notify is accepted, so a forged TCP FIN can cut a file short unnoticed.",
		"Require close_notify at the end of TLS uploads."},
}

// newFinding builds a finding for file:line; line 0 means the directive is
// absent and the built-in default applies. evidence is the line as read.
func newFinding(id string, prod Product, file string, line int, evidence string, fix ...string) finding.Finding {
	c := checks[id]
	if m, ok := finding.Shared(id); ok {
		c.sev, c.title = m.Severity, m.Title
	}
	f := finding.Finding{
		ID:       id,
		Severity: c.sev,
		Title:    c.title,
		Detail:   c.detail,
		Target:   finding.Target{File: file, Line: line},
		Basis:    "config",
		Fix:      finding.Fix{Summary: c.summary},
	}
	if evidence != "" {
		f.Evidence = []finding.Evidence{{Note: evidence}}
	}
	if len(fix) > 0 {
		f.Fix.Config = map[string][]string{string(prod): fix}
	}
	if id == IDNoPassiveRange {
		f.Fix.Firewall = "port21 firewall plan --allow CIDR --passive-ports LOW-HIGH"
	}
	return f
}

// weakCipherTokens are cipher-string elements that enable weak suites
// unless negated.
var weakCipherTokens = []string{"RC4", "DES", "3DES", "NULL", "EXPORT", "EXP", "ANULL", "ADH", "AECDH", "MD5", "LOW", "ALL", "COMPLEMENTOFALL", "SSLV3"}

// weakCiphers reports whether an OpenSSL cipher string enables a weak suite
// (a token containing a weak element and not removed with '!' or '-').
func weakCiphers(s string) bool {
	for _, tok := range strings.FieldsFunc(s, func(r rune) bool { return r == ':' || r == ',' || r == ' ' }) {
		if strings.HasPrefix(tok, "!") || strings.HasPrefix(tok, "-") {
			continue
		}
		tok = strings.TrimPrefix(strings.TrimPrefix(tok, "+"), "@")
		for _, part := range strings.Split(strings.ToUpper(tok), "+") {
			for _, w := range weakCipherTokens {
				if part == w || strings.HasPrefix(part, w+"-") || strings.Contains(part, "-"+w+"-") || strings.HasSuffix(part, "-"+w) || strings.Contains(part, "DES-CBC") {
					return true
				}
			}
		}
	}
	return false
}

// namesVersion reports whether a greeting set in a configuration names a
// version number ("3.0.3", "1.3.8rc1", "v2.1"): `port21 scan` reports
// version-disclosed when the greeting holds the version it fingerprinted.
// Dotted quads (IPv4 addresses) and host names are not versions.
func namesVersion(greeting string) bool {
	toks := strings.FieldsFunc(greeting, func(r rune) bool {
		return !(r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	})
	for _, tok := range toks {
		tok = strings.Trim(tok, ".")
		tok = strings.TrimLeft(tok, "vV")
		parts := strings.Split(tok, ".")
		if len(parts) < 2 || len(parts) > 3 || !allDigits(parts[0]) {
			continue
		}
		ok := true
		for _, p := range parts[1:] {
			if p == "" || p[0] < '0' || p[0] > '9' {
				ok = false
			}
		}
		if ok {
			return true
		}
	}
	return false
}

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}
