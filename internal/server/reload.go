package server

import (
	"crypto/tls"
	"errors"
	"time"

	"github.com/port21/port21/internal/config"
)

// Reload puts v and cert in force for what comes next: new connections,
// the next command and the next transfer of running sessions. Nothing
// running is dropped: a transfer keeps its data connection and a session
// its TLS connection. Keys a running server cannot change
// (config.StartupKeys) keep their old values; Reload returns the names of
// those v would have changed, for the caller to report as needing a
// restart.
func (s *Server) Reload(v config.Validated, cert tls.Certificate) ([]string, error) {
	if len(cert.Certificate) == 0 {
		return nil, errors.New("server: reload: a TLS certificate is required")
	}
	next, restart := config.KeepStartupKeys(*s.conf(), v)
	s.cert.Store(&cert)
	s.cfg.Store(&next)
	s.limiter.SetLimits(s.clientCap(next.MaxClients), next.MaxClientsPerIP)
	s.passiveSlots.SetLimits(next.Passive.Len(), next.MaxPassivePerIP)
	s.defender.SetConfig(defenderConfig(&next))
	return restart, nil
}

// drain is what a session does when the server stops: at once if it is at
// a prompt, else when its transfer ends (see endBusy); Server.shutdown
// closes whatever is left after shutdown-timeout.
func (s *session) drain() {
	s.drainMu.Lock()
	s.draining = true
	idle := s.busy == 0
	s.drainMu.Unlock()
	if idle {
		s.kill("shutdown", "", reply421("Server shutting down."))
	}
}

// beginBusy and endBusy bracket a transfer, for drain.
func (s *session) beginBusy() {
	s.drainMu.Lock()
	s.busy++
	s.drainMu.Unlock()
}

func (s *session) endBusy() {
	s.drainMu.Lock()
	s.busy--
	last := s.draining && s.busy == 0
	s.drainMu.Unlock()
	if last {
		s.kill("shutdown", "", reply421("Server shutting down."))
	}
}

func (s *session) isDraining() bool {
	s.drainMu.Lock()
	defer s.drainMu.Unlock()
	return s.draining
}

// shutdown waits for every session to drain, up to shutdown-timeout, then
// closes those still running.
func (s *Server) shutdown() {
	s.stopMaintain()
	hard := time.AfterFunc(s.conf().ShutdownTimeout.Duration, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		for sess := range s.sessions {
			sess.kill("shutdown", "", reply421("Server shutting down."))
		}
	})
	defer hard.Stop()
	s.wg.Wait()
}
