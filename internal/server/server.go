// Package server is port21's FTP/FTPS session engine: it accepts control
// connections, runs each session's command loop, opens data connections
// bound to their session, and enforces the security policy (TLS before
// login, protected and session-bound data connections, no bounce, jailed
// users, bans on password guessing). The wire format lives in package ftp,
// the file system in package jail and the accounts in package users.
package server

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/port21/port21/internal/audit"
	"github.com/port21/port21/internal/config"
	"github.com/port21/port21/internal/datadir"
	"github.com/port21/port21/internal/fdlimit"
	"github.com/port21/port21/internal/policy"
	"github.com/port21/port21/internal/proxyproto"
	"github.com/port21/port21/internal/users"
)

// Accounts is what the server needs from the user store.
type Accounts interface {
	Get(ctx context.Context, name string) (users.User, error)
	// ReplaceHash sets name's hash to hash if it is still old; otherwise
	// it fails with users.ErrHashChanged.
	ReplaceHash(ctx context.Context, name, old, hash string) error
	// CleartextFrom reports whether any account may log in in clear from
	// addr.
	CleartextFrom(ctx context.Context, addr netip.Addr) (bool, error)
}

// Passwords verifies and (re)hashes passwords.
type Passwords interface {
	Verify(ctx context.Context, encoded, password string) (ok, needsRehash bool, err error)
	DummyVerify(ctx context.Context, password string) error
	Hash(ctx context.Context, password string) (string, error)
}

// Options are everything a Server needs; Config must come from
// config.Config.Validate.
type Options struct {
	Config    config.Validated
	Cert      tls.Certificate
	Accounts  Accounts
	Passwords Passwords
	Logger    *slog.Logger
	// Events, if not nil, receives every audit event after Logger has
	// logged it: the xferlog and the metrics are its observers.
	Events *audit.Sink
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Bans, if not nil, persists the defender's bans and brings in those
	// of `port21 ban`; nil keeps them in memory only.
	Bans BanStore
	// PollInterval is how often bans and accounts are re-read; zero means
	// pollInterval.
	PollInterval time.Duration
	// FailDelay is how long after PASS a failed login is answered (slows
	// guessing on one connection, bans handle many; and every failure takes
	// the same time, whatever the check cost). Zero means one second;
	// negative, none.
	FailDelay time.Duration
}

// Server is an FTP/FTPS server. Create it with New.
type Server struct {
	// cfg is swapped whole by Reload; read it through conf, once per use,
	// never keep a copy across a wait.
	cfg       atomic.Pointer[config.Validated]
	cert      atomic.Pointer[tls.Certificate] // served by tlsBase.GetCertificate
	homeBase  string
	accounts  Accounts
	passwords Passwords
	log       *slog.Logger
	events    *audit.Sink // nil: events are only logged
	now       func() time.Time
	failDelay time.Duration
	tlsBase   *tls.Config
	defender  *policy.Defender
	banStore  BanStore
	pollEvery time.Duration
	// bansVersion is the store's ban version last loaded.
	bansVersion atomic.Int64
	// unsaved holds the defender's bans the store could not take (a full
	// disk), until it can.
	unsaved      unsavedBans
	maintainOnce sync.Once
	stopMaintain context.CancelFunc // set by maintainOnce
	quotas       *quotas
	rates        *rates
	limiter      *policy.Limiter
	// passiveSlots counts passive listeners waiting for a connection.
	passiveSlots *policy.Limiter
	lists        *listLimits
	tlsBuffers   sync.Pool // *[]byte of tlsCopyBuffer+maxBatch bytes
	idle         *idleRelease
	cmds         map[string]command

	mu       sync.Mutex
	sessions map[*session]struct{}
	retired  map[string][]retired // by account: sessions that ended, while their tickets may still be offered
	rehashed map[string]string    // hashes this server replaced at login: old -> new
	wg       sync.WaitGroup
}

