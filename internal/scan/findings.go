package scan

import (
	"maps"
	"strings"

	"github.com/port21/port21/internal/finding"
	"github.com/port21/port21/internal/scan/cve"
	"github.com/port21/port21/internal/scan/fingerprint"
)

// Finding ids only the scanner reports. They are stable: reports,
// suppressions and CI gates key on them. Those port21 local also reports are
// finding's shared ids (finding.IDNoTLS ...).
const (
	IDTLSCertExpired   = "tls-cert-expired"
	IDTLSCertUntrusted = "tls-cert-untrusted"
	IDTLSCertName      = "tls-cert-name-mismatch"
	IDTLSWeakKey       = "tls-weak-key"
	IDPASVLeak         = "pasv-address-leak"
	IDDefaultCreds     = "default-credentials"
	IDALPACA           = "tls-alpaca"
)

// Bases of a finding (finding.Finding.Basis).
const (
	basisConfirmed = "confirmed"
	basisVersion   = "version"
)

// Product keys of finding.Fix.Config.
const (
	keyVsftpd   = "vsftpd"
	keyProftpd  = "proftpd"
	keyPureftpd = "pure-ftpd"
	keyPort21   = "port21"
)

// firewallRestrict is the network-side fix for a service that must not be
// reachable by everyone; firewallBlock for one that must not be reachable at
// all until it is fixed.
const (
	firewallRestrict = "port21 firewall apply --allow TRUSTED-CIDR --confirm 60s"
	firewallBlock    = "port21 firewall apply --block --confirm 60s"
)

// check describes one finding id: everything but the evidence. Ids shared
// with port21 local take their severity and title from finding.Shared.
type check struct {
	severity finding.Severity
	title    string
	detail   string
	fix      string
	config   map[string][]string
	firewall string
	refs     []string
}

