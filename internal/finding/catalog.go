package finding

import (
	"maps"
	"slices"
)

// Products a fix can name: the keys of Fix.Config.
const (
	ProductVsftpd   = "vsftpd"
	ProductProFTPD  = "proftpd"
	ProductPureFTPd = "pure-ftpd"
	ProductPort21   = "port21"
	ProductIIS      = "iis"
)

// Products lists every product a fix can name.
func Products() []string {
	return []string{ProductVsftpd, ProductProFTPD, ProductPureFTPd, ProductPort21, ProductIIS}
}

// Finding ids of the catalog. They are stable: reports, suppressions and
// CI gates key on them. CVE findings are named by their CVE id and described
// by the scanner's dataset, not here.
const (
	IDNoTLS              = "no-tls"
	IDCleartextLogin     = "cleartext-login"
	IDAnonymousLogin     = "anonymous-login"
	IDAnonymousWrite     = "anonymous-write"
	IDDataCleartext      = "data-cleartext-allowed"
	IDTLSLegacyProtocol  = "tls-legacy-protocol"
	IDTLSWeakCipher      = "tls-weak-cipher"
	IDFTPBounce          = "ftp-bounce"
	IDVersionDisclosed   = "version-disclosed"
	IDTLSCertExpired     = "tls-cert-expired"
	IDTLSCertUntrusted   = "tls-cert-untrusted"
	IDTLSCertName        = "tls-cert-name-mismatch"
	IDTLSWeakKey         = "tls-weak-key"
	IDTLSCertExpiring    = "tls-cert-expiring"
	IDTLSWeakSignature   = "tls-cert-weak-signature"
	IDTLSChainIncomplete = "tls-cert-chain-incomplete"
	IDTLSNoFS            = "tls-no-forward-secrecy"
	IDTLSCBCCipher       = "tls-cbc-cipher"
	IDPASVLeak           = "pasv-address-leak"
	IDDefaultCreds       = "default-credentials"
	IDALPACA             = "tls-alpaca"
	IDNoChroot           = "no-chroot"
	IDWritableChroot     = "writable-chroot"
	IDNoPassiveRange     = "no-passive-range"
	IDLoggingOff         = "logging-off"
	IDNoLoginBan         = "no-login-ban"
	IDTruncationAllowed  = "tls-truncation-allowed"
	IDFTPListener        = "ftp-listener"
	IDFirewallOpen       = "firewall-open"
)

// Firewall commands of fixes that are on the network side.
const (
	FirewallRestrict = "port21 firewall apply --allow TRUSTED-CIDR --confirm 60s"
	FirewallBlock    = "port21 firewall apply --block --confirm 60s"
)

// Entry is everything a finding id means, wherever it is found: a scan
// report and a local one say the same severity, title, description and fix.
type Entry struct {
	ID          string
	Severity    Severity
	Title       string
	Description string
	References  []string
	// Fix is the summary, the configuration lines per product (Products)
	// and the firewall command when the fix is on the network side.
	Fix Fix
}

// iisSite is how the IIS fixes name the site; appcmd needs the real name.
const iisSite = `%windir%\system32\inetsrv\appcmd set site "FTP-SITE-NAME"`

// pureConf is Debian's way of setting a Pure-FTPd option: one file per
// option in /etc/pure-ftpd/conf holding its value, read by pure-ftpd-wrapper
// at start (restart the service after).
func pureConf(option, value string) string {
	return "echo '" + value + "' > /etc/pure-ftpd/conf/" + option
}