// New checks opts and returns a server ready to Serve.
func New(opts Options) (*Server, error) {
	if opts.Accounts == nil || opts.Passwords == nil {
		return nil, errors.New("server: Accounts and Passwords are required")
	}
	if len(opts.Cert.Certificate) == 0 {
		return nil, errors.New("server: a TLS certificate is required")
	}
	home, err := filepath.Abs(datadir.Dir(opts.Config.DataDir).Homes())
	if err != nil {
		return nil, fmt.Errorf("server: data-dir: %w", err)
	}
	s := &Server{
		homeBase:     home,
		accounts:     opts.Accounts,
		passwords:    opts.Passwords,
		log:          opts.Logger,
		events:       opts.Events,
		now:          opts.Now,
		failDelay:    opts.FailDelay,
		limiter:      policy.NewLimiter(opts.Config.MaxClients, opts.Config.MaxClientsPerIP),
		passiveSlots: policy.NewLimiter(opts.Config.Passive.Len(), opts.Config.MaxPassivePerIP),
		lists:        newListLimits(maxListings),
		banStore:     opts.Bans,
		pollEvery:    opts.PollInterval,
		quotas:       &quotas{bytes: map[string]int64{}, files: map[string]int64{}},
		rates:        &rates{m: map[string]*ratePair{}},
		cmds:         commandTable(),
		sessions:     map[*session]struct{}{},
		retired:      map[string][]retired{},
		rehashed:     map[string]string{},
		idle:         newIdleRelease(),
	}
	cfg := opts.Config
	s.cfg.Store(&cfg)
	cert := opts.Cert
	s.cert.Store(&cert)
	if s.tlsBase, err = newTLSBase(&s.cert, cfg.TLSMin, cfg.TLSMax); err != nil {
		return nil, err
	}
	s.tlsBuffers.New = func() any { b := make([]byte, tlsCopyBuffer+maxBatch); return &b }
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.limiter.SetLimits(s.clientCap(cfg.MaxClients), cfg.MaxClientsPerIP)
	if s.now == nil {
		s.now = time.Now
	}
	switch {
	case s.failDelay == 0:
		s.failDelay = time.Second
	case s.failDelay < 0:
		s.failDelay = 0
	}
	if s.pollEvery <= 0 {
		s.pollEvery = pollInterval
	}
	s.defender = policy.NewDefender(defenderConfig(&cfg), s.now)
	return s, nil
}

func defenderConfig(c *config.Validated) policy.DefenderConfig {
	return policy.DefenderConfig{
		Threshold: c.MaxLoginFailures,
		Window:    c.BanWindow.Duration,
		BanBase:   c.BanDuration.Duration,
		BanMax:    c.BanMaxDuration.Duration,
		Exempt:    c.ExemptNets,
	}
}

// conf is the configuration in force now.
func (s *Server) conf() *config.Validated { return s.cfg.Load() }

