package server

import (
	"github.com/port21/port21/internal/ftp"
)

// cmdREIN returns the session to the state just after connecting (RFC 959
// 4.1.1): the user is logged out and every per-login setting is dropped,
// while the control connection stays open.
//
// Under TLS the control connection stays encrypted: dropping to clear text
// would be CCC, which port21 refuses. PBSZ and PROT go back to what they
// were right after the handshake (nothing, or P for implicit TLS and AUTH
// SSL), so the next login negotiates them again like a new session. The TLS
// session and its tickets stay, since the data connections of the next
// login must resume them; the tickets stop counting for the account that
// logged out, as if its session had ended (see siblingTicket).
//
// Failed logins on this connection are not forgotten, and the connection
// needs a pre-login slot again, so REIN buys no extra guesses.
func (s *session) cmdREIN(string) bool {
	if s.xfer != nil {
		s.xfer.abort()
		s.xfer.wait()
		s.xfer = nil
	}
	s.data.close()
	s.data = nil
	if s.user != nil {
		release, reason, ok := s.srv.limiter.PreLogin(s.remote.Addr())
		if !ok {
			s.log.Warn("REIN refused", "reason", reason)
			s.reply(ftp.CodeServiceNotAvailable, "%s; closing control connection.", reason)
			return false
		}
		s.preLogin = release
		s.srv.mu.Lock()
		if name := s.account.Load(); name != nil {
			s.srv.retireLocked(*name, retired{addr: s.remote.Addr(), tickets: s.tickets, until: s.srv.now().Add(ticketLifetime)})
		}
		s.srv.mu.Unlock()
		s.account.Store(nil)
		s.log.Info("logout (REIN)")
	}
	if s.jail != nil {
		s.jail.Close()
		s.jail = nil
	}
	s.user = nil
	s.anonymous.Store(false)
	s.log = s.baseLog
	s.pendingUser = ""
	s.loginBy = s.srv.now().Add(s.srv.conf().LoginTimeout.Duration)
	s.cwd = "/"
	s.typ = 'A'
	s.rest = 0
	s.renameFrom = ""
	s.hashAlgo = defaultHash
	s.facts = ftp.DefaultFacts
	s.mlstAsked = false
	s.epsvAll = false
	s.prot, s.pbsz = s.tlsProt, s.tlsPBSZ
	s.reply(ftp.CodeServiceReady, "Session reset; log in.")
	return true
}
