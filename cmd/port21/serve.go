//go:build unix

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"reflect"
	"runtime"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/port21/port21/internal/audit"
	"github.com/port21/port21/internal/certs"
	"github.com/port21/port21/internal/config"
	"github.com/port21/port21/internal/datadir"
	"github.com/port21/port21/internal/metrics"
	"github.com/port21/port21/internal/server"
	"github.com/port21/port21/internal/users"
)

func newServeCmd() *cobra.Command {
	var configFile string
	flags := config.Default()
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the FTP/FTPS server",
		Long: `Run the FTP/FTPS server. With no configuration it listens on 127.0.0.1:2121, requires
TLS (explicit FTPS, AUTH TLS) for every login and data connection, and keeps its state in
./port21-data. Every flag is also a key of the TOML file given with --config; flags win.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// First of all: SIGHUP's default action ends the process.
			sigs := make(chan os.Signal, 1)
			signal.Notify(sigs, syscall.SIGHUP, syscall.SIGUSR1)
			defer signal.Stop(sigs)
			var set []string
			cmd.Flags().Visit(func(f *pflag.Flag) { set = append(set, f.Name) })
			// load reads the file again on every SIGHUP; flags still win.
			load := func(ctx context.Context) (config.Validated, error) {
				cfg := config.Default()
				if configFile != "" {
					var err error
					if cfg, err = config.Load(configFile, cfg); err != nil {
						return config.Validated{}, err
					}
				}
				for _, name := range set {
					copyKey(&cfg, &flags, name)
				}
				v, err := cfg.Validate()
				if err != nil {
					return config.Validated{}, err
				}
				if err := v.ResolvePublic(ctx, net.DefaultResolver.LookupNetIP); err != nil {
					return config.Validated{}, err
				}
				return v, nil
			}
			v, err := load(cmd.Context())
			if err != nil {
				return err
			}
			return serve(cmd.Context(), v, runtimeOps{load: load, signals: sigs}, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&configFile, "config", "", "TOML configuration file")
	f.StringVar(&flags.Listen, "listen", flags.Listen, "control connection address (explicit FTPS)")
	f.StringVar(&flags.ImplicitTLSListen, "implicit-tls-listen", "", "optional implicit FTPS address (port 990 style)")
	f.StringVar(&flags.DataDir, "data-dir", flags.DataDir, "state directory: user store, TLS key and certificate, homes")
	f.StringVar(&flags.Store, "store", flags.Store, `user store: "" for <data-dir>/users.db, or a postgres:// URL shared by several nodes (keep its password in the config file or PGPASSFILE, not on the command line)`)
	f.StringVar(&flags.PassivePorts, "passive-ports", flags.PassivePorts, "passive data port range LOW-HIGH")
	f.StringVar(&flags.PublicHost, "public-host", "", "IPv4 address or host name announced in PASV replies (behind NAT)")
	f.StringVar(&flags.Cert, "cert", "", "PEM certificate chain (instead of the generated one)")
	f.StringVar(&flags.Key, "key", "", "PEM private key for --cert")
	f.BoolVar(&flags.ActiveMode, "active-mode", flags.ActiveMode, "allow PORT/EPRT (only to the client's own address, ports >= 1024)")
	f.BoolVar(&flags.RequireCloseNotify, "require-close-notify", flags.RequireCloseNotify, "discard TLS uploads that end without close_notify (possible truncation)")
	f.IntVar(&flags.MaxClients, "max-clients", flags.MaxClients, "most control connections at once")
	f.IntVar(&flags.MaxClientsPerIP, "max-clients-per-ip", flags.MaxClientsPerIP, "most control connections from one address")
	f.IntVar(&flags.MaxPassivePerIP, "max-passive-per-ip", flags.MaxPassivePerIP, "most passive ports waiting for a data connection from one address (IPv6: one /64)")
	f.DurationVar(&flags.IdleTimeout.Duration, "idle-timeout", flags.IdleTimeout.Duration, "close sessions idle this long")
	f.DurationVar(&flags.LoginTimeout.Duration, "login-timeout", flags.LoginTimeout.Duration, "close connections not logged in after this long")
	f.DurationVar(&flags.DataTimeout.Duration, "data-timeout", flags.DataTimeout.Duration, "data connection setup and stall time-out")
	f.DurationVar(&flags.ShutdownTimeout.Duration, "shutdown-timeout", flags.ShutdownTimeout.Duration, "on SIGTERM, how long running transfers may go on before their sessions close")
	f.IntVar(&flags.MaxLoginFailures, "max-login-failures", flags.MaxLoginFailures, "defender threshold: a ban after this many failed logins' worth of score within --ban-window (0: defender off)")
	f.DurationVar(&flags.BanWindow.Duration, "ban-window", flags.BanWindow.Duration, "window in which an address's score is counted")
	f.DurationVar(&flags.BanDuration.Duration, "ban-duration", flags.BanDuration.Duration, "how long a first ban lasts; each repeat offence doubles it")
	f.DurationVar(&flags.BanMaxDuration.Duration, "ban-max-duration", flags.BanMaxDuration.Duration, "the longest a ban lasts")
	f.StringSliceVar(&flags.DefenderExempt, "defender-exempt", nil, "network (CIDR) or address never scored nor banned; repeatable")
	f.StringSliceVar(&flags.Allow, "allow", nil, "only these networks (CIDR) or addresses may connect; repeatable (default: all)")
	f.StringSliceVar(&flags.Deny, "deny", nil, "networks (CIDR) or addresses that may never connect, even if allowed; repeatable")
	f.StringSliceVar(&flags.TrustedProxies, "trusted-proxies", nil, "load balancers (CIDR or address) that start every control connection with a PROXY protocol v1/v2 header naming the client; repeatable")
	f.Var(passiveHostFlag{&flags.PassiveHost}, "passive-host", "announce HOST in PASV replies to clients in NETWORKS (comma-separated CIDRs); repeatable, first match wins, others get --public-host")
	f.StringVar(&flags.AnonymousRoot, "anonymous-root", "", "let anyone log in as anonymous or ftp, read-only, in this directory (default: anonymous off)")
	f.StringVar(&flags.TLSMinVersion, "tls-min-version", flags.TLSMinVersion, "lowest TLS version offered: 1.2 or 1.3")
	f.StringVar(&flags.TLSMaxVersion, "tls-max-version", flags.TLSMaxVersion, "highest TLS version offered: 1.2 or 1.3")
	f.StringVar(&flags.LogFormat, "log-format", flags.LogFormat, "audit log format on standard error: text or json")
	f.StringVar(&flags.LogFile, "log-file", "", "write the audit log to this file as JSON lines instead of standard error (reopened on SIGUSR1)")
	f.StringVar(&flags.XferlogFile, "xferlog-file", "", "write one xferlog line per file transfer to this file, as wu-ftpd and vsftpd do (reopened on SIGUSR1)")
	f.StringVar(&flags.MetricsListen, "metrics-listen", "", "serve Prometheus metrics at http://ADDR/metrics and a health check at /healthz (e.g. 127.0.0.1:9121)")
	return cmd
}

