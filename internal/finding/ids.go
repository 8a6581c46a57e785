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
