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

	"github.com/port21/port21/internal/ftp"
	"github.com/port21/port21/internal/jail"
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
		s.log.Warn("TLS handshake failed", "err", err)
		return false
	}
	if mech == "SSL" || mech == "TLS-P" {
		// Old clients that say SSL expect protected data without PROT P.
		s.pbsz, s.prot = true, 'P'
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
		// Refuse at USER, before the client sends its password in clear.
		// Only accounts that opted in are told to go on, from their networks.
		u, err := s.srv.accounts.Get(context.Background(), name)
		if err != nil || !u.CleartextAllowedFrom(s.remote.Addr()) {
			s.log.Info("cleartext login refused", "user", name)
			s.reply(ftp.CodeNotLoggedIn, "TLS required: send AUTH TLS before USER. This server does not accept passwords in clear text.")
			return true
		}
	}
	s.pendingUser = name
	s.reply(ftp.CodeNeedPassword, "Password required.")
	return true
}

func (s *session) cmdPASS(arg string) bool {
	if s.user != nil {
		s.reply(ftp.CodeBadSequence, "Already logged in.")
		return true
	}
	if s.pendingUser == "" {
		s.reply(ftp.CodeBadSequence, "Send USER first.")
		return true
	}
	name := s.pendingUser
	s.pendingUser = ""
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	u, why := s.authenticate(ctx, name, arg)
	if why != "" {
		return s.loginFailed(name, why)
	}
	if err := s.openHome(u); err != nil {
		s.log.Error("login failed: home", "user", name, "err", err)
		s.reply(ftp.CodeNotLoggedIn, "Login failed: your home directory is not available; tell the administrator.")
		return true
	}
	s.srv.metrics.Login(true)
	s.user = &u
	// Every later line of the audit log names the account.
	s.log = s.log.With("user", u.Name)
	s.account.Store(&u.Name)
	close(s.loggedIn)
	s.srv.bans.Succeed(s.remote.Addr())
	s.log.Info("login", "tls", s.tlsOn, "read_only", u.ReadOnly)
	s.reply(ftp.CodeLoggedIn, "Login successful.")
	return true
}

// authenticate checks a password and the account's network policy. It
// returns a reason for the log when the login must fail; the client only
// ever learns "Login incorrect", so it cannot probe which part failed.
func (s *session) authenticate(ctx context.Context, name, password string) (users.User, string) {
	u, err := s.srv.accounts.Get(ctx, name)
	if err != nil {
		// Unknown users cost the same work as known ones, so timing does
		// not reveal which names exist.
		s.srv.passwords.DummyVerify(ctx, password)
		if errors.Is(err, users.ErrNotFound) {
			return u, "unknown user"
		}
		return u, "user store: " + err.Error()
	}
	ok, rehash, err := s.srv.passwords.Verify(ctx, u.Hash, password)
	switch {
	case err != nil:
		return u, "verify: " + err.Error()
	case !ok:
		return u, "wrong password"
	case !u.AllowedFrom(s.remote.Addr()):
		return u, "address not in the account's allow list"
	case !s.tlsOn && !u.CleartextAllowedFrom(s.remote.Addr()):
		return u, "cleartext login not allowed"
	}
	if rehash {
		go s.rehash(s.log, u.Name, password)
	}
	return u, ""
}

// rehash upgrades a legacy or weak hash to the current argon2id after a
// successful login, the only time the password is known.
// It gets the logger as an argument: the session replaces its own at login.
func (s *session) rehash(log *slog.Logger, name, password string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	h, err := s.srv.passwords.Hash(ctx, password)
	if err == nil {
		err = s.srv.accounts.SetHash(ctx, name, h)
	}
	if err != nil {
		log.Error("rehash failed", "user", name, "err", err)
		return
	}
	log.Info("password rehashed to argon2id", "user", name)
}

func (s *session) loginFailed(name, why string) bool {
	s.failures++
	s.srv.metrics.Login(false)
	banned, until := s.srv.bans.Fail(s.remote.Addr())
	s.log.Warn("login failed", "user", name, "reason", why, "banned", banned)
	if s.srv.failDelay > 0 {
		time.Sleep(s.srv.failDelay)
	}
	if banned {
		s.srv.metrics.Banned()
		s.log.Warn("address banned", "until", until.Format(time.RFC3339))
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
	s.cwd = "/"
	return nil
}
