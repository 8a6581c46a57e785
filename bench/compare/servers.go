package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/port21/port21/internal/testpeers"
)

// server is one running FTP server under measurement.
type server struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	// Config is what the server was given beyond its defaults (port21's
	// flags, the lines added to a peer's hardened profile).
	Config []string `json:"config"`
	Addr   string   `json:"-"`
	PID    int      `json:"-"`
	stop   func() error
}

// peerExtra is what the bench adds to each peer's hardened profile: TLS
// offered, not required (one daemon serves the plain and the FTPS
// workloads; the clients choose), room for the idle sessions, and the
// settings the workloads need (overwriting uploads, a writable chroot).
func peerExtra(p testpeers.Product) []string {
	switch p {
	case testpeers.VSFTPD:
		return []string{
			"force_local_logins_ssl=NO", "force_local_data_ssl=NO",
			"allow_writeable_chroot=YES", "max_clients=0", "max_per_ip=0",
		}
	case testpeers.ProFTPD:
		return []string{"TLSRequired off", "MaxInstances 4000", "AllowOverwrite on"}
	case testpeers.PureFTPd:
		return []string{"TLS 1", "MaxClientsNumber 4000", "MaxClientsPerIP 4000"}
	}
	return nil
}

// startPeer starts a Debian peer with the run's accounts and certificate,
// on the passive ports lo-hi.
func startPeer(ctx context.Context, e *env, name string, lo, hi int) (*server, error) {
	product := testpeers.Product(name)
	var accts []testpeers.Account
	for _, a := range e.allAccounts() {
		accts = append(accts, testpeers.Account{Name: a.Name, Hash: a.Yescrypt, UID: benchUID, GID: benchGID, Home: e.files})
	}
	extra := peerExtra(product)
	peer, err := testpeers.Launch(ctx, product, testpeers.ProfileHardened, testpeers.Options{
		Extra:      extra,
		Accounts:   accts,
		CertPEM:    e.certPEM,
		KeyPEM:     e.keyPEM,
		PassiveMin: lo,
		PassiveMax: hi,
	})
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	return &server{
		Name:    name,
		Version: peer.Version,
		Config:  append([]string{"testpeers hardened profile"}, extra...),
		Addr:    peer.Addr,
		PID:     peer.PID,
		stop:    peer.Stop,
	}, nil
}

// buildPort21 builds the tree's port21 into dir, unless -port21 names one.
func buildPort21(ctx context.Context, cfg config, dir string) (string, error) {
	if cfg.Port21 != "" {
		return cfg.Port21, nil
	}
	bin := filepath.Join(dir, "port21")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/port21")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/port21 (run from the repository's root): %w\n%s", err, out)
	}
	return bin, nil
}

// port21Cmd runs a port21 subcommand to completion.
func port21Cmd(ctx context.Context, bin string, stdin []byte, args ...string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdin = bytes.NewReader(stdin)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("port21 %s: %w\n%s", strings.Join(args[:min(2, len(args))], " "), err, out)
	}
	return nil
}

// startPort21 makes port21's user store (the same accounts, argon2id
// hashes, the plain series' accounts and the bench account allowed to log
// in without TLS) and starts port21 serve on the run's certificate and the
// passive ports lo-hi.
func startPort21(ctx context.Context, e *env, lo, hi int) (*server, error) {
	bin, err := buildPort21(ctx, e.cfg, e.dir)
	if err != nil {
		return nil, err
	}
	data := filepath.Join(e.dir, "port21-data")
	homes := filepath.Join(e.dir, "port21-homes")
	for _, d := range []string{data, homes} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("port21: %w", err)
		}
	}
	dd := "--data-dir=" + data
	if err := port21Cmd(ctx, bin, shadow(e.allAccounts()), "user", "import-shadow", "-", dd, "--home-base="+homes); err != nil {
		return nil, err
	}
	if err := port21Cmd(ctx, bin, nil, "user", "mod", benchUser, dd, "--home="+e.files, "--allow-cleartext"); err != nil {
		return nil, err
	}
	for _, g := range []string{"plain-seq", "plain-par"} {
		for _, a := range e.logins[g] {
			if err := port21Cmd(ctx, bin, nil, "user", "mod", a.Name, dd, "--allow-cleartext"); err != nil {
				return nil, err
			}
		}
	}
	version := "tree"
	if out, err := exec.CommandContext(ctx, "git", "describe", "--always", "--dirty").Output(); err == nil {
		version = strings.TrimSpace(string(out))
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	flags := []string{
		"--listen=" + addr,
		fmt.Sprintf("--passive-ports=%d-%d", lo, hi),
		"--cert=" + e.certFile, "--key=" + e.keyFile,
		"--max-clients=4000", "--max-clients-per-ip=4000", "--max-passive-per-ip=64",
		"--log-file=" + filepath.Join(e.dir, "port21-audit.log"),
		"--xferlog-file=" + filepath.Join(e.dir, "port21-xfer.log"),
	}
	s, err := servePort21(ctx, bin, filepath.Join(e.dir, "port21-stderr.log"), addr, append([]string{dd}, flags...))
	if err != nil {
		return nil, err
	}
	s.Version, s.Config = version, flags
	return s, nil
}

// servePort21 runs port21 serve with args, listening on addr, its output
// in logPath, and waits for its greeting.
func servePort21(ctx context.Context, bin, logPath, addr string, args []string) (*server, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("port21: %w", err)
	}
	defer logf.Close()
	cmd := exec.Command(bin, append([]string{"serve"}, args...)...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start port21: %w", err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	s := &server{
		Name: "port21", Addr: addr, PID: cmd.Process.Pid,
		stop: func() error { return stopPID(cmd.Process.Pid, exited) },
	}
	if err := waitGreeting(ctx, addr, exited); err != nil {
		s.stop()
		logs, _ := os.ReadFile(logPath)
		return nil, fmt.Errorf("port21 serve: %w\n%s", err, tail(logs, 2000))
	}
	return s, nil
}

// stopPID ends the process group led by pid: SIGTERM, then SIGKILL.
func stopPID(pid int, exited <-chan struct{}) error {
	syscall.Kill(-pid, syscall.SIGTERM)
	select {
	case <-exited:
		return nil
	case <-time.After(5 * time.Second):
	}
	syscall.Kill(-pid, syscall.SIGKILL)
	select {
	case <-exited:
		return nil
	case <-time.After(5 * time.Second):
		return fmt.Errorf("process %d did not exit after SIGKILL", pid)
	}
}

// waitGreeting connects until the server says 220.
func waitGreeting(ctx context.Context, addr string, exited <-chan struct{}) error {
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case <-exited:
			return errors.New("exited before it greeted anyone")
		default:
		}
		s, err := dialSession(ctx, addr)
		if err == nil {
			s.quit(ctx)
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("no greeting: %w", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return strings.TrimSpace(string(b))
}

// runLogged runs a client command, bounded by timeout, and returns its
// standard output; the error carries the end of its standard error.
func runLogged(ctx context.Context, timeout time.Duration, name string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("%s: %w: %s", name, err, tail(stderr.Bytes(), 500))
	}
	return out, nil
}
