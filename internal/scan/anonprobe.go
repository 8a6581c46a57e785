package scan

import (
	"errors"
	"fmt"

	"github.com/port21/port21/internal/finding"
	"github.com/port21/port21/internal/ftp"
)

// The anonymous logins are the probes whose answers a server may hold back
// on purpose: vsftpd waits about 3 s before refusing an anonymous PASS,
// Pure-FTPd with NoAnonymous a random 3-6 s before refusing the anonymous
// PASS over TLS. Run in line, those waits were the audit's length plus everything
// else; run on a connection of their own beside the other probes, they are
// the audit's length alone. The logins work on a fork of the audit (its own
// Observation and flags), which joinAnonymous merges back, so the two never
// share mutable state.

// anonTrack is the anonymous logins, in clear and then over TLS, running
// beside the other probes.
type anonTrack struct {
	sub  *audit
	done chan struct{}
	// refused is set when the service would not take the extra
	// connection: nothing was tried, and the logins run in line later.
	refused bool
	err     error
}

// startAnonymous starts the anonymous logins in the background on a second
// connection, the audit's spare, when the service has shown it takes two
// connections at once. While they run no new spare is opened, so the
// target never sees more than two of the scanner's connections. It reports
// whether the logins were started; if not, they run in line as probes of the
// control connection.
//
// A service that greets slowly keeps its spare for the probes instead:
// there the spare saves a greeting's wait on each new connection, more than
// running the logins beside the probes would.
func (a *audit) startAnonymous() bool {
	if a.implicit || a.noSpare || a.slowGreeter || a.spare == nil || a.ctx.Err() != nil {
		return false
	}
	select {
	case <-a.spare.done:
		if a.spare.err != nil {
			a.takeSpare() // refused: no more spares, and the logins run in line
			return false
		}
	default:
	}
	sub := a.fork()
	sub.spare, a.spare = a.spare, nil
	t := &anonTrack{sub: sub, done: make(chan struct{})}
	a.anon = t
	go func() {
		defer close(t.done)
		t.refused, t.err = sub.anonymousLogins()
	}()
	return true
}

// fork returns an audit of the same target that shares nothing mutable
// with a, so it may run beside a in another goroutine. It opens no spares.
func (a *audit) fork() *audit {
	return &audit{
		s: a.s, ctx: a.ctx, host: a.host, addr: a.addr, target: a.target,
		svc:     finding.Service{Features: a.svc.Features},
		noSpare: true,
		o:       Observation{Host: a.o.Host, Addr: a.o.Addr, Now: a.o.Now, Roots: a.o.Roots},
	}
}

// anonymousLogins is the background track: the anonymous login in clear
// and, when it worked or was refused for want of TLS, again over TLS.
// refused reports a service that would not take the track's first
// connection (421).
func (a *audit) anonymousLogins() (refused bool, err error) {
	c, r, err := a.open(false, nil)
	if err != nil {
		if r.Code == ftp.CodeServiceNotAvailable {
			return true, nil
		}
		return false, fmt.Errorf("anonymous login: connection: %w", err)
	}
	a.ctl = c
	defer a.dropCtl()
	if err := a.control("anonymous login", a.probeAnonymous); err != nil {
		return false, err
	}
	a.dropCtl()
	return false, a.anonymousOverTLS()
}

// anonymousOverTLS opens a connection, protects it with AUTH TLS and runs
// afterTLSLogin on it. A service that refuses AUTH TLS or the handshake is
// left to explicitTLS, which records why.
func (a *audit) anonymousOverTLS() error {
	if !a.anonymous && !a.anonNeedsTLS {
		return nil
	}
	c, _, err := a.authTLS(nil)
	switch {
	case errors.Is(err, ErrTLS) || err == nil && c == nil:
		return nil
	case err != nil:
		return fmt.Errorf("anonymous login over TLS: %w", err)
	}
	defer c.close()
	return a.afterTLSLogin(c)
}

// wait returns when the track has ended.
func (t *anonTrack) wait() { <-t.done }

// running reports whether the track still holds its connection.
func (t *anonTrack) running() bool {
	select {
	case <-t.done:
		return false
	default:
		return true
	}
}

// joinAnonymous waits for the anonymous track, if one runs, and merges
// what it saw into a. When the service refused the track's connection, the
// logins run now, in line, if inLine is set (not after the audit ended
// early).
func (a *audit) joinAnonymous(inLine bool) error {
	t := a.anon
	if t == nil {
		return nil
	}
	t.wait()
	a.anon = nil
	sub := t.sub
	sub.closeSpare()
	if t.refused {
		// The service takes one connection at a time.
		a.noSpare = true
		if !inLine || a.ctx.Err() != nil {
			return nil
		}
		if err := a.control("anonymous login", a.probeAnonymous); err != nil {
			return err
		}
		a.dropCtl()
		return a.anonymousOverTLS()
	}
	a.failed = append(a.failed, sub.failed...)
	a.anonymous, a.anonNeedsTLS = sub.anonymous, sub.anonNeedsTLS
	// The fork started with none of these set, and a sets none of them
	// while the track runs.
	o, so := &a.o, &sub.o
	o.Anonymous, o.AnonymousTLS = so.Anonymous, so.AnonymousTLS
	o.ProtC, o.ClearData = so.ProtC, so.ClearData
	o.Bounce, o.PASV, o.PASVAddr = so.Bounce, so.PASV, so.PASVAddr
	o.Listing, o.MLSDWritable = so.Listing, so.MLSDWritable
	o.Upload, o.UploadTried = so.Upload, so.UploadTried
	return t.err
}