// copyKey copies the field whose TOML key is name from src to dst, so that
// flags and config keys can never drift apart.
func copyKey(dst, src *config.Config, name string) {
	d, s := reflect.ValueOf(dst).Elem(), reflect.ValueOf(src).Elem()
	for i := 0; i < d.NumField(); i++ {
		if d.Type().Field(i).Tag.Get("toml") == name {
			d.Field(i).Set(s.Field(i))
			return
		}
	}
}

var _ audit.Observer = (*metrics.Metrics)(nil)

// runtimeOps is what serve needs to act on signals: how to load the
// configuration again, and the SIGHUP and SIGUSR1 it receives.
type runtimeOps struct {
	load    func(context.Context) (config.Validated, error)
	signals <-chan os.Signal
	files   []*audit.File // reopened on SIGUSR1; set by serve
}

func serve(ctx context.Context, cfg config.Validated, ops runtimeOps, stdout, stderr io.Writer) error {
	var handler slog.Handler = slog.NewTextHandler(stderr, nil)
	if cfg.LogFormat == "json" {
		handler = slog.NewJSONHandler(stderr, nil)
	}
	if cfg.LogFile != "" {
		lf, err := audit.OpenFile(cfg.LogFile)
		if err != nil {
			return fmt.Errorf("log-file: %w", err)
		}
		defer lf.Close()
		ops.files = append(ops.files, lf)
		handler = slog.NewJSONHandler(lf, nil)
	}
	var xferlog *audit.Xferlog
	if cfg.XferlogFile != "" {
		xf, err := audit.OpenFile(cfg.XferlogFile)
		if err != nil {
			return fmt.Errorf("xferlog-file: %w", err)
		}
		defer xf.Close()
		ops.files = append(ops.files, xf)
		xferlog = &audit.Xferlog{W: xf}
	}
	log := slog.New(handler)
	if os.Geteuid() == 0 {
		log.Warn("running as root: run port21 as its own user with only CAP_NET_BIND_SERVICE (see contrib/port21.service)")
	}

	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("data-dir: %w", err)
	}
	cert, err := loadCert(cfg, cfg.DataDir)
	if err != nil {
		return err
	}
	store, err := users.Open(ctx, cfg.Store, cfg.DataDir)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	defer store.Close()
	if cfg.Store != "" {
		log.Info("user store", "store", config.RedactStore(cfg.Store))
		if host := users.PostgresCleartext(cfg.Store); host != "" {
			log.Warn("store: the connection to PostgreSQL may go without TLS, so the network could read the password hashes and downgrade it; set sslmode=verify-full",
				"host", host)
		}
	} else {
		log.Info("user store", "store", datadir.Dir(cfg.DataDir).Store())
	}
	hasher := users.NewHasher(runtime.NumCPU())

	firstUser, firstPassword, err := ensureFirstUser(ctx, store, hasher)
	if err != nil {
		return err
	}
	if err := cleanStaleUploads(ctx, store, cfg.DataDir, cfg.Store != "", log); err != nil {
		return err
	}
	if cfg.AnonymousRoot != "" {
		if err := users.CheckHome(cfg.AnonymousRoot, cfg.DataDir, "anonymous"); err != nil {
			return fmt.Errorf("anonymous-root: %w", err)
		}
		log.Warn("anonymous access is on: anyone may log in as anonymous or ftp with any password and list and download every file under anonymous-root (read-only)",
			"anonymous_root", cfg.AnonymousRoot)
		fmt.Fprintf(stderr, "port21: WARNING: anonymous access is on: anyone can list and download everything under %s\n", cfg.AnonymousRoot)
	}
	opts := server.Options{
		Config:    cfg,
		Cert:      cert.TLS,
		Accounts:  store,
		Bans:      store,
		Passwords: hasher,
		Logger:    log,
	}
	// serving is what /healthz reports: from listening until SIGTERM.
	var serving atomic.Bool
	context.AfterFunc(ctx, func() { serving.Store(false) })
	var observers []audit.Observer
	if cfg.MetricsListen != "" {
		m := metrics.New()
		observers = append(observers, m)
		if err := serveMetrics(ctx, cfg.MetricsListen, m.Handler(), metrics.Health(serving.Load), log); err != nil {
			return err
		}
	}
	opts.Events = audit.NewSink(xferlog, observers...)
	srv, err := server.New(opts)
	if err != nil {
		return err
	}
	go handleSignals(ctx, ops, srv, cfg.DataDir, log)
	return srv.ListenAndServe(ctx, func(control, implicit net.Addr) {
		serving.Store(ctx.Err() == nil)
		fmt.Fprintf(stdout, "port21: listening on %s (explicit FTPS)", control)
		if implicit != nil {
			fmt.Fprintf(stdout, " and %s (implicit FTPS)", implicit)
		}
		fmt.Fprintf(stdout, "\nport21: TLS certificate SHA-256 fingerprint %s\n", cert.Fingerprint)
		if firstUser != "" {
			printFirstUser(stdout, firstUser, firstPassword, cert, control)
		}
	})
}

