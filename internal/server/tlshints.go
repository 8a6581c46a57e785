package server

import (
	"errors"
	"strings"
	"syscall"
)

// handshakeHint says in plain words what a failed control handshake most
// likely means, for the log. crypto/tls reports a client that refused the
// certificate in several ways: an alert it sent ("bad certificate",
// "unknown certificate authority"), or, when the client gives up after
// TLS 1.3 has switched keys, a record it can no longer decrypt ("bad record
// MAC"). Those are almost always a self-signed or mismatched certificate.
func handshakeHint(err error) string {
	if err == nil {
		return ""
	}
	msg := err.Error()
	for _, s := range []string{"bad record MAC", "bad certificate", "unknown certificate", "certificate unknown", "unsupported certificate", "certificate expired", "decrypt error"} {
		if strings.Contains(msg, s) {
			return "the client probably refused the server's certificate (self-signed, expired or for another name): " +
				"install a certificate the client trusts, or make the client accept this one"
		}
	}
	switch {
	case strings.Contains(msg, "protocol version"), strings.Contains(msg, "unsupported versions"):
		return "no TLS version in common: check tls-min-version and tls-max-version, and the client's TLS settings"
	case strings.Contains(msg, "no application protocol"):
		return "the client offered an ALPN protocol other than ftp (ALPACA protection)"
	case strings.Contains(msg, "first record does not look like a TLS handshake"):
		return "the client sent clear text after AUTH TLS: it does not speak FTPS, or a proxy is in the way"
	}
	return ""
}

// uploadResetHint is logged when a TLS upload ends in a TCP reset: the data
// is incomplete and nothing was stored.
func uploadResetHint(err error, tls bool) string {
	if !tls || !errors.Is(err, syscall.ECONNRESET) {
		return ""
	}
	return "the client reset the data connection instead of closing TLS: it aborted the upload, crashed, " +
		"or refused the certificate on the data connection; nothing was stored"
}
