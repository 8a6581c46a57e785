package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/port21/port21/internal/audit"
	"github.com/port21/port21/internal/ftp"
	"github.com/port21/port21/internal/jail"
	"github.com/port21/port21/internal/policy"
	"github.com/port21/port21/internal/users"
)

// maxFailuresPerConn closes a connection after this many failed logins, so
// a guesser pays a new TCP and TLS handshake for every few guesses.
const maxFailuresPerConn = 3

func (s *session) cmdAUTH(arg string) bool {
	mech := strings.ToUpper(strings.TrimSpace(arg))
	switch {
	case s.tlsOn:
		s.reply(ftp.CodeBadSequence, "TLS is already on.")
		return true
	case s.user != nil:
		s.reply(ftp.CodeBadSequence, "AUTH must come before login.")
		return true
	case mech != "TLS" && mech != "TLS-C" && mech != "SSL" && mech != "TLS-P":
		s.reply(ftp.CodeParamNotImplemented, "AUTH %s not supported; use AUTH TLS.", mech)
		return true
	}
	s.reply(ftp.CodeAuthOK, "AUTH %s ok; start the TLS handshake.", mech)
	if err := s.startTLS(); err != nil {
		s.emit(audit.TLSFailed{Channel: audit.ChannelControl, Err: err.Error(), Hint: handshakeHint(err)})
		return false
	}
	if mech == "SSL" || mech == "TLS-P" {
		// Old clients that say SSL expect protected data without PROT P.
		s.pbsz, s.prot = true, 'P'
		s.tlsPBSZ, s.tlsProt = true, 'P'
	}
	s.pendingUser = ""
	return true
}

func (s *session) cmdPBSZ(arg string) bool {
	if !s.tlsOn {
		s.reply(ftp.CodeBadSequence, "PBSZ needs AUTH TLS first.")
		return true
	}
	// RFC 4217 9: the buffer size is always 0 for TLS.
	s.pbsz = true
	s.reply(ftp.CodeOK, "PBSZ=0")
	return true
}

func (s *session) cmdPROT(arg string) bool {
	if !s.tlsOn || !s.pbsz {
		s.reply(ftp.CodeBadSequence, "PROT needs AUTH TLS and PBSZ first.")
		return true
	}
	switch strings.ToUpper(strings.TrimSpace(arg)) {
	case "P":
		s.prot = 'P'
		s.reply(ftp.CodeOK, "Data connections will be protected.")
	case "C":
		if s.user != nil && s.user.AllowCleartext {
			s.prot = 'C'
			s.reply(ftp.CodeOK, "Data connections will be in clear text.")
			return true
		}
		s.reply(ftp.CodePolicyRefused, "PROT C refused: this server requires protected data connections (PROT P).")
	case "S", "E":
		s.reply(ftp.CodePolicyRefused, "PROT %s is not supported; use PROT P.", strings.ToUpper(arg))
	default:
		s.reply(ftp.CodeParamNotImplemented, "Unknown protection level; use PROT P.")
	}
	return true
}

func (s *session) cmdUSER(arg string) bool {
	if s.user != nil {
		s.reply(ftp.CodeBadSequence, "Already logged in; reconnect to change user.")
		return true
	}
	name := strings.TrimSpace(arg)
	if !s.tlsOn {
		// Refuse at USER, before the client sends its password in clear. The
		// answer must not depend on the name, or USER alone would tell which
		// accounts exist and which take cleartext (issue 7). So it depends
		// only on the address: where no account may log in in clear, every
		// name gets 530; where some account may, every name gets 331, and a
		// name that may not fails at PASS with "Login incorrect", counted.
		ok, err := s.srv.accounts.CleartextFrom(context.Background(), s.remote.Addr())
		if err != nil || !ok {
			if err != nil {
				s.log.Error("cleartext check failed", "err", err)
			}
			s.emit(audit.Refused{Stage: audit.StageLogin, Reason: "cleartext", User: name, Detail: "USER before AUTH TLS"})
			s.reply(ftp.CodeNotLoggedIn, "TLS required: send AUTH TLS before USER. This server does not accept passwords in clear text.")
			return true
		}
	}
	s.pendingUser = name
	s.reply(ftp.CodeNeedPassword, "Password required.")
	return true
}

// passBudget bounds one PASS, queueing for the hasher included. The Hasher
// fails fast with ErrBusy well before it; either way an overloaded check is
// answered "busy", never counted as a failed login.
const passBudget = 10 * time.Second