// checks is the catalog of the scanner's own findings. It is never modified.
var checks = map[string]check{
	finding.IDNoTLS: {
		detail: "The service does not offer AUTH TLS, so every password, command and file crosses the network in clear text, readable and changeable by anyone on the path.",
		fix:    "Enable explicit FTPS (AUTH TLS) and require it for logins and data, or replace the service with one that does.",
		config: map[string][]string{
			keyVsftpd:   {"ssl_enable=YES", "rsa_cert_file=/etc/ssl/certs/ftp.pem", "rsa_private_key_file=/etc/ssl/private/ftp.key", "force_local_logins_ssl=YES", "force_local_data_ssl=YES"},
			keyProftpd:  {"<IfModule mod_tls.c>", "  TLSEngine on", "  TLSRequired on", "  TLSProtocol TLSv1.2 TLSv1.3", "  TLSRSACertificateFile /etc/ssl/certs/ftp.pem", "  TLSRSACertificateKeyFile /etc/ssl/private/ftp.key", "</IfModule>"},
			keyPureftpd: {"TLS 2", "CertFile /etc/ssl/private/pure-ftpd.pem"},
			keyPort21:   {"# port21 serve requires TLS by default; remove any plaintext exception"},
		},
		firewall: firewallRestrict,
		refs:     []string{"https://www.rfc-editor.org/rfc/rfc4217"},
	},
	finding.IDCleartextLogin: {
		detail: "The service asks for a password on an unencrypted connection: any client that does not insist on TLS sends the password in clear text.",
		fix:    "Refuse USER and PASS until AUTH TLS has succeeded.",
		config: map[string][]string{
			keyVsftpd:   {"ssl_enable=YES", "force_local_logins_ssl=YES", "force_anon_logins_ssl=YES"},
			keyProftpd:  {"<IfModule mod_tls.c>", "  TLSEngine on", "  TLSRequired auth+data", "</IfModule>"},
			keyPureftpd: {"TLS 2"},
			keyPort21:   {"# port21 refuses logins before TLS by default: remove cleartext exceptions from the config"},
		},
		refs: []string{"https://www.rfc-editor.org/rfc/rfc4217#section-4"},
	},
	finding.IDAnonymousLogin: {
		detail: "Anyone can log in as anonymous and read whatever the anonymous root holds; check that this is intended and that nothing sensitive is there.",
		fix:    "Disable anonymous access unless the service is a deliberate public mirror.",
		config: map[string][]string{
			keyVsftpd:   {"anonymous_enable=NO"},
			keyProftpd:  {"# remove or comment out the <Anonymous ~ftp> ... </Anonymous> section"},
			keyPureftpd: {"NoAnonymous yes"},
			keyPort21:   {"# port21 has no anonymous access"},
		},
		firewall: firewallRestrict,
		refs:     []string{"https://nmap.org/nsedoc/scripts/ftp-anon.html"},
	},
	finding.IDAnonymousWrite: {
		detail: "An anonymous login could store a file (the scanner deleted it again). Anonymous write access turns the server into free storage for malware and stolen data.",
		fix:    "Deny anonymous uploads; if an upload drop box is needed, make it write-only and outside any download area.",
		config: map[string][]string{
			keyVsftpd:   {"anon_upload_enable=NO", "anon_mkdir_write_enable=NO", "anon_other_write_enable=NO"},
			keyProftpd:  {"<Anonymous ~ftp>", "  <Limit WRITE>", "    DenyAll", "  </Limit>", "</Anonymous>"},
			keyPureftpd: {"AnonymousCantUpload yes"},
		},
		firewall: firewallRestrict,
	},
	finding.IDTLSLegacyProtocol: {
		detail: "The service completes handshakes with TLS 1.0 or 1.1, which RFC 8996 deprecates; clients that can be pushed down to them lose modern protections.",
		fix:    "Accept TLS 1.2 and 1.3 only.",
		config: map[string][]string{
			keyVsftpd:   {"ssl_sslv2=NO", "ssl_sslv3=NO", "ssl_tlsv1=YES", "ssl_ciphers=HIGH:!aNULL:!MD5:!RC4:!3DES", "# and MinProtocol = TLSv1.2 in the OpenSSL configuration vsftpd uses"},
			keyProftpd:  {"TLSProtocol TLSv1.2 TLSv1.3"},
			keyPureftpd: {"TLSCipherSuite HIGH:!aNULL:!MD5:!RC4:!3DES:!TLSv1:!TLSv1.1"},
			keyPort21:   {"# port21 accepts TLS 1.2 and later only"},
		},
		refs: []string{"https://www.rfc-editor.org/rfc/rfc8996"},
	},
	finding.IDTLSWeakCipher: {
		detail: "The service agrees to an RC4 or 3DES cipher suite, whose weaknesses let an attacker recover traffic.",
		fix:    "Allow only AEAD cipher suites with forward secrecy.",
		config: map[string][]string{
			keyVsftpd:   {"ssl_ciphers=HIGH:!aNULL:!MD5:!RC4:!3DES"},
			keyProftpd:  {"TLSCipherSuite HIGH:!aNULL:!MD5:!RC4:!3DES"},
			keyPureftpd: {"TLSCipherSuite HIGH:!aNULL:!MD5:!RC4:!3DES"},
			keyPort21:   {"# port21 uses Go's default cipher suites"},
		},
		refs: []string{"https://www.rfc-editor.org/rfc/rfc7465", "https://sweet32.info/"},
	},
	IDTLSCertExpired: {
		severity: finding.Medium,
		title:    "TLS certificate expired or not yet valid",
		detail:   "Clients that check certificates refuse the connection; clients that do not check cannot tell the server from an impostor.",
		fix:      "Install a current certificate and renew it automatically.",
		config: map[string][]string{
			keyVsftpd:   {"rsa_cert_file=/etc/ssl/certs/ftp.pem", "rsa_private_key_file=/etc/ssl/private/ftp.key"},
			keyProftpd:  {"TLSRSACertificateFile /etc/ssl/certs/ftp.pem", "TLSRSACertificateKeyFile /etc/ssl/private/ftp.key"},
			keyPureftpd: {"CertFile /etc/ssl/private/pure-ftpd.pem"},
			keyPort21:   {"cert = \"/etc/port21/ftp.pem\"", "key = \"/etc/port21/ftp.key\""},
		},
	},
	IDTLSCertUntrusted: {
		severity: finding.Low,
		title:    "TLS certificate not trusted",
		detail:   "The certificate does not chain to a trusted root (self-signed or a private CA), so clients must pin it or trust it blindly; blind trust allows a man in the middle.",
		fix:      "Use a certificate from a CA your clients trust, or distribute the private CA or the certificate's key pin to every client.",
		config: map[string][]string{
			keyVsftpd:   {"rsa_cert_file=/etc/ssl/certs/ftp.pem", "rsa_private_key_file=/etc/ssl/private/ftp.key"},
			keyProftpd:  {"TLSRSACertificateFile /etc/ssl/certs/ftp.pem", "TLSRSACertificateKeyFile /etc/ssl/private/ftp.key", "TLSCertificateChainFile /etc/ssl/certs/ftp-chain.pem"},
			keyPureftpd: {"CertFile /etc/ssl/private/pure-ftpd.pem"},
			keyPort21:   {"cert = \"/etc/port21/ftp.pem\"", "key = \"/etc/port21/ftp.key\"", "# or keep the generated certificate and pin its key: see the curl line port21 serve prints"},
		},
	},
	IDTLSCertName: {
		severity: finding.Low,
		title:    "TLS certificate does not match the host name",
		detail:   "The certificate names neither the host name nor the address the service was reached by, so clients that check names refuse it and clients that do not cannot detect an impostor.",
		fix:      "Use a certificate whose subject alternative names include the name clients connect to.",
		config: map[string][]string{
			keyVsftpd:   {"rsa_cert_file=/etc/ssl/certs/ftp.pem"},
			keyProftpd:  {"TLSRSACertificateFile /etc/ssl/certs/ftp.pem"},
			keyPureftpd: {"CertFile /etc/ssl/private/pure-ftpd.pem"},
			keyPort21:   {"cert = \"/etc/port21/ftp.pem\""},
		},
	},
	IDTLSWeakKey: {
		severity: finding.Medium,
		title:    "Weak TLS certificate key",
		detail:   "The certificate's key is too short (RSA under 2048 bits, or an elliptic curve under 256 bits) to resist a determined attacker.",
		fix:      "Issue a new certificate with an RSA 3072-bit or ECDSA P-256 key.",
		config: map[string][]string{
			keyVsftpd:   {"rsa_cert_file=/etc/ssl/certs/ftp.pem", "rsa_private_key_file=/etc/ssl/private/ftp.key"},
			keyProftpd:  {"TLSECCertificateFile /etc/ssl/certs/ftp-ec.pem", "TLSECCertificateKeyFile /etc/ssl/private/ftp-ec.key"},
			keyPureftpd: {"CertFile /etc/ssl/private/pure-ftpd.pem"},
			keyPort21:   {"# port21 generates ECDSA P-256 keys"},
		},
	},
	finding.IDDataCleartext: {
		detail: "After logging in over TLS, a client may choose PROT C and move files in clear text.",
		fix:    "Require PROT P for every data connection.",
		config: map[string][]string{
			keyVsftpd:   {"force_local_data_ssl=YES", "force_anon_data_ssl=YES"},
			keyProftpd:  {"TLSRequired on"},
			keyPureftpd: {"TLS 3"},
			keyPort21:   {"# port21 refuses PROT C by default"},
		},
		refs: []string{"https://www.rfc-editor.org/rfc/rfc4217#section-9"},
	},
	finding.IDFTPBounce: {
		detail: "The service agreed to open a data connection to an address other than the client's, so it can be used to scan or attack other hosts from its own network position.",
		fix:    "Allow PORT and EPRT only to the client's own address, or disable active mode.",
		config: map[string][]string{
			keyVsftpd:   {"port_promiscuous=NO"},
			keyProftpd:  {"AllowForeignAddress off"},
			keyPureftpd: {"AllowUserFXP no", "AllowAnonymousFXP no"},
			keyPort21:   {"active-mode = false"},
		},
		refs: []string{"https://www.rfc-editor.org/rfc/rfc2577", "https://nmap.org/nsedoc/scripts/ftp-bounce.html"},
	},
	IDPASVLeak: {
		severity: finding.Low,
		title:    "PASV reply names another address",
		detail:   "The passive-mode reply names an address other than the one the service was reached at: an internal address leaks the network layout, and clients that follow it fail or connect elsewhere. The scanner never connects to it.",
		fix:      "Announce the public address in passive replies, and prefer EPSV.",
		config: map[string][]string{
			keyVsftpd:   {"pasv_address=PUBLIC-ADDRESS"},
			keyProftpd:  {"MasqueradeAddress PUBLIC-ADDRESS"},
			keyPureftpd: {"ForcePassiveIP PUBLIC-ADDRESS"},
			keyPort21:   {"public-host = \"PUBLIC-ADDRESS\""},
		},
	},
	finding.IDVersionDisclosed: {
		detail: "The greeting names the product and version, which lets attackers pick exploits without probing.",
		fix:    "Use a greeting that names neither product nor version (and keep the server patched: hiding the version is not a fix).",
		config: map[string][]string{
			keyVsftpd:  {"ftpd_banner=FTP server ready."},
			keyProftpd: {"ServerIdent on \"FTP server ready.\""},
		},
	},
	IDDefaultCreds: {
		severity: finding.Critical,
		title:    "Default or well-known credentials accepted",
		detail:   "The service accepted a login from a short list of well-known user names and passwords.",
		fix:      "Change the password of the account, or remove it.",
		firewall: firewallRestrict,
	},
	IDALPACA: {
		severity: finding.Low,
		title:    "TLS accepts a foreign ALPN protocol (ALPACA)",
		detail:   "The TLS handshake after AUTH TLS accepted the ALPN protocol http/1.1, so a man in the middle can redirect a browser's HTTPS connection to this service and use it in cross-protocol attacks.",
		fix:      "Refuse ALPN values other than ftp, or upgrade to a release that does.",
		refs:     []string{"https://alpaca-attack.com/", "https://nvd.nist.gov/vuln/detail/CVE-2021-3618"},
	},
}

