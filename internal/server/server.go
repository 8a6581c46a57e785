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
	"github.com/port21/port21/internal/policy"
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

// Metrics receives the server's counters (package metrics implements it
// for Prometheus). Methods are called from many goroutines.
type Metrics interface {
	SessionStarted()
	SessionEnded()
	Login(ok bool)
	Banned()
	Transfer(op string, upload bool, bytes int64, ok bool)
}

// TransferTimer is optional for a Metrics: it also receives how long each
// transfer took.
type TransferTimer interface {
	TransferDuration(op string, d time.Duration)
}

type noMetrics struct{}

func (noMetrics) SessionStarted()                    {}
func (noMetrics) SessionEnded()                      {}
func (noMetrics) Login(bool)                         {}
func (noMetrics) Banned()                            {}
func (noMetrics) Transfer(string, bool, int64, bool) {}

// TransferLog receives one record per finished file transfer (package
// audit writes them as an xferlog). Called from many goroutines.
type TransferLog interface {
	Transfer(audit.Transfer)
}

// Options are everything a Server needs; Config must come from
// config.Config.Validate.
type Options struct {
	Config    config.Validated
	Cert      tls.Certificate
	Accounts  Accounts
	Passwords Passwords
	Logger    *slog.Logger
	// Metrics, if not nil, receives counters.
	Metrics Metrics
	// TransferLog, if not nil, receives every file transfer.
	TransferLog TransferLog
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
	metrics   Metrics
	xferlog   TransferLog // nil: none
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
	tlsBuffers   sync.Pool // *[]byte of tlsCopyBuffer bytes
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
	home, err := filepath.Abs(filepath.Join(opts.Config.DataDir, "home"))
	if err != nil {
		return nil, fmt.Errorf("server: data-dir: %w", err)
	}
	s := &Server{
		homeBase:     home,
		accounts:     opts.Accounts,
		passwords:    opts.Passwords,
		log:          opts.Logger,
		metrics:      opts.Metrics,
		xferlog:      opts.TransferLog,
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
	}
	cfg := opts.Config
	s.cfg.Store(&cfg)
	cert := opts.Cert
	s.cert.Store(&cert)
	if s.tlsBase, err = newTLSBase(&s.cert, cfg.TLSMin, cfg.TLSMax); err != nil {
		return nil, err
	}
	s.tlsBuffers.New = func() any { b := make([]byte, tlsCopyBuffer); return &b }
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.metrics == nil {
		s.metrics = noMetrics{}
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
		s.wg.Go(func() { s.handle(ctx, c, implicitTLS) })
	}
}

func (s *Server) handle(ctx context.Context, c net.Conn, implicitTLS bool) {
	remote := addrPort(c.RemoteAddr())
	log := s.log.With("client", remote.String())
	// Not a byte to addresses outside the lists or banned: the client
	// learns nothing, not even that this is an FTP server.
	cf := s.conf()
	lists := policy.Lists{Allow: cf.AllowNets, Deny: cf.DenyNets}
	if ok, why := lists.Permit(remote.Addr()); !ok {
		log.Warn("connection dropped", "reason", why)
		c.Close()
		return
	}
	if banned, b := s.defender.Banned(remote.Addr()); banned {
		log.Warn("connection dropped: address banned", "prefix", b.Prefix.String(), "until", b.Until.Format(time.RFC3339))
		c.Close()
		return
	}
	release, reason, ok := s.limiter.Acquire(remote.Addr())
	if !ok {
		log.Warn("connection refused", "reason", reason)
		s.record(remote.Addr(), policy.EventFlood)
		refuse(c, implicitTLS, "421 "+reason+"; try again later.\r\n")
		return
	}
	defer release()
	preLogin, reason, ok := s.limiter.PreLogin(remote.Addr())
	if !ok {
		log.Warn("connection refused", "reason", reason)
		s.record(remote.Addr(), policy.EventFlood)
		refuse(c, implicitTLS, "421 "+reason+"; try again later.\r\n")
		return
	}
	defer preLogin()
	sess, err := newSession(s, c, log)
	if err != nil {
		log.Error("session setup failed", "err", err)
		c.Close()
		return
	}
	sess.preLogin = preLogin
	s.mu.Lock()
	s.sessions[sess] = struct{}{}
	s.mu.Unlock()
	s.metrics.SessionStarted()
	defer s.metrics.SessionEnded()
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