func (s *session) cmdPASS(arg string) bool {
	if s.user != nil {
		s.reply(ftp.CodeBadSequence, "Already logged in.")
		return true
	}
	if s.pendingUser == "" {
		s.reply(ftp.CodeBadSequence, "Send USER first.")
		return true
	}
	start := time.Now()
	name := s.pendingUser
	s.pendingUser = ""
	// A connection opened before its address was banned must not keep
	// guessing: refuse without looking at the password.
	if s.refuseBanned() {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), passBudget)
	defer cancel()
	var (
		u   users.User
		why string
		err error
	)
	anonymous := s.srv.conf().AnonymousRoot != "" && isAnonymousName(name)
	if anonymous {
		// Any password, by convention an e-mail address: never logged.
		u = s.srv.anonymousUser()
	} else {
		u, why, err = s.authenticate(ctx, name, arg)
	}
	switch {
	case err != nil:
		// Overload says nothing about the password: counting it would let a
		// flood from elsewhere ban a real user's address (issue 7).
		s.emit(audit.Refused{Stage: audit.StageLogin, Reason: "busy", User: name, Detail: err.Error()})
		s.reply(ftp.CodeServiceNotAvailable, "Server busy: too many logins at once; try again in a moment.")
		return false
	case why != "":
		return s.loginFailed(name, why, start)
	case s.refuseBanned(): // banned while the password was checked
		return false
	}
	s.anonymous.Store(anonymous)
	if !s.srv.claimSlot(s, u.Name, u.MaxSessions) {
		s.emit(audit.Refused{Stage: audit.StageLogin, Reason: "max-sessions", User: u.Name, Detail: fmt.Sprintf("at most %d sessions", u.MaxSessions)})
		s.reply(ftp.CodeServiceNotAvailable, "Too many sessions for this account (at most %d); close one and try again.", u.MaxSessions)
		return false
	}
	if err := s.openHome(u); err != nil {
		s.account.Store(nil)
		s.log.Error("home directory not available", "user", name, "err", err)
		s.emit(audit.Refused{Stage: audit.StageLogin, Reason: "home", User: name})
		s.reply(ftp.CodeNotLoggedIn, "Login failed: your home directory is not available; tell the administrator.")
		return true
	}
	s.user = &u
	// A good login does not forget the address's failures: they may have
	// been guesses against other accounts (issue 7). They expire with the
	// ban window.
	s.srv.idle.poke()
	s.emit(audit.Login{User: u.Name, TLS: s.tlsOn, ReadOnly: u.ReadOnly, Perms: u.Effective().String(), Anonymous: anonymous})
	// Every later line of the audit log names the account.
	s.log = s.log.With("user", u.Name)
	select {
	case <-s.loggedIn: // a login after REIN
	default:
		close(s.loggedIn)
	}
	if s.preLogin != nil {
		s.preLogin()
	}
	s.reply(ftp.CodeLoggedIn, "Login successful.")
	return true
}

// refuseBanned ends the session with 421 if its address is banned.
func (s *session) refuseBanned() bool {
	banned, b := s.srv.defender.Banned(s.remote.Addr())
	if !banned {
		return false
	}
	s.emit(audit.Refused{Stage: audit.StageLogin, Reason: "banned", Detail: b.Prefix.String() + " until " + b.Until.UTC().Format(time.RFC3339)})
	s.reply(ftp.CodeServiceNotAvailable, "Too many failed logins from your address; try again later.")
	return true
}

// overloaded reports whether err means the password was not checked at
// all: the hasher was busy or the budget ran out.
func overloaded(err error) bool {
	return errors.Is(err, users.ErrBusy) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)
}

