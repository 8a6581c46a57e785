package server

import (
	"context"
	"errors"
	"path"

	"github.com/port21/port21/internal/ftp"
)

// runJob runs a long command without a data connection (HASH) in the
// background, the way runTransfer runs transfers: the command loop still
// reads ABOR, QUIT, STAT and NOOP meanwhile, and ABOR, QUIT, the end of the
// session and server shutdown cancel ctx. fn replies itself.
func (s *session) runJob(fn func(ctx context.Context)) {
	ctx, cancel := context.WithCancel(s.ctx)
	t := &transfer{cancel: cancel, done: make(chan struct{})}
	s.xfer = t
	s.srv.wg.Go(func() {
		defer close(t.done)
		defer cancel()
		fn(ctx)
	})
}

// runHash serves HASH (draft-bryan-ftpext-hash) with the session's
// algorithm, and the older XSHA256, XSHA1, XMD5 and XCRC commands with
// their own (short is true): those answer "213 <hex>" alone, as ProFTPD's
// mod_digest does since 1.3.9 and as FluentFTP and FileZilla parse it.
func (s *session) runHash(arg, algo string, short bool) bool {
	vpath, f, err := s.openForRead(hashPath(arg, short))
	if err != nil {
		s.replyErr(err)
		return true
	}
	timeout := s.srv.conf().IdleTimeout.Duration
	s.runJob(func(ctx context.Context) {
		defer f.Close()
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		sum, n, err := hashFile(ctx, algo, f)
		switch {
		case errors.Is(err, context.DeadlineExceeded):
			s.log.Warn("hash abandoned: took longer than the idle time-out", "path", vpath, "bytes", n)
			s.reply(ftp.CodeLocalError, "Hash abandoned: it took too long.")
		case errors.Is(err, context.Canceled):
			s.log.Info("hash aborted", "path", vpath, "bytes", n)
			s.reply(ftp.CodeLocalError, "Hash aborted.")
		case err != nil:
			s.replyErr(err)
		case short:
			s.reply(ftp.CodeFileStatus, "%s", sum)
		default:
			// "213 <algo> <start>-<end> <hash> <path>".
			s.reply(ftp.CodeFileStatus, "%s 0-%d %s %s", algo, n, sum, path.Base(vpath))
		}
	})
	return true
}

// hashCommand returns the handler of an X-hash command for algo.
func hashCommand(algo string) func(*session, string) bool {
	return func(s *session, arg string) bool { return s.runHash(arg, algo, true) }
}
