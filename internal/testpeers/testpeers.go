package testpeers

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/port21/port21/internal/ftp"
)

// Product is an FTP server from Debian that a test can start.
type Product string

// The products. Their values are the names port21's findings use for them
// in finding.Fix.Config.
const (
	VSFTPD   Product = "vsftpd"
	ProFTPD  Product = "proftpd"
	PureFTPd Product = "pure-ftpd"
)

// Products returns every product, in a fixed order for table tests.
func Products() []Product { return []Product{VSFTPD, ProFTPD, PureFTPd} }

// Profile is a way of configuring a product; see the package comment and
// the templates in testdata/.
type Profile string

// The profiles.
const (
	// ProfileBad allows anonymous logins with upload, cleartext logins, no
	// TLS or TLS 1.0, FTP bounce, and shows the version, wherever the
	// product can.
	ProfileBad Profile = "bad"
	// ProfileHardened requires TLS 1.2 or later on control and data
	// connections, has no anonymous access, chroots every account, refuses
	// bounce and hides the version. Its certificate is self-signed.
	ProfileHardened Profile = "hardened"
)

// Profiles returns every profile, in a fixed order for table tests.
func Profiles() []Profile { return []Profile{ProfileBad, ProfileHardened} }

// ServesTLS reports whether the product offers AUTH TLS in the profile.
func ServesTLS(p Product, prof Profile) bool { return servesTLS(p, prof) }

func servesTLS(p Product, prof Profile) bool {
	return prof == ProfileHardened || p != VSFTPD
}

// Peer is a running FTP server. Its fields describe it for the test; the
// test must not change them.
type Peer struct {
	Product Product
	Profile Profile
	// Addr is "127.0.0.1:PORT", the control connection's address.
	Addr string
	Port int
	// PID is the daemon's master process (its process group too: session
	// processes belong to it and are stopped with it).
	PID int
	// ConfigPath is what an administrator would audit: vsftpd.conf,
	// proftpd.conf, or Pure-FTPd's conf directory (one file per setting,
	// as in Debian's /etc/pure-ftpd/conf).
	ConfigPath string
	// Dir is the peer's private directory: configuration, logs, certificate
	// and the anonymous root. It is removed when the peer stops.
	Dir string
	// AnonRoot is the anonymous users' root directory, read-only to them;
	// AnonRoot/upload is writable in ProfileBad. Empty in ProfileHardened.
	AnonRoot string
	// PassiveMin and PassiveMax bound the passive data ports, a slice of
	// 45000-49999 that no other running peer uses.
	PassiveMin, PassiveMax int
	// CertFile is the PEM certificate the peer serves (self-signed, for
	// 127.0.0.1, ::1 and localhost); empty when it offers no TLS.
	CertFile string
	// Version is the Debian package version ("1.3.8+dfsg-4+deb12u5");
	// UpstreamVersion is the version the server reports ("1.3.8").
	Version, UpstreamVersion string

	cmd      *exec.Cmd
	exited   chan struct{} // closed when cmd.Wait returns
	logFiles []string
	passive  passiveSlice
}

// Errors from Available, for callers that want to tell them apart.
var (
	// ErrNotRoot: the daemons chroot, switch users and need a private mount
	// namespace.
	ErrNotRoot = errors.New("needs root")
	// ErrUnsupported: the harness runs on Linux only.
	ErrUnsupported = errors.New("needs Linux")
)

// Available reports whether the product can run here, unpacking it into
// the cache first if it is not there yet (which needs apt-get and dpkg, and
// the network once). It returns nil, or an error that says what is missing,
// such as ErrNotRoot or ErrMissingLibraries with the Debian packages to
// install.
func Available(p Product) error {
	_, err := available(context.Background(), p)
	return err
}

