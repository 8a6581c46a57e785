package server

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/port21/port21/internal/audit"
	"github.com/port21/port21/internal/ftp"
	"github.com/port21/port21/internal/jail"
	"github.com/port21/port21/internal/users"
)

// Clear-text transfers move data in chunks, one sendfile or splice call
// each, and refresh the deadline per chunk, since nothing can be seen in
// the middle of such a call. The chunk adapts: it doubles while chunks go
// fast and halves when they go slow, so a fast client gets large kernel
// copies and a slow one is never mistaken for a stalled one. A stall is
// moving less than minChunk within DataTimeout.
const (
	minChunk = 4 << 10
	maxChunk = 4 << 20
)

// transfer is a data transfer running in its own goroutine, so that the
// command loop can still read ABOR.
type transfer struct {
	cancel  context.CancelFunc
	done    chan struct{}
	aborted atomic.Bool
}

func (t *transfer) abort() {
	t.aborted.Store(true)
	t.cancel()
}

func (t *transfer) wait() { <-t.done }

func (t *transfer) running() bool {
	select {
	case <-t.done:
		return false
	default:
		return true
	}
}

// result is a transfer's final reply and what the audit log records.
type result struct {
	code  int
	msg   string
	bytes int64
	err   error // for the log only, never shown to the client
}

// runTransfer sends the preliminary reply and runs fn on the data
// connection in a goroutine. fn must close the data connection and any
// file before returning: the final reply (226) promises both are done.
// abandon, if not nil, releases what the command prepared (an open file, an
// upload's temporary file) when no data connection comes and fn never runs.
func (s *session) runTransfer(op, vpath, prelim string, abandon func(), fn func(ctx context.Context, dc *dataConn) result) {
	plan := s.data
	s.data = nil
	ctx, cancel := context.WithCancel(s.ctx)
	t := &transfer{cancel: cancel, done: make(chan struct{})}
	s.xfer = t
	rec := audit.Transfer{Remote: s.remote.Addr(), Path: vpath, ASCII: s.typ == 'A', Anonymous: s.anonymous.Load(),
		Upload: op == "STOR" || op == "APPE" || op == "STOU"}
	if s.user != nil {
		rec.User = s.user.Name
	}
	// Busy before the 150: a shutdown that comes between them must let
	// the transfer the client was just told to start finish.
	s.beginBusy()
	s.reply(ftp.CodeFileStatusOK, "%s", prelim)
	s.srv.idle.begin()
	s.srv.wg.Go(func() {
		defer close(t.done)
		defer s.srv.idle.end()
		defer s.endBusy() // after the final reply
		defer cancel()
		defer plan.close()
		start := time.Now()
		dc, err := s.openData(ctx, plan)
		var res result
		if err != nil {
			if abandon != nil {
				abandon()
			}
			res.code, res.msg = dataErrReply(err)
			res.err = err
		} else {
			stop := context.AfterFunc(ctx, dc.abort)
			res = fn(ctx, dc)
			stop()
		}
		// A client that could not resume usually hangs up before the
		// refusal's grace ends: the log must still say why.
		if t.aborted.Load() && !errors.Is(err, errNoReuse) {
			res.code, res.msg = ftp.CodeTransferAborted, "Connection closed; transfer aborted."
		}
		rec.Op, rec.Start, rec.Duration, rec.Bytes, rec.Code = op, start, time.Since(start), res.bytes, res.code
		rec.Complete = res.code == ftp.CodeTransferComplete
		if res.err != nil {
			rec.Err = res.err.Error()
		}
		if errors.Is(res.err, errQuota) {
			s.emit(audit.Refused{Stage: audit.StageUpload, Reason: "quota", Detail: "quota reached during the upload"})
		}
		s.emit(rec)
		s.reply(res.code, "%s", res.msg)
	})
}