// ListenAndServe listens on the configured addresses and serves until ctx
// is done. ready, if not nil, is called with the bound listeners' addresses
// once they accept connections.
func (s *Server) ListenAndServe(ctx context.Context, ready func(control, implicit net.Addr)) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.conf().Listen)
	if err != nil {
		return fmt.Errorf("server: listen: %w", err)
	}
	var iln net.Listener
	if s.conf().ImplicitTLSListen != "" {
		if iln, err = lc.Listen(ctx, "tcp", s.conf().ImplicitTLSListen); err != nil {
			ln.Close()
			return fmt.Errorf("server: implicit-tls-listen: %w", err)
		}
	}
	if ready != nil {
		var ia net.Addr
		if iln != nil {
			ia = iln.Addr()
		}
		ready(ln.Addr(), ia)
	}
	errc := make(chan error, 2)
	go func() { errc <- s.Serve(ctx, ln, false) }()
	n := 1
	if iln != nil {
		n++
		go func() { errc <- s.Serve(ctx, iln, true) }()
	}
	var first error
	for i := 0; i < n; i++ {
		if err := <-errc; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// Serve accepts control connections on ln until ctx is done, then closes
// every session and waits for them. implicitTLS starts TLS at once (the
// port 990 convention) instead of waiting for AUTH TLS.
func (s *Server) Serve(ctx context.Context, ln net.Listener, implicitTLS bool) error {
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	s.maintainOnce.Do(func() {
		// Bans from the store apply before the first connection.
		s.reloadBans(ctx, true)
		// Its own context: the first shutdown of any listener stops it.
		mctx, cancel := context.WithCancel(ctx)
		s.stopMaintain = cancel
		s.wg.Go(func() { s.maintain(mctx) })
	})
	s.log.Info("listening", "addr", ln.Addr().String(), "implicit_tls", implicitTLS)
	var tempDelay time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				s.shutdown()
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, errTooManyFiles) {
				tempDelay = min(max(2*tempDelay, 5*time.Millisecond), time.Second)
				time.Sleep(tempDelay)
				continue
			}
			return fmt.Errorf("server: accept: %w", err)
		}
		tempDelay = 0
		if ctx.Err() != nil {
			// Accepted between the shutdown and the listener's close:
			// a greeting now would be a session that drain never sees.
			c.Close()
			continue
		}
		s.wg.Go(func() { s.handle(ctx, c, implicitTLS) })
	}
}

// clientCap is max-clients, lowered to what the open-file limit holds:
// past that, accept would fail with EMFILE and a client would see its
// connection dropped instead of a 421 that says the server is full.
func (s *Server) clientCap(maxClients int) int {
	fit := fdlimit.Sessions()
	if maxClients <= fit {
		return maxClients
	}
	s.log.Warn("max-clients lowered to fit the open-file limit", "max_clients", maxClients, "now", fit,
		"open_file_limit", fdlimit.Limit(), "hint", "raise LimitNOFILE= in the systemd unit (or ulimit -n), or lower max-clients")
	return fit
}

// emit sends e to the sink, logged with log (the server's or a session's).
func (s *Server) emit(log *slog.Logger, e audit.Event) {
	s.events.Emit(context.Background(), log, e)
}

func (s *Server) handle(ctx context.Context, c net.Conn, implicitTLS bool) {
	cf := s.conf()
	remote, proxy, ok := s.clientAddr(ctx, c, cf)
	if !ok {
		return
	}
	log := s.log.With("client", remote.String())
	if proxy.IsValid() {
		log = log.With("proxy", proxy.String())
	}
	// Not a byte to addresses outside the lists or banned: the client
	// learns nothing, not even that this is an FTP server.
	lists := policy.Lists{Allow: cf.AllowNets, Deny: cf.DenyNets}
	if ok, why := lists.Permit(remote.Addr()); !ok {
		s.emit(log, audit.Refused{Stage: audit.StageConnect, Reason: "not-allowed", Detail: why})
		c.Close()
		return
	}
	if banned, b := s.defender.Banned(remote.Addr()); banned {
		s.emit(log, audit.Refused{Stage: audit.StageConnect, Reason: "banned", Detail: b.Prefix.String() + " until " + b.Until.UTC().Format(time.RFC3339)})
		c.Close()
		return
	}
	release, reason, ok := s.limiter.Acquire(remote.Addr())
	if !ok {
		s.emit(log, audit.Refused{Stage: audit.StageConnect, Reason: "limit", Detail: reason})
		s.record(remote.Addr(), policy.EventFlood)
		refuse(c, implicitTLS, "421 "+reason+"; try again later.\r\n")
		return
	}
	defer release()
	preLogin, reason, ok := s.limiter.PreLogin(remote.Addr())
	if !ok {
		s.emit(log, audit.Refused{Stage: audit.StageConnect, Reason: "limit", Detail: reason})
		s.record(remote.Addr(), policy.EventFlood)
		refuse(c, implicitTLS, "421 "+reason+"; try again later.\r\n")
		return
	}
	defer preLogin()
	defer s.idle.poke()
	sess, err := newSession(s, c, remote, log)
	if err != nil {
		log.Error("session setup failed", "err", err)
		c.Close()
		return
	}
	sess.preLogin = preLogin
	s.mu.Lock()
	s.sessions[sess] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.sessions, sess)
		name := sess.account.Load()
		if name == nil && !sess.killedByServer.Load() && sess.spoke {
			defer s.record(sess.remote.Addr(), policy.EventNoLogin)
		}
		if name != nil {
			s.retireLocked(*name, retired{addr: sess.remote.Addr(), tickets: sess.tickets, until: s.now().Add(ticketLifetime)})
		}
		s.mu.Unlock()
	}()
	sess.run(ctx, implicitTLS)
}