// authenticate checks a password and the account's network policy. It
// returns a reason for the log when the login must fail; the client only
// ever learns "Login incorrect", so it cannot probe which part failed. err
// is set, and why empty, when the check could not be made (overload or a
// store failure): that is no evidence of guessing.
func (s *session) authenticate(ctx context.Context, name, password string) (users.User, string, error) {
	u, err := s.srv.accounts.Get(ctx, name)
	if err != nil {
		if !errors.Is(err, users.ErrNotFound) {
			return u, "", fmt.Errorf("user store: %w", err)
		}
		// Unknown users cost the same work as known ones, and overload the
		// same way, so neither timing nor "busy" reveals which names exist.
		if err := s.srv.passwords.DummyVerify(ctx, password); overloaded(err) {
			return u, "", err
		}
		return u, "unknown user", nil
	}
	ok, rehash, err := s.srv.passwords.Verify(ctx, u.Hash, password)
	switch {
	case overloaded(err):
		return u, "", err
	case err != nil:
		return u, "verify: " + err.Error(), nil
	case !ok:
		return u, "wrong password", nil
	case !u.AllowedFrom(s.remote.Addr()):
		return u, "address not in the account's allow list", nil
	case !s.tlsOn && !u.CleartextAllowedFrom(s.remote.Addr()):
		return u, "cleartext login not allowed", nil
	case u.Blocked(s.srv.now()) != "":
		// Checked after the password, so an expired or disabled account
		// costs and answers exactly like a wrong password.
		return u, u.Blocked(s.srv.now()), nil
	}
	if rehash {
		log := s.log
		s.srv.wg.Go(func() { s.rehash(log, u.Name, u.Hash, password) })
	}
	return u, "", nil
}

// rehash upgrades a legacy or weak hash to the current argon2id after a
// successful login, the only time the password is known. It replaces old,
// the hash that was verified, and nothing else: a `port21 user passwd`
// made meanwhile wins, or the old password would work again.
// It gets the logger as an argument: the session replaces its own at login.
func (s *session) rehash(log *slog.Logger, name, old, password string) {
	// The server's context, not the session's: the client may well quit
	// right after logging in.
	ctx, cancel := context.WithTimeout(s.srvCtx, time.Minute)
	defer cancel()
	h, err := s.srv.passwords.Hash(ctx, password)
	if err == nil {
		// Noted before the write: a live session of the account that
		// reads the new hash before ReplaceHash returns must know the
		// change is the server's own, or it ends itself with 421. If the
		// write fails, the note names a hash no store holds: harmless.
		s.srv.noteRehash(old, h)
		err = s.srv.accounts.ReplaceHash(ctx, name, old, h)
	}
	switch {
	case errors.Is(err, users.ErrHashChanged):
		log.Info("rehash skipped: the password changed meanwhile", "user", name)
		return
	case err != nil:
		log.Error("rehash failed", "user", name, "err", err)
		return
	}
	log.Info("password rehashed to argon2id", "user", name)
}

// loginFailed counts a failed login and answers it. The answer comes at
// start+failDelay, not failDelay after the check: every failure (unknown
// name, wrong password against any hash scheme, refused network) then
// takes the same time as long as the check is cheaper than failDelay, so
// timing cannot tell names with a fast legacy hash from unknown ones
// (issue 7).
func (s *session) loginFailed(name, why string, start time.Time) bool {
	s.failures++
	ev := policy.EventLoginFailed
	switch {
	case why == "unknown user" && isAnonymousName(name):
		// Anonymous is off: a scanner's or a browser's convention, not a
		// guess at a password (port21 scan's safe probe).
		ev = policy.EventProbeName
	case why == "unknown user":
		ev = policy.EventUnknownUser
	}
	banned := s.srv.record(s.remote.Addr(), ev)
	s.emit(audit.LoginFailed{User: name, Reason: why, Banned: banned})
	if banned {
		s.srv.endPreLogin(s.remote.Addr(), s)
	}
	if s.srv.failDelay > 0 {
		time.Sleep(time.Until(start.Add(s.srv.failDelay)))
	}
	if banned {
		s.reply(ftp.CodeServiceNotAvailable, "Login incorrect. Too many failed logins: your address is banned for a while.")
		return false
	}
	if s.failures >= maxFailuresPerConn {
		s.reply(ftp.CodeServiceNotAvailable, "Login incorrect. Too many failed logins on this connection.")
		return false
	}
	s.reply(ftp.CodeNotLoggedIn, "Login incorrect.")
	return true
}

// openHome opens the user's jail, creating the home on first login.
func (s *session) openHome(u users.User) error {
	// port21 user add and mod refuse such homes already; this covers a
	// store edited by hand or by an older version.
	if err := users.CheckHome(u.Home, s.srv.conf().DataDir, u.Name); err != nil {
		return err
	}
	home := u.Home
	if home == "" {
		home = filepath.Join(s.srv.homeBase, u.Name)
	}
	if err := os.MkdirAll(home, 0o750); err != nil {
		return fmt.Errorf("create home: %w", err)
	}
	j, err := jail.Open(home)
	if err != nil {
		return err
	}
	j.SetReadOnly(u.ReadOnly)
	s.jail = j
	s.homeDir = home
	s.cwd = "/"
	return nil
}