// catalog is the one list of finding ids. It is never modified; Lookup
// hands out copies.
var catalog = map[string]Entry{
	IDNoTLS: {
		Severity:    Medium,
		Title:       "FTP without TLS",
		Description: "The service does not offer AUTH TLS, so every password, command and file crosses the network in clear text, readable and changeable by anyone on the path.",
		References:  []string{"https://www.rfc-editor.org/rfc/rfc4217"},
		Fix: Fix{
			Summary: "Enable explicit FTPS (AUTH TLS) and require it for logins and data, or replace the service with one that does.",
			Config: map[string][]string{
				ProductVsftpd:   {"ssl_enable=YES", "rsa_cert_file=/etc/ssl/certs/ftp.pem", "rsa_private_key_file=/etc/ssl/private/ftp.key", "force_local_logins_ssl=YES", "force_local_data_ssl=YES"},
				ProductProFTPD:  {"<IfModule mod_tls.c>", "  TLSEngine on", "  TLSRequired on", "  TLSProtocol TLSv1.2 TLSv1.3", "  TLSRSACertificateFile /etc/ssl/certs/ftp.pem", "  TLSRSACertificateKeyFile /etc/ssl/private/ftp.key", "</IfModule>"},
				ProductPureFTPd: {pureConf("TLS", "2"), "# and the key and certificate in /etc/ssl/private/pure-ftpd.pem"},
				ProductPort21:   {"# port21 serve requires TLS by default; remove any plaintext exception"},
				ProductIIS:      {iisSite + " -ftpServer.security.ssl.controlChannelPolicy:SslRequire -ftpServer.security.ssl.dataChannelPolicy:SslRequire -ftpServer.security.ssl.serverCertHash:CERT-THUMBPRINT"},
			},
			Firewall: FirewallRestrict,
		},
	},
	IDCleartextLogin: {
		Severity:    High,
		Title:       "Login allowed before TLS",
		Description: "The service asks for a password on an unencrypted connection: any client that does not insist on TLS sends the password in clear text.",
		References:  []string{"https://www.rfc-editor.org/rfc/rfc4217#section-4"},
		Fix: Fix{
			Summary: "Refuse USER and PASS until AUTH TLS has succeeded.",
			Config: map[string][]string{
				ProductVsftpd:   {"ssl_enable=YES", "force_local_logins_ssl=YES", "force_anon_logins_ssl=YES"},
				ProductProFTPD:  {"<IfModule mod_tls.c>", "  TLSEngine on", "  TLSRequired auth+data", "</IfModule>"},
				ProductPureFTPd: {pureConf("TLS", "2")},
				ProductPort21:   {"# port21 refuses logins before TLS by default: remove cleartext exceptions from the config"},
				ProductIIS:      {iisSite + " -ftpServer.security.ssl.controlChannelPolicy:SslRequire"},
			},
		},
	},
	IDAnonymousLogin: {
		Severity:    Medium,
		Title:       "Anonymous login allowed",
		Description: "Anyone can log in as anonymous and read whatever the anonymous root holds; check that this is intended and that nothing sensitive is there.",
		References:  []string{"https://nmap.org/nsedoc/scripts/ftp-anon.html"},
		Fix: Fix{
			Summary: "Disable anonymous access unless the service is a deliberate public mirror.",
			Config: map[string][]string{
				ProductVsftpd:   {"anonymous_enable=NO"},
				ProductProFTPD:  {"# remove or comment out the <Anonymous ~ftp> ... </Anonymous> section"},
				ProductPureFTPd: {pureConf("NoAnonymous", "yes")},
				ProductPort21:   {"# port21 has no anonymous access"},
				ProductIIS:      {iisSite + " -ftpServer.security.authentication.anonymousAuthentication.enabled:false"},
			},
			Firewall: FirewallRestrict,
		},
	},
	IDAnonymousWrite: {
		Severity:    High,
		Title:       "Anonymous users can upload files",
		Description: "Anonymous users can store files (a listing shows a world-writable directory, or an upload by the scanner worked and was deleted again). Anonymous write access turns the server into free storage for malware and stolen data.",
		Fix: Fix{
			Summary: "Deny anonymous uploads, and remove world write from the directories anonymous users see (chmod o-w DIR), which is what a listing shows; if an upload drop box is needed, make it write-only and outside any download area.",
			Config: map[string][]string{
				ProductVsftpd: {"anon_upload_enable=NO", "anon_mkdir_write_enable=NO", "anon_other_write_enable=NO"},
				ProductProFTPD: {
					"# in the <Anonymous> section: remove every <Limit> that says AllowAll (a <Directory> block's wins over the section's), and deny writes:",
					"<Limit WRITE>", "  DenyAll", "</Limit>",
				},
				ProductPureFTPd: {pureConf("AnonymousCantUpload", "yes"), pureConf("AnonymousCanCreateDirs", "no")},
				ProductIIS:      {`%windir%\system32\inetsrv\appcmd set config "FTP-SITE-NAME" -section:system.ftpServer/security/authorization /-"[users='?']"`, "# or remove the Write permission from the anonymous authorization rule"},
			},
			Firewall: FirewallRestrict,
		},
	},
	IDTLSLegacyProtocol: {
		Severity:    Medium,
		Title:       "Legacy TLS or SSL protocol allowed",
		Description: "The service completes handshakes with SSL 3.0, TLS 1.0 or TLS 1.1, which RFC 8996 deprecates; clients that can be pushed down to them lose modern protections.",
		References:  []string{"https://www.rfc-editor.org/rfc/rfc8996"},
		Fix: Fix{
			Summary: "Accept TLS 1.2 and 1.3 only.",
			Config: map[string][]string{
				// ssl_tlsv1=YES would keep TLS 1.0 on. vsftpd 3.0.3 has no
				// switch for TLS 1.1 (3.0.5 adds ssl_tlsv1_1): leaving out
				// the SSLv3-class suites, which TLS 1.0 and 1.1 need, closes
				// both whatever the version.
				ProductVsftpd:   {"ssl_sslv2=NO", "ssl_sslv3=NO", "ssl_tlsv1=NO", "ssl_ciphers=HIGH:!aNULL:!MD5:!RC4:!3DES:!SSLv3"},
				ProductProFTPD:  {"TLSProtocol TLSv1.2 TLSv1.3"},
				ProductPureFTPd: {pureConf("TLSCipherSuite", "HIGH:!aNULL:!MD5:!RC4:!3DES:!SSLv3"), "# without SSLv3-class suites, TLS 1.0 and 1.1 handshakes find no common suite"},
				ProductPort21:   {"# port21 accepts TLS 1.2 and later only"},
				ProductIIS:      {`# Schannel, for every service on the host: set Enabled=0 under`, `# HKLM\SYSTEM\CurrentControlSet\Control\SecurityProviders\SCHANNEL\Protocols\{SSL 3.0,TLS 1.0,TLS 1.1}\Server, then reboot`},
			},
		},
	},
	IDTLSWeakCipher: {
		Severity:    Medium,
		Title:       "Weak TLS cipher suites allowed",
		Description: "The service agrees to RC4, 3DES, NULL, EXPORT, anonymous or DES cipher suites, whose weaknesses let an attacker read or change traffic.",
		References:  []string{"https://www.rfc-editor.org/rfc/rfc7465", "https://sweet32.info/"},
		Fix: Fix{
			Summary: "Allow only AEAD cipher suites with forward secrecy.",
			Config: map[string][]string{
				ProductVsftpd:   {"ssl_ciphers=ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL"},
				ProductProFTPD:  {"TLSCipherSuite ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL"},
				ProductPureFTPd: {pureConf("TLSCipherSuite", "ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL")},
				ProductPort21:   {"# port21 offers only AEAD suites with ECDHE"},
				ProductIIS:      {"# Schannel: Disable-TlsCipherSuite -Name NAME for each RC4, 3DES and NULL suite (PowerShell, TLS module), then reboot"},
			},
		},
	},
	IDTLSCertExpired: {
		Severity:    Medium,
		Title:       "TLS certificate expired or not yet valid",
		Description: "Clients that check certificates refuse the connection; clients that do not check cannot tell the server from an impostor.",
		Fix: Fix{
			Summary: "Install a current certificate and renew it automatically.",
			Config:  certConfig(),
		},
	},
	IDTLSCertExpiring: {
		Severity:    Low,
		Title:       "TLS certificate expires within 30 days",
		Description: "The certificate is still valid but expires soon; unless it is renewed in time, clients that check certificates will refuse the service.",
		Fix: Fix{
			Summary: "Renew the certificate now and automate renewal (ACME, or a calendar reminder for a private CA).",
			Config:  certConfig(),
		},
	},
	IDTLSWeakSignature: {
		Severity:    Medium,
		Title:       "TLS certificate signed with SHA-1 or MD5",
		Description: "A certificate in the served chain is signed with SHA-1 or MD5, whose collisions let an attacker forge a certificate with the same signature; current clients refuse such chains.",
		References:  []string{"https://shattered.io/", "https://www.rfc-editor.org/rfc/rfc6194"},
		Fix: Fix{
			Summary: "Reissue the certificate (and any intermediate) signed with SHA-256 or better.",
			Config:  certConfig(),
		},
	},
	IDTLSChainIncomplete: {
		Severity:    Low,
		Title:       "TLS certificate chain incomplete",
		Description: "The service sends its certificate without the intermediate CA certificates that link it to a root; FTP clients, which do not fetch missing intermediates, cannot verify it.",
		Fix: Fix{
			Summary: "Serve the certificate followed by every intermediate certificate up to (not including) the root.",
			Config: map[string][]string{
				ProductVsftpd:   {"# rsa_cert_file holds the certificate, then the intermediates, in one PEM file", "rsa_cert_file=/etc/ssl/certs/ftp-fullchain.pem"},
				ProductProFTPD:  {"TLSCertificateChainFile /etc/ssl/certs/ftp-chain.pem"},
				ProductPureFTPd: {"# /etc/ssl/private/pure-ftpd.pem: the key, the certificate, then the intermediates", pureConf("CertFile", "/etc/ssl/private/pure-ftpd.pem")},
				ProductPort21:   {"cert = \"/etc/port21/ftp-fullchain.pem\"", "# the certificate, then the intermediates, in one PEM file"},
				ProductIIS:      {"# import the intermediate certificates into the Intermediate Certification Authorities store of the local computer (certlm.msc)"},
			},
		},
	},
	IDTLSNoFS: {
		Severity:    Low,
		Title:       "TLS without forward secrecy accepted",
		Description: "The service accepts cipher suites with static RSA key exchange: whoever obtains the server's private key later can decrypt every recorded session.",
		References:  []string{"https://www.rfc-editor.org/rfc/rfc7525#section-4.2"},
		Fix: Fix{
			Summary: "Allow only ECDHE (or DHE) key exchange for TLS 1.2, and TLS 1.3.",
			Config: map[string][]string{
				ProductVsftpd:   {"ssl_ciphers=ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL"},
				ProductProFTPD:  {"TLSCipherSuite ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL"},
				ProductPureFTPd: {pureConf("TLSCipherSuite", "ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL")},
				ProductPort21:   {"# port21 uses Go's default cipher suites, which prefer ECDHE; set tls-min-version = \"1.3\" to refuse the rest"},
				ProductIIS:      {"# Schannel: Disable-TlsCipherSuite -Name NAME for each TLS_RSA_WITH_* suite (PowerShell, TLS module), then reboot"},
			},
		},
	},
	IDTLSCBCCipher: {
		Severity:    Low,
		Title:       "TLS CBC-mode cipher suites allowed",
		Description: "The service agrees to AES or Camellia in CBC mode, whose MAC-then-encrypt construction has a long record of padding-oracle and timing attacks (Lucky Thirteen, POODLE on TLS); AEAD suites have none of them.",
		References:  []string{"https://www.rfc-editor.org/rfc/rfc7457#section-2.4", "https://www.rfc-editor.org/rfc/rfc9325#section-4.2"},
		Fix: Fix{
			Summary: "Allow only AEAD cipher suites (AES-GCM, ChaCha20-Poly1305) with ECDHE, and TLS 1.3.",
			Config: map[string][]string{
				ProductVsftpd:   {"ssl_ciphers=ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL"},
				ProductProFTPD:  {"TLSCipherSuite ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL"},
				ProductPureFTPd: {pureConf("TLSCipherSuite", "ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL")},
				ProductPort21:   {"# port21 offers only AEAD suites with ECDHE"},
				ProductIIS:      {"# Schannel: Disable-TlsCipherSuite -Name NAME for each *_CBC_* suite (PowerShell, TLS module), then reboot"},
			},
		},
	},
	IDTLSCertUntrusted: {
		Severity:    Low,
		Title:       "TLS certificate not trusted",
		Description: "The certificate does not chain to a trusted root (self-signed or a private CA), so clients must pin it or trust it blindly; blind trust allows a man in the middle.",
		Fix: Fix{
			Summary: "Use a certificate from a CA your clients trust, or distribute the private CA or the certificate's key pin to every client.",
			Config: map[string][]string{
				ProductVsftpd:   {"rsa_cert_file=/etc/ssl/certs/ftp.pem", "rsa_private_key_file=/etc/ssl/private/ftp.key"},
				ProductProFTPD:  {"TLSRSACertificateFile /etc/ssl/certs/ftp.pem", "TLSRSACertificateKeyFile /etc/ssl/private/ftp.key", "TLSCertificateChainFile /etc/ssl/certs/ftp-chain.pem"},
				ProductPureFTPd: {"# key, certificate and chain in /etc/ssl/private/pure-ftpd.pem", pureConf("CertFile", "/etc/ssl/private/pure-ftpd.pem")},
				ProductPort21:   {"cert = \"/etc/port21/ftp.pem\"", "key = \"/etc/port21/ftp.key\"", "# or keep the generated certificate and pin its key: see the curl line port21 serve prints"},
				ProductIIS:      {iisSite + " -ftpServer.security.ssl.serverCertHash:CERT-THUMBPRINT"},
			},
		},
	},
	IDTLSCertName: {
		Severity:    Low,
		Title:       "TLS certificate does not match the host name",
		Description: "The certificate names neither the host name nor the address the service was reached by, so clients that check names refuse it and clients that do not cannot detect an impostor.",
		Fix: Fix{
			Summary: "Use a certificate whose subject alternative names include the name clients connect to.",
			Config:  certConfig(),
		},
	},
	IDTLSWeakKey: {
		Severity:    Medium,
		Title:       "Weak TLS certificate key",
		Description: "The certificate's key is too short (RSA under 2048 bits, or an elliptic curve under 256 bits) to resist a determined attacker.",
		Fix: Fix{
			Summary: "Issue a new certificate with an RSA 3072-bit or ECDSA P-256 key.",
			Config: map[string][]string{
				ProductVsftpd:   {"rsa_cert_file=/etc/ssl/certs/ftp.pem", "rsa_private_key_file=/etc/ssl/private/ftp.key"},
				ProductProFTPD:  {"TLSECCertificateFile /etc/ssl/certs/ftp-ec.pem", "TLSECCertificateKeyFile /etc/ssl/private/ftp-ec.key"},
				ProductPureFTPd: {pureConf("CertFile", "/etc/ssl/private/pure-ftpd.pem")},
				ProductPort21:   {"# port21 generates ECDSA P-256 keys"},
				ProductIIS:      {iisSite + " -ftpServer.security.ssl.serverCertHash:CERT-THUMBPRINT"},
			},
		},
	},
	IDDataCleartext: {
		Severity:    Low,
		Title:       "Unencrypted data connections allowed",
		Description: "After logging in over TLS, a client may choose PROT C and move files and listings in clear text.",
		References:  []string{"https://www.rfc-editor.org/rfc/rfc4217#section-9"},
		Fix: Fix{
			Summary: "Require PROT P for every data connection.",
			Config: map[string][]string{
				ProductVsftpd:   {"force_local_data_ssl=YES", "force_anon_data_ssl=YES"},
				ProductProFTPD:  {"TLSRequired on"},
				ProductPureFTPd: {pureConf("TLS", "3")},
				ProductPort21:   {"# port21 refuses PROT C by default"},
				ProductIIS:      {iisSite + " -ftpServer.security.ssl.dataChannelPolicy:SslRequire"},
			},
		},
	},
	IDFTPBounce: {
		Severity:    High,
		Title:       "FTP bounce allowed: data connections to third-party addresses",
		Description: "The service agreed to open a data connection to an address other than the client's, so it can be used to scan or attack other hosts from its own network position.",
		References:  []string{"https://www.rfc-editor.org/rfc/rfc2577", "https://nmap.org/nsedoc/scripts/ftp-bounce.html"},
		Fix: Fix{
			Summary: "Allow PORT and EPRT only to the client's own address, or disable active mode.",
			Config: map[string][]string{
				ProductVsftpd:   {"port_promiscuous=NO"},
				ProductProFTPD:  {"AllowForeignAddress off"},
				ProductPureFTPd: {pureConf("AllowUserFXP", "no"), pureConf("AllowAnonymousFXP", "no")},
				ProductPort21:   {"active-mode = false"},
				ProductIIS:      {"# IIS refuses PORT to a third party unless allowed: remove any change to system.ftpServer/firewallSupport"},
			},
		},
	},
	IDPASVLeak: {
		Severity:    Low,
		Title:       "PASV reply names another address",
		Description: "The passive-mode reply names an address other than the one the service was reached at: an internal address leaks the network layout, and clients that follow it fail or connect elsewhere. The scanner never connects to it.",
		Fix: Fix{
			Summary: "Announce the public address in passive replies, and prefer EPSV.",
			Config: map[string][]string{
				ProductVsftpd:   {"pasv_address=PUBLIC-ADDRESS"},
				ProductProFTPD:  {"MasqueradeAddress PUBLIC-ADDRESS"},
				ProductPureFTPd: {pureConf("ForcePassiveIP", "PUBLIC-ADDRESS")},
				ProductPort21:   {"public-host = \"PUBLIC-ADDRESS\""},
				ProductIIS:      {`%windir%\system32\inetsrv\appcmd set config -section:system.ftpServer/firewallSupport /externalIp4Address:"PUBLIC-ADDRESS" /commit:apphost`},
			},
		},
	},
	IDVersionDisclosed: {
		Severity:    Info,
		Title:       "Server version disclosed in the greeting",
		Description: "The greeting names the product and version, which lets attackers pick exploits without probing.",
		Fix: Fix{
			Summary: "Use a greeting that names neither product nor version (and keep the server patched: hiding the version is not a fix).",
			Config: map[string][]string{
				ProductVsftpd:  {"ftpd_banner=FTP server ready."},
				ProductProFTPD: {"ServerIdent on \"FTP server ready.\""},
				ProductIIS:     {iisSite + " -ftpServer.messages.suppressDefaultBanner:true"},
			},
		},
	},
	IDDefaultCreds: {
		Severity:    Critical,
		Title:       "Default or well-known credentials accepted",
		Description: "The service accepted a login from a short list of well-known user names and passwords.",
		Fix:         Fix{Summary: "Change the password of the account, or remove it.", Firewall: FirewallRestrict},
	},
	IDALPACA: {
		Severity:    Low,
		Title:       "TLS accepts a foreign ALPN protocol (ALPACA)",
		Description: "The TLS handshake accepted the ALPN protocol http/1.1, so a man in the middle can redirect a browser's HTTPS connection to this service and use it in cross-protocol attacks.",
		References:  []string{"https://alpaca-attack.com/", "https://nvd.nist.gov/vuln/detail/CVE-2021-3618"},
		Fix:         Fix{Summary: "Refuse ALPN values other than ftp, or upgrade to a release that does."},
	},
	IDNoChroot: {
		Severity:    Medium,
		Title:       "Users are not confined to their home directory",
		Description: "A logged-in user can browse the whole file system the account can read (/etc, other homes).",
		Fix: Fix{Summary: "Confine users to their home directory (chroot).", Config: map[string][]string{
			ProductVsftpd:   {"chroot_local_user=YES"},
			ProductProFTPD:  {"DefaultRoot ~"},
			ProductPureFTPd: {pureConf("ChrootEveryone", "yes")},
			ProductIIS:      {iisSite + " -ftpServer.userIsolation.mode:IsolateAllDirectories"},
		}},
	},
	IDWritableChroot: {
		Severity:    Medium,
		Title:       "Writable chroot allowed",
		Description: "A user who can write to the root of the chroot can plant files (/etc, lib) that a privileged process inside it may trust.",
		Fix: Fix{Summary: "Make the chroot root read-only and give users a writable subdirectory.", Config: map[string][]string{
			ProductVsftpd: {"allow_writeable_chroot=NO"},
		}},
	},
	IDNoPassiveRange: {
		Severity:    Low,
		Title:       "No fixed passive port range",
		Description: "Passive data connections use any high port, so the firewall must either open them all or rely on the FTP helper, which cannot read TLS-protected control connections.",
		Fix: Fix{Summary: "Set a passive port range and open only it, to the networks that need it (port21 firewall).", Config: map[string][]string{
			ProductVsftpd:   {"pasv_min_port=50000", "pasv_max_port=50100"},
			ProductProFTPD:  {"PassivePorts 50000 50100"},
			ProductPureFTPd: {pureConf("PassivePortRange", "50000 50100")},
			ProductPort21:   {"passive-ports = \"50000-50100\""},
			ProductIIS:      {`%windir%\system32\inetsrv\appcmd set config -section:system.ftpServer/firewallSupport /lowDataChannelPort:50000 /highDataChannelPort:50100 /commit:apphost`},
		}, Firewall: "port21 firewall plan --allow CIDR --passive-ports LOW-HIGH"},
	},
	IDLoggingOff: {
		Severity:    Low,
		Title:       "Transfer logging off",
		Description: "Uploads, downloads and deletions leave no trace to investigate an incident with.",
		Fix: Fix{Summary: "Turn transfer logging on.", Config: map[string][]string{
			ProductVsftpd:  {"xferlog_enable=YES"},
			ProductProFTPD: {"TransferLog /var/log/proftpd/xferlog"},
		}},
	},
	IDNoLoginBan: {
		Severity:    Low,
		Title:       "Failed logins are never banned",
		Description: "Password guessing can go on without limit.",
		Fix:         Fix{Summary: "Ban addresses after a few failed logins."},
	},
	IDFTPListener: {
		Severity:    Info,
		Title:       "FTP service listening",
		Description: "A process listens on an FTP port (well-known, or set by a configuration on this machine), is an FTP daemon, or greets like an FTP server.",
		Fix:         Fix{Summary: "If nobody needs it, stop and disable the service; otherwise restrict who can reach it."},
	},
	IDFirewallOpen: {
		Severity:    Low,
		Title:       "FTP port open to every network",
		Description: "The active firewall rules let anyone open a connection to this port.",
		Fix:         Fix{Summary: "Allow only the networks that need FTP, or block the port.", Firewall: "port21 firewall apply --allow CIDR --confirm 60s"},
	},
	IDTruncationAllowed: {
		Severity:    Low,
		Title:       "TLS uploads may be truncated",
		Description: "An upload that ends without a TLS close_notify is accepted, so a forged TCP FIN can cut a file short unnoticed.",
		Fix: Fix{Summary: "Require close_notify at the end of TLS uploads.", Config: map[string][]string{
			ProductVsftpd: {"strict_ssl_read_eof=YES"},
		}},
	},
}

