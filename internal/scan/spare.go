package scan

import (
	"context"

	"github.com/port21/port21/internal/ftp"
)

// spare is a plain control connection opened ahead of need: dialled and
// greeted while the current probe runs, so that the next probe does not
// wait for a greeting again. A slow service (one doing a reverse DNS lookup,
// or trickling its banner) makes every new connection wait seconds; an
// audit opens a dozen. The audit keeps at most one spare, so a target never
// sees more than two of the scanner's connections at once.
type spare struct {
	cancel context.CancelFunc
	done   chan struct{}
	c      *conn
	r      ftp.Reply
	err    error
}

// startSpare opens the next spare in the background, unless the service is
// implicit FTPS (whose greeting needs the probe's own TLS configuration),
// refused a spare before (it limits connections per address), or has the
// anonymous logins running beside the probes on a second connection (once
// they are over, spares resume: ProFTPD accepts a new connection only after
// a pause, which the spare hides).
func (a *audit) startSpare() {
	if a.implicit || a.noSpare || a.spare != nil || a.anon != nil && a.anon.running() || a.ctx.Err() != nil {
		return
	}
	ctx, cancel := context.WithCancel(a.ctx)
	sp := &spare{cancel: cancel, done: make(chan struct{})}
	a.spare = sp
	go func() {
		defer close(sp.done)
		sp.c, sp.r, sp.err = a.openCtx(ctx, false, nil)
	}()
}

// takeSpare returns the spare when it greeted, and starts the next. When it
// did not, the caller opens a connection itself, and no more spares are
// made: a second connection is what this service refuses.
func (a *audit) takeSpare() (*conn, ftp.Reply, bool) {
	sp := a.spare
	if sp == nil {
		return nil, ftp.Reply{}, false
	}
	a.spare = nil
	<-sp.done
	if sp.err != nil {
		sp.cancel()
		a.noSpare = true
		return nil, ftp.Reply{}, false
	}
	a.startSpare()
	return sp.c, sp.r, true
}

// closeSpare ends the spare, if any, at the end of the audit.
func (a *audit) closeSpare() {
	sp := a.spare
	if sp == nil {
		return
	}
	a.spare = nil
	select {
	case <-sp.done:
		if sp.c != nil {
			sp.c.close() // greeted: say QUIT
		}
	default:
		sp.cancel()
		<-sp.done
		if sp.c != nil {
			sp.c.close()
		}
	}
	sp.cancel()
}
