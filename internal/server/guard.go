package server

import (
	"context"
	"errors"
	"net/netip"
	"time"

	"github.com/port21/port21/internal/ftp"
	"github.com/port21/port21/internal/policy"
	"github.com/port21/port21/internal/users"
)

// endPreLogin ends every session of addr's ban unit (policy.Key: the
// address, or its /64) that has not logged in, except self, which answers
// for itself. Without this, connections opened before a ban kept guessing
// (issue 7).
//
// Logged-in sessions stay: they proved a password, and a ban is against
// guessing, not against the address. fail2ban drops every packet of a
// banned address, but here that would let anyone behind the same NAT or in
// the same /64 disconnect real users by failing a few logins on purpose.
func (s *Server) endPreLogin(addr netip.Addr, self *session) {
	k := policy.Key(addr)
	var victims []*session
	s.mu.Lock()
	for sess := range s.sessions {
		if sess != self && sess.account.Load() == nil && policy.Key(sess.remote.Addr()) == k {
			victims = append(victims, sess)
		}
	}
	s.mu.Unlock()
	for _, sess := range victims {
		sess.kill("banned", "failed logins from the address", reply421("Too many failed logins from your address; try again later."))
	}
}

// noteRehash remembers that this server replaced old with new at a login,
// so sessions logged in with old do not take the change for a password
// change (see recheck). The map only grows by legacy logins and is cleared
// when large: forgetting costs a session a reconnect, nothing more.
func (s *Server) noteRehash(old, new string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.rehashed) >= 4096 {
		clear(s.rehashed)
	}
	s.rehashed[old] = new
}

func (s *Server) rehashedTo(old, new string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rehashed[old] == new
}

// recheck reads the logged-in account again before a command, so that
// `port21 user del`, `passwd` and `mod` take effect at once instead of at
// the next login (issue 7): a deleted account, a changed password or an
// allow list that no longer holds the client ends the session; a change of
// read-only applies to the next command. A store failure ends the session
// too: rights that cannot be checked are not granted. It reports whether
// the session goes on.
func (s *session) recheck() bool {
	if s.anonymous.Load() {
		return true // not a store account; anonymous-root is fixed at start
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	u, err := s.srv.accounts.Get(ctx, s.user.Name)
	var why string
	switch addr := s.remote.Addr(); {
	case errors.Is(err, users.ErrNotFound):
		why = "account deleted"
	case err != nil:
		why = "account check failed: " + err.Error()
	case u.Hash != s.user.Hash && !s.srv.rehashedTo(s.user.Hash, u.Hash):
		why = "password changed"
	case !u.AllowedFrom(addr):
		why = "address no longer in the account's allow list"
	case !s.tlsOn && !u.CleartextAllowedFrom(addr):
		why = "cleartext login no longer allowed"
	case u.Blocked(s.srv.now()) != "":
		why = u.Blocked(s.srv.now())
	}
	if why != "" {
		s.endAs("account-changed", why)
		s.reply(ftp.CodeServiceNotAvailable, "Your account was changed; closing control connection. Log in again.")
		return false
	}
	// The jail enforces read-only on every file operation, transfers in
	// progress included; it is safe to set from here.
	s.jail.SetReadOnly(u.ReadOnly)
	if s.xfer == nil || !s.xfer.running() {
		// A running transfer may read s.user (listing facts); update it
		// once the transfer is over. A new value, not an overwrite: other
		// sessions read the old one's Name through s.account.
		s.user = &u
	}
	return true
}
