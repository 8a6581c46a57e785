package confaudit

import (
	"strings"

	"github.com/port21/port21/internal/finding"
)

// Finding ids of configuration problems only; the catalog in
// internal/finding says what each means, as it does for the ids port21 scan
// also reports (the same problem seen in the file instead of on the wire).
const (
	IDNoChroot          = finding.IDNoChroot
	IDWritableChroot    = finding.IDWritableChroot
	IDNoPassiveRange    = finding.IDNoPassiveRange
	IDLoggingOff        = finding.IDLoggingOff
	IDNoLoginBan        = finding.IDNoLoginBan
	IDTruncationAllowed = finding.IDTruncationAllowed
)

// newFinding builds a finding for file:line from the catalog; line 0 means
// the directive is absent and the built-in default applies. evidence is the
// line as read. fix, when given, are the lines for this very file (they
// replace the catalog's generic ones for prod).
func newFinding(id string, prod Product, file string, line int, evidence string, fix ...string) finding.Finding {
	f := finding.New(id, finding.Target{File: file, Line: line}, string(prod), "config", nil)
	if evidence != "" {
		f.Evidence = []finding.Evidence{{Note: evidence}}
	}
	if len(fix) > 0 {
		f.Fix.Config = map[string][]string{string(prod): fix}
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