// certConfig is the certificate lines of each product.
func certConfig() map[string][]string {
	return map[string][]string{
		ProductVsftpd:   {"rsa_cert_file=/etc/ssl/certs/ftp.pem", "rsa_private_key_file=/etc/ssl/private/ftp.key"},
		ProductProFTPD:  {"TLSRSACertificateFile /etc/ssl/certs/ftp.pem", "TLSRSACertificateKeyFile /etc/ssl/private/ftp.key"},
		ProductPureFTPd: {pureConf("CertFile", "/etc/ssl/private/pure-ftpd.pem")},
		ProductPort21:   {"cert = \"/etc/port21/ftp.pem\"", "key = \"/etc/port21/ftp.key\""},
		ProductIIS:      {iisSite + " -ftpServer.security.ssl.serverCertHash:CERT-THUMBPRINT"},
	}
}

// Lookup returns the catalog entry for id, a copy the caller may change.
func Lookup(id string) (Entry, bool) {
	e, ok := catalog[id]
	if !ok {
		return Entry{}, false
	}
	e.ID = id
	e.References = slices.Clone(e.References)
	e.Fix.Config = maps.Clone(e.Fix.Config)
	return e, true
}

// IDs lists the catalog's ids, sorted.
func IDs() []string { return slices.Sorted(maps.Keys(catalog)) }

// ConfigFor returns the configuration lines of id's fix for product: only
// its own when product is one the catalog knows, every product's when
// product is "" (unknown: one of them may be it), none when the catalog has
// no lines for it.
func ConfigFor(id, product string) map[string][]string {
	e, ok := catalog[id]
	if !ok || len(e.Fix.Config) == 0 {
		return nil
	}
	if product == "" {
		return maps.Clone(e.Fix.Config)
	}
	if lines, ok := e.Fix.Config[product]; ok {
		return map[string][]string{product: slices.Clone(lines)}
	}
	return nil
}

// New builds finding id for target t from the catalog, with the fix lines
// for product (see ConfigFor), the basis and the evidence. An id the
// catalog lacks gets only what was given.
func New(id string, t Target, product, basis string, ev []Evidence) Finding {
	e, _ := Lookup(id)
	return Finding{
		ID:         id,
		Severity:   e.Severity,
		Title:      e.Title,
		Detail:     e.Description,
		Target:     t,
		Basis:      basis,
		Evidence:   ev,
		Fix:        Fix{Summary: e.Fix.Summary, Config: ConfigFor(id, product), Firewall: e.Fix.Firewall},
		References: e.References,
	}
}
