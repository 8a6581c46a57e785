package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/port21/port21/internal/audit"
	"github.com/port21/port21/internal/ftp"
	"github.com/port21/port21/internal/jail"
	"github.com/port21/port21/internal/policy"
	"github.com/port21/port21/internal/users"
)

var errTooManyFiles = syscall.EMFILE

// session is one control connection and everything that hangs off it.
// Its fields are owned by the goroutine running run, except where noted.
type session struct {
	srv *Server
	id  string
	log *slog.Logger
	// baseLog is log before login; REIN goes back to it.
	baseLog *slog.Logger
	// remote is the client's address, set once at accept: the control
	// connection's peer, or the address a trusted proxy's PROXY header
	// gave (see clientAddr). Every check uses it, none the socket's peer.
	remote netip.AddrPort
	local  netip.AddrPort

	// ctx ends when the session is killed or the server stops; transfers,
	// listings and HASH run under it, so a kill from another goroutine (an
	// expired account, a ban) ends them too. srvCtx ends only with the
	// server (set by run), for work that outlives the session, such as a
	// rehash.
	ctx    context.Context
	cancel context.CancelFunc
	srvCtx context.Context

	raw  net.Conn // the TCP connection
	ctrl net.Conn // raw, or the TLS connection on top of it
	r    *ftp.Reader

	wmu    sync.Mutex // serialises replies: a transfer goroutine replies too
	closed bool       // guarded by wmu

	tlsOn   bool
	tickets ticketSealer // seals this session's TLS tickets; immutable
	pbsz    bool
	prot    byte // 'C' or 'P'
	// tlsPBSZ and tlsProt are pbsz and prot as the TLS handshake left
	// them, for REIN.
	tlsPBSZ bool
	tlsProt byte

	pendingUser string
	user        *users.User
	account     atomic.Pointer[string] // user name once logged in; read by other sessions
	anonymous   atomic.Bool            // logged in as anonymous (not a store account)
	// killedByServer marks a session the server ended (ban, shutdown): its
	// lack of a login is no evidence against the address.
	killedByServer atomic.Bool
	// ended is why the session ends, for its disconnect event (endAs).
	ended atomic.Pointer[audit.Disconnect]
	// spoke is set once the client has sent a command line, good or bad.
	// A connection that never did (a TCP health check, a port scan) is no
	// failed login; read by handle after run returns.
	spoke    bool
	homeDir  string        // the jail's host path, for quota walks
	loggedIn chan struct{} // closed at login
	jail     *jail.Jail
	cwd      string
	failures int
	loginBy  time.Time
	preLogin func() // frees the pre-login connection slot; called at login

	typ        byte // 'A' or 'I'
	rest       int64
	renameFrom string
	hashAlgo   string
	facts      ftp.FactSet
	mlstAsked  bool // the client chose its facts with OPTS MLST (see dirEntries)
	epsvAll    bool

	data *dataPlan // how the next transfer gets its data connection
	xfer *transfer // the transfer in progress, if any

	// drainMu guards draining (the server is stopping) and busy (transfers
	// running), which other goroutines read: see drain.
	drainMu  sync.Mutex
	draining bool
	busy     int
}

// newSession starts a session for the client at remote (see clientAddr)
// on the control connection c.
func newSession(s *Server, c net.Conn, remote netip.AddrPort, log *slog.Logger) (*session, error) {
	sess := &session{
		srv:      s,
		id:       newID(),
		raw:      c,
		ctrl:     c,
		remote:   remote,
		local:    addrPort(c.LocalAddr()),
		prot:     'C',
		typ:      'A',
		cwd:      "/",
		tlsProt:  'C',
		hashAlgo: defaultHash,
		facts:    ftp.DefaultFacts,
		loggedIn: make(chan struct{}),
	}
	sess.log = log.With("session", sess.id)
	sess.ctx, sess.cancel = context.WithCancel(context.Background())
	sess.baseLog = sess.log
	var err error
	if sess.tickets, err = newTicketSealer(); err != nil {
		return nil, err
	}
	sess.r = ftp.NewReader(c)
	return sess, nil
}