// copyData copies src to dst until EOF. In clear, io.CopyN keeps *os.File
// and *net.TCPConn visible to io.Copy, so transfers use sendfile and splice,
// with the deadline refreshed per chunk. Under TLS the data passes through
// memory anyway, the deadline refreshes itself on every read and write (see
// stallConn), and crypto/tls hands out one 16 KiB record per Read:
// collecting records into a large buffer makes one file write per megabyte
// instead of one per record. A download's records are batched into fewer
// socket writes (stallConn.batch).
func (s *session) copyData(dc *dataConn, dst io.Writer, src io.Reader) (int64, error) {
	if dc.tls != nil {
		buf := s.srv.tlsBuffers.Get().(*[]byte)
		defer s.srv.tlsBuffers.Put(buf)
		data, batch := (*buf)[:tlsCopyBuffer], (*buf)[tlsCopyBuffer:]
		if _, limited := src.(*limitedReader); limited {
			// A rate-limited transfer writes what each paced read
			// returns: a full megabyte at, say, 16 KiB/s would keep the
			// client waiting a minute for its first byte, past the
			// timeouts of FileZilla and WinSCP.
			return io.CopyBuffer(dst, src, data)
		}
		if dst != io.Writer(dc.tls) { // an upload, or a conversion to ASCII
			return copyFull(dst, src, data)
		}
		dc.fin.startBatch(batch)
		n, err := copyFull(dst, src, data)
		if ferr := dc.fin.endBatch(); err == nil {
			err = ferr
		}
		return n, err
	}
	timeout := s.srv.conf().DataTimeout.Duration
	var total int64
	for size := int64(minChunk); ; {
		start := time.Now()
		dc.setDeadline(start.Add(timeout))
		n, err := io.CopyN(dst, src, size)
		total += n
		if errors.Is(err, io.EOF) {
			return total, nil
		}
		if err != nil {
			return total, err
		}
		switch took := time.Since(start); {
		case took < timeout/8:
			size = min(2*size, maxChunk)
		case took > timeout/2:
			size = max(size/2, minChunk)
		}
	}
}

// tlsCopyBuffer is the data buffer of a TLS transfer: 64 TLS records; the
// pooled buffers (Server.tlsBuffers) hold a download's batch after it
// (maxBatch bytes). Zeroing a fresh megabyte for every small file costs
// more than the file, and the pool empties itself at garbage collection,
// so an idle server keeps none.
const tlsCopyBuffer = 1 << 20

// copyFull copies src to dst until EOF, writing only full buffers (and the
// last, short one).
func copyFull(dst io.Writer, src io.Reader, buf []byte) (int64, error) {
	var total int64
	for {
		n, err := io.ReadFull(src, buf)
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return total, werr
			}
			total += int64(n)
		}
		switch {
		case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
			return total, nil
		case err != nil:
			return total, err
		}
	}
}

func (s *session) cmdREST(arg string) bool {
	n, err := parseREST(arg)
	if err != nil {
		s.reply(ftp.CodeParamSyntaxError, "REST needs a non-negative byte offset.")
		return true
	}
	s.rest = n
	s.reply(ftp.CodePendingMore, "Restarting at %d. Send RETR or STOR to go on.", n)
	return true
}

func (s *session) cmdABOR(string) bool {
	if s.xfer == nil {
		s.data.close()
		s.data = nil
		s.reply(ftp.CodeTransferComplete, "No transfer to abort.")
		return true
	}
	s.xfer.abort()
	s.xfer.wait()
	s.xfer = nil
	s.reply(ftp.CodeTransferComplete, "ABOR successful.")
	return true
}

func (s *session) typeName() string {
	if s.typ == 'A' {
		return "ASCII"
	}
	return "BINARY"
}

func (s *session) cmdRETR(arg string) bool {
	if !s.dataPolicy() {
		return true
	}
	vpath, f, err := s.openForRead(arg)
	if err == nil && s.rest > 0 {
		_, err = f.Seek(s.rest, io.SeekStart)
	}
	if err != nil {
		if f != nil {
			f.Close()
		}
		s.failData(err)
		return true
	}
	size := int64(-1)
	if fi, err := f.Stat(); err == nil {
		size = fi.Size()
	}
	prelim := fmt.Sprintf("Opening %s mode data connection for %s (%d bytes).", s.typeName(), path.Base(vpath), size)
	ascii := s.typ == 'A'
	s.runTransfer("RETR", vpath, prelim, func() { f.Close() }, func(ctx context.Context, dc *dataConn) result {
		defer f.Close()
		src := s.limitRead(ctx, f, false)
		var dst io.Writer = dc.conn()
		var bw *bufio.Writer
		if ascii {
			bw = bufio.NewWriterSize(dst, 64<<10)
			dst = &toCRLF{w: bw}
		}
		n, err := s.copyData(dc, dst, src)
		if err == nil && bw != nil {
			err = bw.Flush()
		}
		if err != nil {
			dc.abort()
			return result{code: ftp.CodeTransferAborted, msg: "Connection closed; transfer aborted.", bytes: n, err: err}
		}
		if err := dc.finishSend(); err != nil {
			return result{code: ftp.CodeTransferAborted, msg: "Connection closed; transfer aborted.", bytes: n, err: err}
		}
		return result{code: ftp.CodeTransferComplete, msg: "Transfer complete.", bytes: n}
	})
	return true
}