// productKey maps a fingerprinted product to its key in Fix.Config.
func productKey(product string) string {
	switch product {
	case fingerprint.VsFTPd:
		return keyVsftpd
	case fingerprint.ProFTPD:
		return keyProftpd
	case fingerprint.PureFTPd:
		return keyPureftpd
	case fingerprint.Port21:
		return keyPort21
	}
	return ""
}

// configFor returns the configuration lines for the product found: only its
// own when it is one port21 knows, all of them when the product is unknown
// (one of them may be it), none for a product with no configuration lines.
func configFor(all map[string][]string, product string) map[string][]string {
	if len(all) == 0 {
		return nil
	}
	if product == "" {
		return maps.Clone(all)
	}
	if lines, ok := all[productKey(product)]; ok {
		return map[string][]string{productKey(product): lines}
	}
	return nil
}

// newFinding builds the finding id for the target.
func newFinding(id string, t finding.Target, product, basis string, ev []finding.Evidence) finding.Finding {
	c := checks[id]
	if m, ok := finding.Shared(id); ok {
		c.severity, c.title = m.Severity, m.Title
	}
	return finding.Finding{
		ID:         id,
		Severity:   c.severity,
		Title:      c.title,
		Detail:     c.detail,
		Target:     t,
		Basis:      basis,
		Evidence:   ev,
		Fix:        finding.Fix{Summary: c.fix, Config: configFor(c.config, product), Firewall: c.firewall},
		References: c.refs,
	}
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
		f.Fix.Firewall = firewallBlock
	}
	if strings.Contains(e.Fix, "mod_copy") {
		f.Fix.Config = map[string][]string{keyProftpd: {"# in /etc/proftpd/modules.conf, remove:", "LoadModule mod_copy.c"}}
	}
	return f
}