// run serves the session until the client quits, the connection fails or
// ctx is done.
func (s *session) run(ctx context.Context, implicitTLS bool) {
	defer s.cleanup()
	s.srvCtx = ctx
	defer s.cancel() // before cleanup waits for the transfer
	// A session at a prompt ends at once; one with a transfer running
	// ends when it does (see drain).
	stop := context.AfterFunc(ctx, s.drain)
	defer stop()
	s.loginBy = s.srv.now().Add(s.srv.conf().LoginTimeout.Duration)
	s.emit(audit.Connect{Local: s.local, ImplicitTLS: implicitTLS})
	if implicitTLS {
		if err := s.startTLS(); err != nil {
			s.emit(audit.TLSFailed{Channel: audit.ChannelControl, Err: err.Error(), Hint: handshakeHint(err)})
			return
		}
		s.prot, s.pbsz = 'P', true
		s.tlsProt, s.tlsPBSZ = 'P', true
	}
	if s.tlsOn {
		s.reply(ftp.CodeServiceReady, "port21 ready. Log in.")
	} else {
		s.reply(ftp.CodeServiceReady, "port21 ready. TLS is required: AUTH TLS, then log in.")
	}
	for {
		deadline := s.srv.now().Add(s.srv.conf().IdleTimeout.Duration)
		if s.user == nil && s.loginBy.Before(deadline) {
			deadline = s.loginBy
		}
		s.raw.SetReadDeadline(deadline)
		cmd, err := s.r.ReadCommand()
		if err == nil || !errors.Is(err, os.ErrDeadlineExceeded) && !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && !errors.Is(err, syscall.ECONNRESET) {
			s.spoke = true
		}
		if err != nil {
			if s.handleReadError(err) {
				continue
			}
			return
		}
		s.log.Debug("command", "cmd", cmd.String())
		if !s.dispatch(cmd) {
			return
		}
	}
}

// handleReadError replies to a bad line and reports whether the session
// may go on.
func (s *session) handleReadError(err error) bool {
	switch {
	case errors.Is(err, ftp.ErrLineTooLong):
		s.reply(ftp.CodeSyntaxError, "Line too long.")
		return true
	case errors.Is(err, ftp.ErrEmptyCommand), errors.Is(err, ftp.ErrBadVerb):
		if s.user == nil {
			s.srv.record(s.remote.Addr(), policy.EventProtocolError)
		}
		s.reply(ftp.CodeSyntaxError, "Syntax error, command unrecognized.")
		return true
	case errors.Is(err, ftp.ErrNUL), errors.Is(err, ftp.ErrBadChar):
		s.reply(ftp.CodeParamSyntaxError, "Control characters are not allowed in commands.")
		return true
	case errors.Is(err, os.ErrDeadlineExceeded):
		if s.xfer != nil && s.xfer.running() {
			return true // a long transfer is not idleness
		}
		if s.user == nil {
			s.endAs("login-timeout", "")
			s.reply(ftp.CodeServiceNotAvailable, "Login timeout; closing control connection.")
		} else {
			s.endAs("idle-timeout", "")
			s.reply(ftp.CodeServiceNotAvailable, "Idle timeout; closing control connection.")
		}
		return false
	case errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed), errors.Is(err, syscall.ECONNRESET):
		return false
	default:
		s.log.Debug("control read failed", "err", err)
		return false
	}
}

// dispatch runs one command and reports whether the session goes on.
func (s *session) dispatch(cmd ftp.Command) bool {
	c, ok := s.srv.cmds[cmd.Verb]
	if !ok {
		if s.user == nil {
			s.srv.record(s.remote.Addr(), policy.EventProtocolError)
		}
		s.reply(ftp.CodeSyntaxError, "Unknown command %q.", cmd.Verb)
		return true
	}
	// While a transfer runs only ABOR, STAT, NOOP and QUIT are served at
	// once; anything else waits for the transfer to finish (pipelining).
	if s.xfer != nil && !c.duringTransfer {
		s.xfer.wait()
		s.xfer = nil
	}
	if c.transfer && s.isDraining() {
		s.kill("shutdown", "", reply421("Server shutting down."))
		return false
	}
	if c.transfer {
		// A REST offset applies to the next transfer only.
		defer func() { s.rest = 0 }()
	}
	if cmd.Verb != "RNTO" && cmd.Verb != "RNFR" {
		s.renameFrom = ""
	}
	// Re-read the account before every command but QUIT, NOOP included (it
	// keeps a session alive), so account changes take effect at once. The
	// data-connection setup commands leave it to the transfer command that
	// follows: a changed account gets a passive port at most, never a byte
	// (and sweepAccounts ends its session within the poll interval anyway).
	if s.user != nil && cmd.Verb != "QUIT" && !c.dataSetup && !s.recheck() {
		return false
	}
	switch {
	case c.needLogin && s.user == nil:
		s.reply(ftp.CodeNotLoggedIn, "Please log in with USER and PASS first.")
		return true
	case c.needArg && cmd.Arg == "":
		s.reply(ftp.CodeParamSyntaxError, "%s needs an argument.", cmd.Verb)
		return true
	case s.user != nil && s.refused(c.write, c.perm):
		return true
	}
	return c.fn(s, cmd.Arg)
}