// loadCert loads the configured certificate and key, or the generated
// ones in dataDir/tls (created on first use).
func loadCert(cfg config.Validated, dataDir string) (certs.Cert, error) {
	if cfg.Cert != "" {
		return certs.Load(cfg.Cert, cfg.Key)
	}
	return certs.LoadOrCreate(datadir.Dir(dataDir).TLS(), time.Now())
}

// handleSignals serves SIGHUP (reload) and SIGUSR1 (reopen the log files)
// until ctx is done.
func handleSignals(ctx context.Context, ops runtimeOps, srv *server.Server, dataDir string, log *slog.Logger) {
	for {
		select {
		case <-ctx.Done():
			return
		case sig := <-ops.signals:
			switch sig {
			case syscall.SIGHUP:
				reload(ctx, ops, srv, dataDir, log)
			case syscall.SIGUSR1:
				for _, f := range ops.files {
					if err := f.Reopen(); err != nil {
						log.Error("log file not reopened; writing on to the old one", "err", err)
					}
				}
				log.Info("log files reopened")
			}
		}
	}
}

// reload reads the configuration and the certificate again and puts them
// in force; on any error the running ones stay, and the log says why.
func reload(ctx context.Context, ops runtimeOps, srv *server.Server, dataDir string, log *slog.Logger) {
	v, err := ops.load(ctx)
	if err == nil && v.AnonymousRoot != "" {
		if err = users.CheckHome(v.AnonymousRoot, dataDir, "anonymous"); err != nil {
			err = fmt.Errorf("config: anonymous-root: %w", err)
		}
	}
	var cert certs.Cert
	if err == nil {
		// dataDir is the running one: data-dir needs a restart.
		cert, err = loadCert(v, dataDir)
	}
	var restart []string
	if err == nil {
		restart, err = srv.Reload(v, cert.TLS)
	}
	if err != nil {
		log.Error("reload refused; the running configuration stays", "err", err)
		return
	}
	for _, key := range restart {
		log.Warn("reload: this key needs a restart to change; it keeps its running value", "key", key)
	}
	log.Info("reloaded", "tls_fingerprint", cert.Fingerprint)
}

