package scan

import (
	"context"
	"errors"
	"net"
	"syscall"

	"github.com/port21/port21/internal/finding"
)

// Errors that decide a target's status (see statusOf).
var (
	// ErrRefused reports a service that would not serve the scanner: a 421
	// greeting or reply, or a hang-up before any greeting.
	ErrRefused = errors.New("scan: the service refused the scanner")
	// ErrTLS reports a TLS handshake the audit needed that failed.
	ErrTLS = errors.New("scan: TLS handshake failed")
)

// statusOf maps why an audit stopped to the target's status. parent is
// the scan's context: cancelled means ^C, not this target's time-out.
func statusOf(parent context.Context, err error) finding.Status {
	var ne net.Error
	switch {
	case err == nil:
		return finding.StatusSuccess
	case parent.Err() != nil:
		return finding.StatusInterrupted
	case errors.Is(err, ErrNotFTP):
		return finding.StatusNotFTP
	case errors.Is(err, ErrRefused):
		return finding.StatusRefused
	case errors.Is(err, errResolve):
		return finding.StatusResolveError
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return finding.StatusTimeout
	case errors.Is(err, ErrTLS):
		return finding.StatusTLSError
	case errors.Is(err, syscall.ECONNREFUSED):
		return finding.StatusClosed
	}
	return finding.StatusProtocolError
}

// errResolve marks a failed name lookup.
var errResolve = errors.New("resolve")

// dropped reports whether err means the server hung up (or said 421 and
// will), so the probe may be tried again on a fresh connection.
func dropped(err error) bool {
	return errors.Is(err, errClosing) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		isEOF(err)
}