// refused answers with 550 and reports true when the logged-in account may
// not run a command that writes (write) or needs perm. Commands whose
// rights depend on their arguments (SITE CHMOD, MDTM with a time) call it
// themselves.
func (s *session) refused(write bool, perm users.Perm) bool {
	switch {
	case write && s.user.ReadOnly:
		s.reply(ftp.CodeFileUnavailable, "Permission denied: this account is read-only.")
	case perm != 0 && !s.user.Can(perm):
		s.reply(ftp.CodeFileUnavailable, "Permission denied: %s.", (perm &^ s.user.Effective()).Refusal())
	default:
		return false
	}
	return true
}

// reply writes one reply. It is safe from any goroutine.
func (s *session) reply(code int, format string, args ...any) {
	text := format
	if len(args) > 0 {
		text = fmt.Sprintf(format, args...)
	}
	s.send(ftp.Reply{Code: code, Lines: strings.Split(text, "\n")})
}

func (s *session) send(r ftp.Reply) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.closed {
		return
	}
	s.ctrl.SetWriteDeadline(time.Now().Add(s.srv.conf().IdleTimeout.Duration))
	if _, err := r.WriteTo(s.ctrl); err != nil {
		s.log.Debug("reply failed", "err", err)
	}
}

// endAs records why the session ends, for its disconnect event; the first
// reason given wins. Safe from any goroutine.
func (s *session) endAs(reason, detail string) {
	s.ended.CompareAndSwap(nil, &audit.Disconnect{Reason: reason, Detail: detail})
}

func reply421(msg string) ftp.Reply {
	return ftp.Reply{Code: ftp.CodeServiceNotAvailable, Lines: []string{msg}}
}

// kill sends a last reply and closes the control connection, which makes
// the command loop end; reason and detail are the disconnect event's. Safe
// from any goroutine.
func (s *session) kill(reason, detail string, r ftp.Reply) {
	s.endAs(reason, detail)
	s.killedByServer.Store(true)
	s.send(r)
	if s.cancel != nil {
		s.cancel()
	}
	s.wmu.Lock()
	s.closed = true
	s.wmu.Unlock()
	s.raw.Close()
}

func (s *session) cleanup() {
	if s.cancel != nil {
		defer s.cancel()
	}
	if s.xfer != nil {
		s.xfer.abort()
		s.xfer.wait()
	}
	s.data.close()
	if s.jail != nil {
		s.jail.Close()
	}
	if s.preLogin != nil {
		s.preLogin() // a slot taken again by REIN; releasing twice is harmless
	}
	s.wmu.Lock()
	s.closed = true
	s.wmu.Unlock()
	if tc, ok := s.ctrl.(*tls.Conn); ok {
		tc.SetWriteDeadline(time.Now().Add(time.Second))
		tc.Close()
	}
	s.raw.Close()
	s.endAs("closed", "")
	s.emit(*s.ended.Load())
}

// emit sends e to the server's sink with the session's logger, which
// names the client, the session and, after login, the account.
func (s *session) emit(e audit.Event) {
	s.srv.emit(s.log, e)
}

// startTLS runs the server side of the control connection's handshake and
// switches the command reader onto it.
func (s *session) startTLS() error {
	// Anything the client sent after AUTH TLS but before the handshake was
	// sent in clear and could have been injected by a man in the middle
	// (CVE-2011-1575): it must never be read as a command.
	if n := s.r.Buffered(); n > 0 {
		s.log.Warn("discarded plaintext sent after AUTH TLS before the handshake", "bytes", n)
	}
	tc := tls.Server(s.raw, s.controlTLSConfig())
	// Before login the login deadline is absolute, through the handshake
	// too: AUTH TLS just before it and a stalled handshake must not buy a
	// pre-login connection another DataTimeout (issue 7).
	deadline := time.Now().Add(s.srv.conf().DataTimeout.Duration)
	if s.user == nil && s.loginBy.Before(deadline) {
		deadline = s.loginBy
	}
	s.raw.SetDeadline(deadline)
	err := tc.Handshake()
	s.raw.SetDeadline(time.Time{})
	if err != nil {
		return err
	}
	st := tc.ConnectionState()
	s.emit(audit.TLS{Channel: audit.ChannelControl, Version: tls.VersionName(st.Version), Cipher: tls.CipherSuiteName(st.CipherSuite),
		ALPN: st.NegotiatedProtocol, Resumed: st.DidResume})
	s.wmu.Lock()
	s.ctrl = tc
	s.wmu.Unlock()
	s.r.Reset(tc)
	s.tlsOn = true
	return nil
}