// proxyHeaderTimeout bounds the wait for a trusted proxy's PROXY header
// (login-timeout, if shorter). A proxy sends it as soon as it connects.
const proxyHeaderTimeout = 10 * time.Second

// clientAddr returns the address of the client on c, set once here at
// accept and used for everything after: allow and deny, bans, limits, logs,
// the account's allow list and the data connection check. From a
// trusted-proxies peer it is the address in the PROXY header the peer must
// send first, and proxy is the peer; from anyone else it is the peer's own
// and proxy is invalid. ok is false when the connection has been closed.
//
// A header from a peer that is not trusted is not read, so not believed:
// the connection is plain FTP from that peer, whose header then arrives as
// a bad command (and scores as a protocol error). So a client cannot shed
// a ban, pass an allow list or take another address's data connections by
// claiming an address; HAProxy's own accept-proxy refuses such
// connections the same way, with a parse error. From a trusted peer, no
// header, a malformed one, or a header without a TCP client address (v1
// UNKNOWN, v2 UNSPEC, UNIX or UDP) closes the connection without a reply
// (the peer may be anything but an FTP client): taking the proxy's address
// instead would make every such client one address, which one of them
// could get banned. A v2 LOCAL header is the proxy's own connection (a
// health check), which is served as coming from the proxy.
func (s *Server) clientAddr(ctx context.Context, c net.Conn, cf *config.Validated) (remote, proxy netip.AddrPort, ok bool) {
	peer := addrPort(c.RemoteAddr())
	if !cf.Trusted(peer.Addr()) {
		return peer, netip.AddrPort{}, true
	}
	hctx, cancel := context.WithTimeout(ctx, min(proxyHeaderTimeout, cf.LoginTimeout.Duration))
	defer cancel()
	h, err := proxyproto.Read(hctx, c)
	if err != nil {
		s.emit(s.log.With("proxy", peer.String()), audit.Refused{Stage: audit.StageConnect, Reason: "proxy-header",
			Detail: "no valid PROXY protocol header from a trusted proxy: " + err.Error()})
		c.Close()
		return netip.AddrPort{}, netip.AddrPort{}, false
	}
	if h.Local {
		return peer, peer, true
	}
	return netip.AddrPortFrom(h.Source.Addr().Unmap(), h.Source.Port()), peer, true
}

// refuse sends a last reply on a connection we will not serve. On an
// implicit-TLS port the client expects a handshake first, so we just close.
func refuse(c net.Conn, implicitTLS bool, line string) {
	if !implicitTLS {
		c.SetWriteDeadline(time.Now().Add(5 * time.Second))
		c.Write([]byte(line))
	}
	c.Close()
}

func addrPort(a net.Addr) netip.AddrPort {
	if ta, ok := a.(*net.TCPAddr); ok {
		ap := ta.AddrPort()
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	ap, _ := netip.ParseAddrPort(a.String())
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

func newID() string {
	var b [6]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
