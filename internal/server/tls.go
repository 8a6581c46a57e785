package server

import (
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"slices"
)

// extMasterSecret is the TLS extension id of Extended Master Secret
// (RFC 7627). Without it a TLS 1.2 session can be resumed by a
// man-in-the-middle on another connection (triple handshake), which would
// defeat binding data connections to their control session.
const extMasterSecret = 23

// bindingTag prefixes our entry in SessionState.Extra; crypto/tls asks
// layers to tag their entries so several can share the field.
var bindingTag = []byte("port21/bind/v1:")

// newTLSBase returns the configuration every connection's config is cloned
// from: TLS 1.2 and 1.3 only, AEAD ciphers with forward secrecy only, ALPN
// "ftp" only (a client offering only another protocol is refused by
// crypto/tls: the ALPACA cross-protocol attack, CVE-2021-3618), and
// explicit ticket keys so tickets can be wrapped with a session binding.
func newTLSBase(cert tls.Certificate) (*tls.Config, error) {
	var key [32]byte
	if _, err := rand.Read(key[:]); err != nil {
		return nil, fmt.Errorf("server: ticket key: %w", err)
	}
	base := &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS12,
		// TLS 1.3 suites are all AEAD and not configurable; these are the
		// TLS 1.2 ones that are AEAD with ECDHE.
		CipherSuites: []uint16{
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
			tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
		},
		NextProtos: []string{"ftp"},
	}
	base.SetSessionTicketKeys([][32]byte{key})
	return base, nil
}

// errNoEMS is returned to a TLS 1.2-only client without Extended Master Secret.
var errNoEMS = errors.New("TLS 1.2 client without Extended Master Secret (RFC 7627) refused")

// requireEMS refuses TLS 1.2-only clients that do not offer Extended
// Master Secret. TLS 1.3 has it built in.
func requireEMS(hello *tls.ClientHelloInfo) error {
	if slices.Contains(hello.SupportedVersions, tls.VersionTLS13) || slices.Contains(hello.Extensions, extMasterSecret) {
		return nil
	}
	return errNoEMS
}

// controlTLSConfig is the TLS config of one control connection. Every
// ticket it issues carries the session's binding, so that only this
// control session's data connections can resume it.
//
// The control connection itself never resumes: each FTP session gets a full
// handshake and so fresh secrets, and tickets from an earlier session are
// worthless to a later one.
func (s *session) controlTLSConfig() *tls.Config {
	base := s.srv.tlsBase
	cfg := base.Clone()
	cfg.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) { return nil, requireEMS(hello) }
	cfg.WrapSession = s.wrapSession
	cfg.UnwrapSession = func([]byte, tls.ConnectionState) (*tls.SessionState, error) { return nil, nil }
	return cfg
}

// dataTLSConfig is the TLS config of this session's data connections. A
// data connection must resume a ticket issued to this control session
// (RFC 4217 section 10 asks servers to make sure the data connection belongs
// to the control connection's client; vsftpd and ProFTPD require reuse, but
// accept any session's ticket). One exception: a ticket of another session
// (live, or ended within ticketLifetime) logged in to the same account from
// the same address. Go clients
// such as rclone share one session cache slot per host across all their
// control connections, so a data connection often presents the ticket of a
// sibling connection; the sibling's owner already holds this account's
// password and this address, so accepting it lets no one new in.
func (s *session) dataTLSConfig() *tls.Config {
	base := s.srv.tlsBase
	cfg := base.Clone()
	cfg.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) { return nil, requireEMS(hello) }
	cfg.WrapSession = s.wrapSession
	cfg.UnwrapSession = func(identity []byte, cs tls.ConnectionState) (*tls.SessionState, error) {
		ss, err := base.DecryptTicket(identity, cs)
		if err != nil || ss == nil {
			return nil, nil
		}
		b, ok := bindingOf(ss)
		switch {
		case !ok:
			return nil, nil
		case b == s.binding:
			return ss, nil
		case s.srv.sibling(b, s):
			s.log.Debug("data connection resumed a ticket of a sibling session (same account, same address)")
			return ss, nil
		}
		s.log.Warn("data connection offered a TLS ticket of another session; not resumed")
		return nil, nil
	}
	return cfg
}

// bindingOf returns the session binding stamped into a ticket.
func bindingOf(ss *tls.SessionState) (b [16]byte, ok bool) {
	for _, e := range ss.Extra {
		if bytes.HasPrefix(e, bindingTag) && len(e) == len(bindingTag)+len(b) {
			copy(b[:], e[len(bindingTag):])
			return b, true
		}
	}
	return b, false
}

// wrapSession stamps a ticket with this session's binding and encrypts it.
func (s *session) wrapSession(cs tls.ConnectionState, ss *tls.SessionState) ([]byte, error) {
	extra := ss.Extra[:0:0]
	for _, e := range ss.Extra {
		if !bytes.HasPrefix(e, bindingTag) {
			extra = append(extra, e)
		}
	}
	ss.Extra = append(extra, append(slices.Clone(bindingTag), s.binding[:]...))
	return s.srv.tlsBase.EncryptTicket(cs, ss)
}
