package server

import (
	"crypto/rand"
	"crypto/tls"
	"fmt"
	"net/netip"
	"slices"
	"time"
)

// ticketSealer seals the TLS session tickets of one FTP session under a key
// of its own. A ticket that opens under a session's key was issued to that
// session's control connection (or to a data connection that had already
// resumed one, see dataTLSConfig), so opening is the binding check. The key
// lives as long as the session and ticketLifetime after, then is forgotten:
// no server-wide key outlives its sessions, so there is none to rotate.
type ticketSealer struct{ cfg *tls.Config }

func newTicketSealer() (ticketSealer, error) {
	var key [32]byte
	if _, err := rand.Read(key[:]); err != nil {
		return ticketSealer{}, fmt.Errorf("session ticket key: %w", err)
	}
	cfg := &tls.Config{}
	cfg.SetSessionTicketKeys([][32]byte{key})
	return ticketSealer{cfg: cfg}, nil
}

func (t ticketSealer) seal(cs tls.ConnectionState, ss *tls.SessionState) ([]byte, error) {
	return t.cfg.EncryptTicket(cs, ss)
}

// open returns the session in a ticket sealed under this key, or nil.
func (t ticketSealer) open(identity []byte, cs tls.ConnectionState) *tls.SessionState {
	ss, err := t.cfg.DecryptTicket(identity, cs)
	if err != nil {
		return nil
	}
	return ss
}

// ticketLifetime bounds how long a session's tickets are honoured after
// the session ends (crypto/tls issues them for at most 7 days; FTP clients
// use them within minutes).
const ticketLifetime = 30 * time.Minute

// maxRetiredPerAccount bounds the ended sessions remembered per account, so
// one account that opens and closes sessions in a loop pushes out only its
// own entries, never another account's.
const maxRetiredPerAccount = 64

// retired is a session that ended, while a sibling may still present its
// tickets.
type retired struct {
	addr    netip.Addr
	tickets ticketSealer
	until   time.Time
}

// retireLocked remembers the tickets of a session that was logged in to
// account. s.mu must be held.
func (s *Server) retireLocked(account string, r retired) {
	now := s.now()
	list := slices.DeleteFunc(s.retired[account], func(o retired) bool { return !now.Before(o.until) })
	if len(list) >= maxRetiredPerAccount {
		list = slices.Delete(list, 0, len(list)-maxRetiredPerAccount+1) // oldest first
	}
	s.retired[account] = append(list, r)
	// Accounts whose entries all expired are dropped when the map grows.
	if len(s.retired) > 1024 {
		for a, l := range s.retired {
			if len(l) == 0 || !now.Before(l[len(l)-1].until) {
				delete(s.retired, a)
			}
		}
	}
}

// siblingLoginWait is how long a data connection waits for a sibling
// session that issued its ticket but is still logging in: a Go client's
// new control connection overwrites the shared cache slot right after its
// handshake, before its USER and PASS.
const siblingLoginWait = 2 * time.Second

// siblingTicket opens a ticket of another session, live or recently ended,
// that was logged in to the same account from the same address as of; see
// dataTLSConfig. It returns nil for any other ticket.
func (s *Server) siblingTicket(of *session, identity []byte, cs tls.ConnectionState) *tls.SessionState {
	mine := of.account.Load()
	if mine == nil || len(identity) == 0 {
		return nil
	}
	addr := of.remote.Addr()
	s.mu.Lock()
	var live []*session
	for o := range s.sessions {
		if o != of && o.remote.Addr() == addr {
			live = append(live, o)
		}
	}
	ended := slices.Clone(s.retired[*mine])
	s.mu.Unlock()

	for _, o := range live {
		ss := o.tickets.open(identity, cs)
		if ss == nil {
			continue
		}
		select {
		case <-o.loggedIn:
		case <-time.After(siblingLoginWait):
			return nil
		}
		if theirs := o.account.Load(); theirs != nil && *theirs == *mine {
			return ss
		}
		return nil
	}
	now := s.now()
	for _, r := range ended {
		if r.addr == addr && now.Before(r.until) {
			if ss := r.tickets.open(identity, cs); ss != nil {
				return ss
			}
		}
	}
	return nil
}