func (s *session) openForRead(arg string) (string, *os.File, error) {
	vpath, err := jail.Resolve(s.cwd, arg)
	if err != nil {
		return "", nil, err
	}
	f, err := s.jail.OpenFile(vpath)
	return vpath, f, err
}

// failData replies to a transfer command that failed before the data
// connection was used, and drops the prepared data connection.
func (s *session) failData(err error) {
	s.data.close()
	s.data = nil
	if err != nil {
		s.replyErr(err)
	}
}

func (s *session) cmdSTOR(arg string) bool { return s.store(arg, false) }
func (s *session) cmdAPPE(arg string) bool { return s.store(arg, true) }

// store receives an upload. It is atomic: the data goes to a temporary
// file that is renamed into place only when the whole upload arrived (see
// jail.CreateUpload, which also makes resume work on top of that).
func (s *session) store(arg string, appendMode bool) bool {
	vpath, err := jail.Resolve(s.cwd, arg)
	if err != nil {
		s.failData(err)
		return true
	}
	// Rights and quota first: a refusal should say why, not "use PASV".
	// Only an account that may not overwrite needs to look.
	if !s.user.Can(users.PermOverwrite) {
		if fi, err := s.jail.Stat(vpath); err == nil && fi.Mode().IsRegular() {
			s.failData(nil)
			s.reply(ftp.CodeFileUnavailable, "Permission denied: %s.", users.PermOverwrite.Refusal())
			return true
		}
	}
	wrap, release, ok := s.checkQuota(vpath)
	if !ok {
		s.failData(nil)
		return true
	}
	if !s.dataPolicy() {
		release()
		return true
	}
	up, err := s.jail.CreateUpload(vpath, s.rest, appendMode)
	if err != nil {
		release()
		s.failData(err)
		return true
	}
	op := "STOR"
	if appendMode {
		op = "APPE"
	}
	prelim := fmt.Sprintf("Ok to send data for %s (%s mode).", path.Base(vpath), s.typeName())
	s.runTransfer(op, vpath, prelim, func() { up.Abort(); release() }, s.receive(up, wrap, release, "Transfer complete."))
	return true
}

func (s *session) cmdSTOU(arg string) bool {
	if !s.dataPolicy() {
		return true
	}
	hint := "upload"
	if arg != "" {
		hint = path.Base(arg)
	}
	wrap, release, ok := s.checkQuota(path.Join(s.cwd, ".port21-no-such-file"))
	if !ok {
		s.failData(nil)
		return true
	}
	up, vpath, err := s.jail.CreateUnique(s.cwd, hint)
	if err != nil {
		release()
		s.failData(err)
		return true
	}
	// RFC 1123 4.1.2.9: the preliminary reply names the file.
	name := path.Base(vpath)
	s.runTransfer("STOU", vpath, "FILE: "+name, func() { up.Abort(); release() }, s.receive(up, wrap, release, "Transfer complete (unique file name: "+name+")."))
	return true
}