func available(ctx context.Context, p Product) (installation, error) {
	if _, ok := p.info(); !ok {
		return installation{}, fmt.Errorf("testpeers: unknown product %q", p)
	}
	if runtime.GOOS != "linux" {
		return installation{}, fmt.Errorf("testpeers: %s: %w", p, ErrUnsupported)
	}
	if os.Geteuid() != 0 {
		return installation{}, fmt.Errorf("testpeers: %s: %w (the daemons chroot, switch users and run in a private mount namespace)", p, ErrNotRoot)
	}
	for _, tool := range []string{"sh", "mount"} {
		if _, err := exec.LookPath(tool); err != nil {
			return installation{}, fmt.Errorf("testpeers: %s: %s not found", p, tool)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	in, err := install(ctx, p)
	if err != nil {
		return installation{}, err
	}
	info, _ := p.info()
	if _, err := os.Stat(in.path(info.binary)); err != nil {
		return installation{}, fmt.Errorf("testpeers: %s: %w", p, err)
	}
	if err := checkLibraries(ctx, p, in); err != nil {
		return installation{}, err
	}
	return in, nil
}

// mustRun reports whether a peer that cannot run fails the test instead of
// skipping it: PORT21_REQUIRE_CLIENTS=1, as CI sets.
func mustRun() bool { return os.Getenv("PORT21_REQUIRE_CLIENTS") == "1" }

// Require skips the test, with the reason, when the product cannot run
// here; with PORT21_REQUIRE_CLIENTS=1 it fails the test instead.
func Require(t testing.TB, p Product) {
	t.Helper()
	require(t, p)
}

func require(t testing.TB, p Product) installation {
	t.Helper()
	in, err := available(t.Context(), p)
	if err != nil {
		if mustRun() {
			t.Fatalf("%v (PORT21_REQUIRE_CLIENTS=1)", err)
		}
		t.Skipf("skipping: %v", err)
	}
	return in
}

// startAttempts is how many fresh ports Start tries: the control port is
// picked free but bound by the daemon a moment later, and another program
// may take it in between.
const startAttempts = 3

// readyTimeout bounds how long a daemon may take to answer its first 220.
const readyTimeout = 15 * time.Second

// Start runs the product configured with the profile on a free loopback
// port and returns once it has greeted a client with 220. The peer is
// stopped (its process group, by PID) and its directory removed in
// t.Cleanup; if the test failed, the peer's logs are logged first.
//
// Start skips the test when the product cannot run here (see Available and
// Require) and fails it if the daemon does not come up.
func Start(t testing.TB, p Product, prof Profile) *Peer {
	t.Helper()
	return StartWith(t, p, prof)
}

// StartWith is Start with extra configuration lines appended to the
// profile's: for vsftpd a later line overrides an earlier one; for ProFTPD
// the profile's directive of the same name is dropped (ProFTPD would keep
// the first); for Pure-FTPd they are "Name value" settings, the last of a
// name winning. They are templates like the
// profile, so {{.AnonRoot}} and the rest may be used. Tests use it to show
// one setting's effect, or that a fix line makes a finding disappear.
func StartWith(t testing.TB, p Product, prof Profile, extra ...string) *Peer {
	t.Helper()
	return StartOpts(t, p, prof, Options{Extra: extra})
}

// StartOpts is Start with Options: extra lines, an edit of the profile's
// template (a fix that removes or rewrites lines rather than adds them),
// certificates.
func StartOpts(t testing.TB, p Product, prof Profile, opts Options) *Peer {
	t.Helper()
	if prof != ProfileBad && prof != ProfileHardened {
		t.Fatalf("testpeers: unknown profile %q", prof)
	}
	in := require(t, p)
	sweepStale(cacheRoot())
	var errs []error
	for range startAttempts {
		peer, err := launch(in, p, prof, opts)
		if err == nil {
			t.Cleanup(func() {
				if t.Failed() {
					t.Logf("%s %s peer at %s, logs:\n%s", p, prof, peer.Addr, peer.Logs())
				}
				if err := peer.stop(); err != nil {
					t.Errorf("testpeers: %v", err)
				}
			})
			return peer
		}
		errs = append(errs, err)
	}
	t.Fatalf("testpeers: %s %s did not start: %v", p, prof, errors.Join(errs...))
	return nil
}

// Options are what Launch adds to a profile, for programs that run peers
// outside a test (bench/compare).
type Options struct {
	// Extra configuration lines, as for StartWith.
	Extra []string
	// Edit, when set, rewrites the profile's template (before Extra is
	// appended), as an administrator applying a fix edits the file.
	Edit func(template string) string
	// Accounts are added to the daemon's private /etc/passwd.
	Accounts []Account
	// CertPEM and KeyPEM, when both are set, are the certificate and key
	// the peer serves (RSA or ECDSA) instead of a generated one.
	CertPEM, KeyPEM []byte
	// PassiveMin and PassiveMax, when both are set, are the passive data
	// ports instead of a slice of 45000-49999; the caller keeps other
	// peers off them.
	PassiveMin, PassiveMax int
}

// Account is a login account of a peer: a line of its private
// /etc/passwd, with the crypt(3) hash in the password field (pam_unix,
// ProFTPD and Pure-FTPd read it there when it is not "x"). The shell is
// /bin/sh, which ProFTPD's RequireValidShell accepts.
type Account struct {
	Name string
	// Hash is a crypt(3) hash: yescrypt ($y$) or sha512-crypt ($6$).
	Hash     string
	UID, GID int
	Home     string
}

// Launch is Start for a program rather than a test: it starts the product
// with the profile and opts and returns once the daemon has greeted a
// client, or an error, ErrNotRoot and the like when it cannot run here.
// The caller must call Stop.
func Launch(ctx context.Context, p Product, prof Profile, opts Options) (*Peer, error) {
	if prof != ProfileBad && prof != ProfileHardened {
		return nil, fmt.Errorf("testpeers: unknown profile %q", prof)
	}
	for _, a := range opts.Accounts {
		if strings.ContainsAny(a.Name+a.Hash+a.Home, ":\n") || a.Name == "" {
			return nil, fmt.Errorf("testpeers: account %q: a name, hash or home with ':' or a newline", a.Name)
		}
	}
	in, err := available(ctx, p)
	if err != nil {
		return nil, err
	}
	sweepStale(cacheRoot())
	var errs []error
	for range startAttempts {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("testpeers: %s: %w", p, err)
		}
		peer, err := launch(in, p, prof, opts)
		if err == nil {
			return peer, nil
		}
		errs = append(errs, err)
	}
	return nil, fmt.Errorf("testpeers: %s %s did not start: %w", p, prof, errors.Join(errs...))
}

// Stop ends a peer started with Launch: the daemon and its sessions (by
// PID), and removes its directory.
func (p *Peer) Stop() error { return p.stop() }

// Descendants lists the PIDs of the processes below pid in the process
// tree (a peer's session processes), read from /proc.
func Descendants(pid int) []int {
	var out []int
	for _, d := range descendantsOf(pid) {
		out = append(out, d.pid)
	}
	return out
}

// launch prepares the peer's directory and configuration, starts the
// daemon and waits for its greeting. On error, everything it made is gone.
func launch(in installation, p Product, prof Profile, opts Options) (peer *Peer, err error) {
	extra := opts.Extra
	info, _ := p.info()
	dir, err := os.MkdirTemp("", "port21-peer-"+string(p)+"-")
	if err != nil {
		return nil, fmt.Errorf("testpeers: %w", err)
	}
	peer = &Peer{
		Product:         p,
		Profile:         prof,
		Dir:             dir,
		Version:         in.version,
		UpstreamVersion: upstreamVersion(in.version),
	}
	defer func() {
		if err != nil {
			logs := peer.Logs()
			if stopErr := peer.stop(); stopErr != nil {
				err = errors.Join(err, stopErr)
			}
			if logs != "" {
				err = fmt.Errorf("%w\n%s", err, logs)
			}
		}
	}()
	// The daemons' unprivileged processes must reach their files.
	if err := os.Chmod(dir, 0o755); err != nil {
		return peer, fmt.Errorf("testpeers: %w", err)
	}
	if opts.PassiveMin > 0 && opts.PassiveMax >= opts.PassiveMin {
		peer.passive = passiveSlice{min: opts.PassiveMin, max: opts.PassiveMax}
	} else if peer.passive, err = allocatePassive(); err != nil {
		return peer, err
	}
	peer.PassiveMin, peer.PassiveMax = peer.passive.min, peer.passive.max
	if peer.Port, err = freePort(); err != nil {
		return peer, err
	}
	peer.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(peer.Port))

	anon := filepath.Join(dir, "anon")
	empty := filepath.Join(dir, "empty")
	for _, d := range []struct {
		path string
		mode os.FileMode
	}{{anon, 0o755}, {filepath.Join(anon, "upload"), 0o777}, {empty, 0o755}} {
		if err := os.Mkdir(d.path, d.mode); err != nil {
			return peer, fmt.Errorf("testpeers: %w", err)
		}
		if err := os.Chmod(d.path, d.mode); err != nil { // past the umask
			return peer, fmt.Errorf("testpeers: %w", err)
		}
	}
	if err := os.WriteFile(filepath.Join(anon, "README.txt"), []byte("port21 test peer\n"), 0o644); err != nil {
		return peer, fmt.Errorf("testpeers: %w", err)
	}
	if prof == ProfileBad {
		peer.AnonRoot = anon
	}
	var certs certFiles
	rsaKey := false
	if len(opts.CertPEM) > 0 && len(opts.KeyPEM) > 0 {
		if rsaKey, err = isRSAKey(opts.KeyPEM); err != nil {
			return peer, err
		}
		certs, err = writeCertFiles(dir, opts.CertPEM, opts.KeyPEM)
	} else {
		certs, err = writeCert(dir, time.Now())
	}
	if err != nil {
		return peer, err
	}
	if servesTLS(p, prof) {
		peer.CertFile = certs.cert
	}

	data := templateData{
		Port:        peer.Port,
		PassiveMin:  peer.PassiveMin,
		PassiveMax:  peer.PassiveMax,
		Dir:         dir,
		AnonRoot:    anon,
		EmptyDir:    empty,
		CertFile:    certs.cert,
		KeyFile:     certs.key,
		CertKeyFile: certs.certKey,
		RSAKey:      rsaKey,
		PIDFile:     filepath.Join(dir, string(p)+".pid"),
		LogFile:     filepath.Join(dir, string(p)+".log"),
		XferLog:     filepath.Join(dir, "xfer.log"),
		Version:     peer.UpstreamVersion,
	}
	if info.modulePath != "" {
		data.ModulePath = in.path(info.modulePath)
	}
	rendered, err := renderTemplate(p, prof, data, opts.Edit, extra...)
	if err != nil {
		return peer, err
	}
	var args []string
	switch p {
	case VSFTPD:
		peer.ConfigPath = filepath.Join(dir, "vsftpd.conf")
		args = []string{peer.ConfigPath}
	case ProFTPD:
		peer.ConfigPath = filepath.Join(dir, "proftpd.conf")
		args = []string{"--nodaemon", "--config", peer.ConfigPath}
	case PureFTPd:
		peer.ConfigPath = filepath.Join(dir, "conf")
		settings, err := parsePureSettings(rendered)
		if err != nil {
			return peer, err
		}
		settings = lastWins(settings)
		if err := writePureConfDir(peer.ConfigPath, settings); err != nil {
			return peer, err
		}
		if args, err = pureFlags(settings); err != nil {
			return peer, err
		}
	}
	if p != PureFTPd {
		if err := os.WriteFile(peer.ConfigPath, rendered, 0o644); err != nil {
			return peer, fmt.Errorf("testpeers: %w", err)
		}
	}
	passwd, err := privatePasswd(anon, empty, opts.Accounts)
	if err != nil {
		return peer, err
	}
	passwdPath := filepath.Join(dir, "passwd")
	if err := os.WriteFile(passwdPath, passwd, 0o644); err != nil {
		return peer, fmt.Errorf("testpeers: %w", err)
	}

	stderr := filepath.Join(dir, "stderr.log")
	peer.logFiles = []string{stderr, data.LogFile, data.XferLog, filepath.Join(dir, "tls.log")}
	if peer.cmd, err = startProcess(in.path(info.binary), args, passwdPath, stderr); err != nil {
		return peer, fmt.Errorf("testpeers: start %s: %w", p, err)
	}
	peer.PID = peer.cmd.Process.Pid
	if err := recordOwner(dir, peer.PID); err != nil {
		return peer, fmt.Errorf("testpeers: %w", err)
	}
	peer.exited = make(chan struct{})
	go func() {
		peer.cmd.Wait()
		close(peer.exited)
	}()
	if err := waitReady(peer.Addr, peer.exited, readyTimeout); err != nil {
		return peer, fmt.Errorf("testpeers: %s %s on %s: %w", p, prof, peer.Addr, err)
	}
	return peer, nil
}

