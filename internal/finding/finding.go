// Package finding is the one model of a security finding that every part of
// port21 reports in: `port21 scan` for a service on the network, `port21
// local` for a listener or a configuration file on this machine. One model
// means one set of ids, one JSON shape and one set of report formats.
//
// A finding is only useful if someone can act on it, so every finding
// carries its evidence (what was exchanged or read, verbatim) and a fix (the
// configuration lines for the product that was found, or the firewall
// command when the fix is on the network side).
package finding

import (
	"fmt"
	"strings"
)

// Severity orders findings. The zero value is Info.
type Severity int

// Severities, lowest first.
const (
	Info Severity = iota
	Low
	Medium
	High
	Critical
)

var severityNames = [...]string{"info", "low", "medium", "high", "critical"}

func (s Severity) String() string {
	if s < Info || s > Critical {
		return fmt.Sprintf("severity(%d)", int(s))
	}
	return severityNames[s]
}

// ParseSeverity parses a severity name, case-insensitively.
func ParseSeverity(name string) (Severity, error) {
	for i, n := range severityNames {
		if strings.EqualFold(strings.TrimSpace(name), n) {
			return Severity(i), nil
		}
	}
	return Info, fmt.Errorf("unknown severity %q (want info, low, medium, high or critical)", name)
}

// MarshalText writes the severity's name, so JSON carries "high", not 3.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText parses a severity name.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Finding is one problem found on one target.
type Finding struct {
	// ID is stable across releases: "cleartext-login", "anonymous-login",
	// "CVE-2015-3306". Reports, suppressions and CI gates key on it.
	ID       string   `json:"id"`
	Severity Severity `json:"severity"`
	Title    string   `json:"title"`
	// Detail explains the risk in a sentence or two.
	Detail string `json:"detail,omitempty"`
	Target Target `json:"target"`
	// Basis says how sure the finding is: "confirmed" (a probe showed it),
	// "version" (matched on a product version, which distribution backports
	// can make wrong) or "config" (read from a configuration file).
	Basis      string     `json:"basis,omitempty"`
	Evidence   []Evidence `json:"evidence,omitempty"`
	Fix        Fix        `json:"fix"`
	References []string   `json:"references,omitempty"`
}

// Target is where a finding was made: a network service, or a file and
// line on this machine.
type Target struct {
	Host    string `json:"host,omitempty"`    // as given (name or address)
	Address string `json:"address,omitempty"` // the IP address connected to
	Port    int    `json:"port,omitempty"`
	File    string `json:"file,omitempty"`
	Line    int    `json:"line,omitempty"`
}

func (t Target) String() string {
	switch {
	case t.File != "" && t.Line > 0:
		return fmt.Sprintf("%s:%d", t.File, t.Line)
	case t.File != "":
		return t.File
	}
	host := t.Address
	if host == "" {
		host = t.Host
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if t.Port > 0 {
		return fmt.Sprintf("%s:%d", host, t.Port)
	}
	return host
}

// Evidence is one verbatim exchange or observation. Secrets (passwords) are
// never recorded: a probe that sent one records "PASS ****".
type Evidence struct {
	Sent     string `json:"sent,omitempty"`
	Received string `json:"received,omitempty"`
	Note     string `json:"note,omitempty"`
}

// Fix says how to make the finding go away.
type Fix struct {
	Summary string `json:"summary"`
	// Config maps a product ("vsftpd", "proftpd", "pure-ftpd", "port21")
	// to the configuration lines that fix the finding on it.
	Config map[string][]string `json:"config,omitempty"`
	// Firewall is the `port21 firewall` command, when the fix is network-side.
	Firewall string `json:"firewall,omitempty"`
}

// Service is what a scan learned about an FTP service besides its findings.
type Service struct {
	Product string `json:"product,omitempty"` // "vsftpd", "ProFTPD", ...
	Version string `json:"version,omitempty"`
	// VersionRange narrows a version the service does not print, from
	// replies that changed in a known release ("2.0.8 or later").
	VersionRange string `json:"version_range,omitempty"`
	Confidence   int    `json:"confidence,omitempty"` // 0-100
	// Clues say what the product and confidence rest on: which reply
	// matched what ("banner matches ...", "user matches ..."), and whether
	// the greeting alone named the product.
	Clues    []string `json:"clues,omitempty"`
	Banner   string   `json:"banner,omitempty"`
	TLS      string   `json:"tls,omitempty"` // "explicit", "implicit" or ""
	Features []string `json:"features,omitempty"`
	// TLSSuites maps a protocol version ("TLS 1.2") to the cipher suites
	// the service accepted, in the order it chose them; only when the scan
	// enumerated them (port21 scan --tls-ciphers).
	TLSSuites map[string][]string `json:"tls_suites,omitempty"`
	// TLSGroups are the key-exchange groups the service accepted, each
	// offered alone; only with port21 scan --tls-ciphers.
	TLSGroups []string `json:"tls_groups,omitempty"`
	// Certificate describes the leaf certificate the service presented.
	Certificate *Certificate `json:"certificate,omitempty"`
}

// Certificate is what a report says about a service's leaf certificate,
// as testssl.sh does; the judgements are findings.
type Certificate struct {
	Subject string `json:"subject"`
	Issuer  string `json:"issuer"`
	// KeyType is "RSA", "ECDSA", "Ed25519" or "DSA"; KeyBits its size.
	KeyType            string `json:"key_type"`
	KeyBits            int    `json:"key_bits,omitempty"`
	SignatureAlgorithm string `json:"signature_algorithm"`
	NotBefore          string `json:"not_before"` // RFC 3339
	NotAfter           string `json:"not_after"`
	// Chain is how many certificates the service sent, the leaf included.
	Chain int `json:"chain"`
}

// Less orders findings most severe first, then by id, for stable reports.
func Less(a, b Finding) bool {
	if a.Severity != b.Severity {
		return a.Severity > b.Severity
	}
	if a.ID != b.ID {
		return a.ID < b.ID
	}
	return a.Target.String() < b.Target.String()
}