// receive returns the transfer body of an upload into up.
// wrap, if not nil, enforces the account's quota; release frees what the
// quota check held, once the upload is over.
func (s *session) receive(up *jail.Upload, wrap func(io.Writer) *quotaWriter, release func(), done string) func(context.Context, *dataConn) result {
	ascii := s.typ == 'A'
	return func(ctx context.Context, dc *dataConn) result {
		defer release()
		// Writing through up, not up.File(), defers a resume's copy of
		// the old file until the first byte arrives.
		var dst io.Writer = up
		if wrap != nil {
			dst = wrap(up)
		}
		var bw *bufio.Writer
		var conv *fromCRLF
		if ascii {
			bw = bufio.NewWriterSize(dst, 64<<10)
			conv = &fromCRLF{w: bw}
			dst = conv
		}
		n, err := s.copyData(dc, dst, s.limitRead(ctx, dc.conn(), true))
		if err == nil && conv != nil {
			if conv.pending {
				_, err = bw.Write([]byte{'\r'})
			}
			if err == nil {
				err = bw.Flush()
			}
		}
		cutShort := dc.fin != nil && dc.fin.fin.Load()
		dc.finishReceive()
		switch {
		case errors.Is(err, errQuota):
			// The temporary file goes: nothing partial is left.
			up.Abort()
			dc.abort()
			return result{code: ftp.CodeExceededStorage, bytes: n, err: err,
				msg: "Quota exceeded: the upload would take the account past its storage quota; nothing was stored."}
		case localWriteError(err):
			up.Abort()
			code, msg := errReply(err)
			return result{code: code, msg: msg + " Nothing was stored.", bytes: n, err: err}
		case err != nil:
			up.Abort()
			if hint := uploadResetHint(err, dc.tls != nil); hint != "" {
				err = fmt.Errorf("%w (hint: %s)", err, hint)
			}
			return result{code: ftp.CodeTransferAborted, msg: "Connection closed; transfer aborted. Nothing was stored.", bytes: n, err: err}
		case cutShort && s.srv.conf().RequireCloseNotify:
			up.Abort()
			return result{code: ftp.CodeTransferAborted, bytes: n, err: errors.New("upload ended without TLS close_notify"),
				msg: "Upload ended without a TLS close_notify, so it may have been cut short; nothing was stored."}
		}
		if err := up.Commit(); err != nil {
			up.Abort()
			code, msg := errReply(err)
			return result{code: code, msg: msg, bytes: n, err: err}
		}
		return result{code: ftp.CodeTransferComplete, msg: done, bytes: n}
	}
}

// localWriteError reports whether an upload failed on the server's side
// (a full disk, a quota) rather than the connection's: the client must hear
// why (452, 552), not that its connection broke.
//
// In clear, an upload is spliced from the socket into the file, and Go
// reports a failure of either side as a *fs.PathError of the file ("write
// NAME: splice: connection reset by peer", "write NAME: i/o timeout"), so
// an error only a connection can have is the connection's, whatever wraps
// it: the client reset or stalled, which is 426, not a local error (451).
func localWriteError(err error) bool {
	switch {
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		return true
	case connectionError(err):
		return false
	}
	var pe *fs.PathError
	return errors.As(err, &pe)
}

// connectionError reports whether err is one that only a network
// connection has: a reset, a broken pipe, a deadline, a closed socket.
func connectionError(err error) bool {
	for _, e := range []error{os.ErrDeadlineExceeded, net.ErrClosed, syscall.ECONNRESET, syscall.ECONNABORTED,
		syscall.EPIPE, syscall.ETIMEDOUT, syscall.ENOTCONN} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// toCRLF converts LF line ends to CRLF for TYPE A downloads.
type toCRLF struct {
	w      io.Writer
	lastCR bool
}

func (c *toCRLF) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			if _, err := c.w.Write(p); err != nil {
				return written, err
			}
			c.lastCR = p[len(p)-1] == '\r'
			return written + len(p), nil
		}
		if _, err := c.w.Write(p[:i]); err != nil {
			return written, err
		}
		prevCR := c.lastCR
		if i > 0 {
			prevCR = p[i-1] == '\r'
		}
		eol := "\r\n"
		if prevCR {
			eol = "\n"
		}
		if _, err := io.WriteString(c.w, eol); err != nil {
			return written, err
		}
		c.lastCR = false
		written += i + 1
		p = p[i+1:]
	}
	return written, nil
}

// fromCRLF converts CRLF line ends to LF for TYPE A uploads; a lone CR is
// kept.
type fromCRLF struct {
	w       io.Writer
	pending bool // a CR was held back at the end of the last write
}

func (c *fromCRLF) Write(p []byte) (int, error) {
	n := len(p)
	out := make([]byte, 0, len(p)+1)
	if c.pending {
		if len(p) == 0 || p[0] != '\n' {
			out = append(out, '\r')
		}
		c.pending = false
	}
	for i, b := range p {
		if b == '\r' {
			if i == len(p)-1 {
				c.pending = true
				continue
			}
			if p[i+1] == '\n' {
				continue
			}
		}
		out = append(out, b)
	}
	if _, err := c.w.Write(out); err != nil {
		return 0, err
	}
	return n, nil
}