// serveMetrics serves /metrics and /healthz until ctx is done.
func serveMetrics(ctx context.Context, addr string, h, health http.Handler, log *slog.Logger) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("metrics-listen: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", h)
	mux.Handle("GET /healthz", health)
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server stopped", "err", err)
		}
	}()
	context.AfterFunc(ctx, func() { hs.Close() })
	log.Info("metrics", "addr", ln.Addr().String())
	return nil
}

// ensureFirstUser creates one account with a random password when the store
// is empty, so that a first start is usable at once and never open.
func ensureFirstUser(ctx context.Context, store *users.Store, hasher *users.Hasher) (name, password string, err error) {
	n, err := store.Count(ctx)
	if err != nil || n > 0 {
		return "", "", err
	}
	password, err = users.GeneratePassword()
	if err != nil {
		return "", "", err
	}
	hash, err := hasher.Hash(ctx, password)
	if err != nil {
		return "", "", err
	}
	name = "port21"
	switch err := store.Add(ctx, users.User{Name: name, Hash: hash}); {
	case errors.Is(err, users.ErrExists):
		// Another node sharing the store created it meanwhile.
		return "", "", nil
	case err != nil:
		return "", "", fmt.Errorf("create first user: %w", err)
	}
	return name, password, nil
}

func printFirstUser(w io.Writer, name, password string, cert certs.Cert, control net.Addr) {
	host := "127.0.0.1"
	port := 21
	if ta, ok := control.(*net.TCPAddr); ok {
		port = ta.Port
		if !ta.IP.IsUnspecified() {
			host = ta.IP.String()
			if ta.IP.To4() == nil {
				host = "[" + host + "]"
			}
		}
	}
	fmt.Fprintf(w, `
port21: first start: created user %q with password %s
        (shown only this once; change it with: port21 user passwd %s)
port21: try it (the certificate is self-signed, so curl pins its key instead of trusting a CA):
  curl --ssl-reqd --insecure --pinnedpubkey '%s' --user '%s:%s' ftp://%s:%d/

`, name, password, name, cert.PublicKeyPin, name, password, host, port)
}
