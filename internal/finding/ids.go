package finding

// Finding ids that more than one part of port21 reports: `port21 scan`
// sees these problems on the network, `port21 local` reads them from a
// configuration file. One constant each, so a report, a suppression or a CI
// gate names a problem once, whichever way it was found.
const (
	IDNoTLS             = "no-tls"
	IDCleartextLogin    = "cleartext-login"
	IDAnonymousLogin    = "anonymous-login"
	IDAnonymousWrite    = "anonymous-write"
	IDDataCleartext     = "data-cleartext-allowed"
	IDTLSLegacyProtocol = "tls-legacy-protocol"
	IDTLSWeakCipher     = "tls-weak-cipher"
	IDFTPBounce         = "ftp-bounce"
	IDVersionDisclosed  = "version-disclosed"
)

// Meta is what a shared id means wherever it is found: its severity and
// title are the same in a scan report and in a local one, so that the two
// can be read side by side and a severity gate treats them alike.
type Meta struct {
	Severity Severity
	Title    string
}

// Shared returns the meaning of a shared id; ok is false for ids that only
// one part of port21 reports, which keep their own.
func Shared(id string) (m Meta, ok bool) {
	switch id {
	case IDNoTLS:
		return Meta{Medium, "FTP without TLS"}, true
	case IDCleartextLogin:
		return Meta{High, "Login allowed before TLS"}, true
	case IDAnonymousLogin:
		return Meta{Medium, "Anonymous login allowed"}, true
	case IDAnonymousWrite:
		return Meta{High, "Anonymous users can upload files"}, true
	case IDDataCleartext:
		return Meta{Low, "Unencrypted data connections allowed"}, true
	case IDTLSLegacyProtocol:
		return Meta{Medium, "Legacy TLS or SSL protocol allowed"}, true
	case IDTLSWeakCipher:
		return Meta{Medium, "Weak TLS cipher suites allowed"}, true
	case IDFTPBounce:
		return Meta{High, "FTP bounce allowed: data connections to third-party addresses"}, true
	case IDVersionDisclosed:
		return Meta{Info, "Server version disclosed in the greeting"}, true
	}
	return Meta{}, false
}
