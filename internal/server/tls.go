package server

import (
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"

	"github.com/port21/port21/internal/audit"
)

// extMasterSecret is the TLS extension id of Extended Master Secret
// (RFC 7627). Without it a TLS 1.2 session can be resumed by a
// man-in-the-middle on another connection (triple handshake), which would
// defeat binding data connections to their control session.
const extMasterSecret = 23

// extPreSharedKey is the TLS 1.3 pre_shared_key extension (RFC 8446
// 4.2.11), present when a client offers to resume.
const extPreSharedKey = 41

// newTLSBase returns the configuration every connection's config is cloned
// from: TLS 1.2 and 1.3 only, AEAD ciphers with forward secrecy only, ALPN
// "ftp" only (a client offering only another protocol is refused by
// crypto/tls: the ALPACA cross-protocol attack, CVE-2021-3618). Its own
// ticket key seals only tickets that must never be resumed (see
// dataTLSConfig); every session seals its real tickets under a key of its
// own (ticketSealer).
//
// minVersion and maxVersion come from tls-min-version and tls-max-version.
//
// The certificate is read from cert at every handshake (GetCertificate, not
// Certificates, which crypto/tls would prefer), so that Reload can swap it
// for new connections while running ones keep theirs.
func newTLSBase(cert *atomic.Pointer[tls.Certificate], minVersion, maxVersion uint16) (*tls.Config, error) {
	var key [32]byte
	if _, err := rand.Read(key[:]); err != nil {
		return nil, fmt.Errorf("server: ticket key: %w", err)
	}
	base := &tls.Config{
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return cert.Load(), nil },
		MinVersion:     max(minVersion, tls.VersionTLS12),
		MaxVersion:     maxVersion,
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

// requireEMS refuses clients that will get TLS 1.2 and do not offer
// Extended Master Secret. TLS 1.3 has it built in.
func (s *Server) requireEMS(hello *tls.ClientHelloInfo) error {
	if s.gets13(hello) || slices.Contains(hello.Extensions, extMasterSecret) {
		return nil
	}
	return errNoEMS
}

// gets13 reports whether hello will be answered with TLS 1.3: the client
// offers it and tls-max-version allows it.
func (s *Server) gets13(hello *tls.ClientHelloInfo) bool {
	max := s.tlsBase.MaxVersion
	return (max == 0 || max >= tls.VersionTLS13) && slices.Contains(hello.SupportedVersions, tls.VersionTLS13)
}

// controlTLSConfig is the TLS config of one control connection. Its tickets
// are sealed under this session's own key, so that only this control
// session's data connections (and its siblings', see dataTLSConfig) can
// resume them.
//
// The control connection itself never resumes: each FTP session gets a full
// handshake and so fresh secrets, and tickets from an earlier session are
// worthless to a later one.
func (s *session) controlTLSConfig() *tls.Config {
	cfg := s.srv.tlsBase.Clone()
	cfg.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) { return nil, s.srv.requireEMS(hello) }
	cfg.WrapSession = s.tickets.seal
	cfg.UnwrapSession = func([]byte, tls.ConnectionState) (*tls.SessionState, error) { return nil, nil }
	return cfg
}

// dataTLSConfig is the TLS config of this session's data connections. A
// data connection must resume a ticket issued to this control session
// (RFC 4217 section 10 asks servers to make sure the data connection belongs
// to the control connection's client; vsftpd and ProFTPD require reuse, but
// accept any session's ticket). One exception: a ticket of another session
// (live, or ended within ticketLifetime) logged in to the same account from
// the same address. Go clients such as rclone share one session cache slot
// per host across all their control connections, so a data connection often
// presents the ticket of a sibling connection; the sibling's owner already
// holds this account's password and this address, so accepting it lets no
// one new in.
//
// A data connection never hands out a ticket that could pass that check
// unless it passed it itself. Anyone on the client's address can complete a
// full handshake on a passive port; if that earned a ticket sealed for this
// session, its holder could resume it on the next passive port and be taken
// for the client. So a data connection that did not resume gets no ticket
// it could use: none at all for a TLS 1.3 hello that offers none, else one
// sealed under the server's own key, which nothing ever accepts. One that did
// resume gets a fresh ticket sealed for this session: its peer already held
// one, and OpenSSL clients such as curl use a TLS 1.3 ticket only once, so
// without it their next transfer in the session could not resume.
func (s *session) dataTLSConfig() *tls.Config {
	cfg := s.srv.tlsBase.Clone()
	cfg.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
		if err := s.srv.requireEMS(hello); err != nil {
			return nil, err
		}
		conn := s.srv.tlsBase.Clone()
		if s.srv.gets13(hello) && !slices.Contains(hello.Extensions, extPreSharedKey) {
			// TLS 1.3 will be chosen, and without a PSK this hello
			// cannot resume: it needs no ticket machinery at all. (A
			// TLS 1.2 hello must keep it: its ticket is read later.)
			conn.SessionTicketsDisabled = true
		}
		conn.UnwrapSession = func(identity []byte, cs tls.ConnectionState) (*tls.SessionState, error) {
			return s.unwrapDataTicket(identity, cs), nil
		}
		conn.WrapSession = func(cs tls.ConnectionState, ss *tls.SessionState) ([]byte, error) {
			if cs.DidResume {
				// The peer already holds a ticket this session accepts.
				return s.tickets.seal(cs, ss)
			}
			return s.srv.tlsBase.EncryptTicket(cs, ss)
		}
		return conn, nil
	}
	return cfg
}

// unwrapDataTicket returns the session a data connection may resume: one
// from a ticket of this session or of a sibling, else nil.
func (s *session) unwrapDataTicket(identity []byte, cs tls.ConnectionState) *tls.SessionState {
	if ss := s.tickets.open(identity, cs); ss != nil {
		return ss
	}
	if ss := s.srv.siblingTicket(s, identity, cs); ss != nil {
		s.log.Debug("data connection resumed a ticket of a sibling session (same account, same address)")
		return ss
	}
	if len(identity) > 0 {
		s.emit(audit.Refused{Stage: audit.StageData, Reason: "foreign-ticket", Detail: "a TLS ticket of another session, or one never valid for data; not resumed"})
	}
	return nil
}