// errExited says the daemon ended before it greeted anyone, most often
// because its port was taken or its configuration is wrong.
var errExited = errors.New("daemon exited before it was ready")

// waitReady connects until the daemon answers with a 220 greeting.
func waitReady(addr string, exited <-chan struct{}, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		select {
		case <-exited:
			return errExited
		default:
		}
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			return greeted(conn)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not accepting connections after %v: %w", timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// greeted reads the greeting on conn, says QUIT and closes it.
func greeted(conn net.Conn) error {
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	reply, err := ftp.ReadReplyLimit(ftp.NewReader(conn), 100)
	if err != nil {
		return fmt.Errorf("reading the greeting: %w", err)
	}
	conn.Write([]byte("QUIT\r\n"))
	if reply.Code != ftp.CodeServiceReady {
		return fmt.Errorf("greeting %q, want 220", reply.String())
	}
	return nil
}

// Logs returns the end of each of the peer's log files (the daemon's
// standard error, its log, the transfer log, ProFTPD's TLS log), for a
// failing test to print.
func (p *Peer) Logs() string {
	var b strings.Builder
	for _, f := range p.logFiles {
		data, err := os.ReadFile(f)
		if err != nil || len(data) == 0 {
			continue
		}
		fmt.Fprintf(&b, "==> %s <==\n%s\n", filepath.Base(f), tail(data, 4096))
	}
	return b.String()
}

// stop ends the daemon and its sessions, releases the passive ports and
// removes the peer's directory. It is safe on a partly started peer.
func (p *Peer) stop() error {
	var err error
	if p.cmd != nil && p.cmd.Process != nil {
		err = stopProcess(p.cmd.Process.Pid, p.exited)
	}
	if p.passive.release != nil {
		p.passive.release()
		p.passive.release = nil
	}
	if p.Dir != "" {
		if rmErr := os.RemoveAll(p.Dir); rmErr != nil {
			err = errors.Join(err, rmErr)
		}
	}
	return err
}
