//go:build unix

// Package testpg runs a throwaway PostgreSQL server for tests: initdb into
// a temporary directory, postgres on a free loopback port, stopped by its
// PID when the test ends. It never uses a system service or cluster.
//
// The server binaries come from Debian's postgresql package
// (/usr/lib/postgresql/VERSION/bin), or from the directory in PORT21_PG_BIN.
// When they are missing, Start skips the test, unless PORT21_REQUIRE_CLIENTS=1
// (as in CI), which makes it a failure.
//
// PostgreSQL refuses to run as root: when the test runs as root, initdb and
// postgres run as the user nobody, in a directory made for them.
package testpg

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
)

// Server is a running PostgreSQL server.
type Server struct {
	// URL reaches the server's postgres database as its superuser, over
	// TCP on loopback, with a password (scram-sha-256).
	URL      string
	Password string
	host     string
	port     int

	bin, data, sock string
	cred            *syscall.Credential

	mu   sync.Mutex
	n    int    // databases made by NewDatabase
	stop func() // stops the running postgres
}

// superuser is the name of the server's superuser.
const superuser = "port21test"

// binDir finds the directory of initdb and postgres, or "" if none.
func binDir() string {
	if d := os.Getenv("PORT21_PG_BIN"); d != "" {
		return d
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	// The newest version first: "9.6" < "15" compares as numbers.
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "postgres")); err == nil {
			return d
		}
	}
	if p, err := exec.LookPath("postgres"); err == nil {
		return filepath.Dir(p)
	}
	return ""
}

func version(binDir string) float64 {
	v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(binDir)), 64)
	return v
}

// Start initialises and starts a PostgreSQL server that lives until t and
// its subtests end.
func Start(t testing.TB) *Server {
	t.Helper()
	bin := binDir()
	if bin == "" {
		const reason = "PostgreSQL server binaries not found (Debian package postgresql; or set PORT21_PG_BIN)"
		if os.Getenv("PORT21_REQUIRE_CLIENTS") == "1" {
			t.Fatal(reason + "; PORT21_REQUIRE_CLIENTS=1 makes this a failure")
		}
		t.Skip(reason + "; set PORT21_REQUIRE_CLIENTS=1 to make this a failure")
	}
	cred, err := credential()
	if err != nil {
		t.Fatal(err)
	}
	// Not t.TempDir: its parents are 0700 root, which nobody cannot enter;
	// nor a TMPDIR that others cannot enter either.
	base := os.TempDir()
	if fi, err := os.Stat(base); cred != nil && (err != nil || fi.Mode().Perm()&0o001 == 0) {
		base = "/tmp"
	}
	dir, err := os.MkdirTemp(base, "port21-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			t.Fatal(err)
		}
	}
	pwBytes := make([]byte, 16)
	rand.Read(pwBytes)
	password := hex.EncodeToString(pwBytes)
	pwfile := filepath.Join(dir, "pwfile")
	if err := writeFileAs(pwfile, password+"\n", cred); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-U", superuser, "--pwfile", pwfile,
		"--auth-host=scram-sha-256", "--auth-local=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	initdb.Dir = dir // the test's own directory may be closed to nobody
	initdb.Env = append(os.Environ(), "LC_ALL=C")
	if out, err := initdb.CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	sock := filepath.Join(dir, "sock")
	if err := os.Mkdir(sock, 0o700); err != nil {
		t.Fatal(err)
	}
	if cred != nil {
		if err := os.Chown(sock, int(cred.Uid), int(cred.Gid)); err != nil {
			t.Fatal(err)
		}
	}
	// A port picked by the kernel may be taken again before postgres
	// binds it: try a few.
	var lastErr error
	for range 3 {
		port, err := freePort()
		if err != nil {
			t.Fatal(err)
		}
		s := &Server{Password: password, host: "127.0.0.1", port: port, bin: bin, data: data, sock: sock, cred: cred}
		s.URL = s.urlFor("postgres")
		if lastErr = s.run(); lastErr == nil {
			t.Cleanup(func() {
				s.mu.Lock()
				defer s.mu.Unlock()
				s.stop()
			})
			return s
		}
	}
	t.Fatal(lastErr)
	return nil
}

// Restart stops the server (fast shutdown: every connection is cut) and
// starts it again on the same port with the same data, as an
// administrator's restart or a fail-over would.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stop()
	if err := s.run(); err != nil {
		s.stop = func() {}
		t.Fatal(err)
	}
}

// run starts postgres and waits until it takes connections, setting
// s.stop; on failure the process is stopped and its log is in the error.
func (s *Server) run() error {
	bin, data, sock, cred := s.bin, s.data, s.sock, s.cred
	logPath := filepath.Join(filepath.Dir(data), "postgres.log")
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(filepath.Join(bin, "postgres"), "-D", data, "-k", sock, "-p", strconv.Itoa(s.port),
		"-h", s.host, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "max_connections=200")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Setpgid: true}
	cmd.Dir = filepath.Dir(data)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	stop := func() {
		// SIGINT is PostgreSQL's fast shutdown: sessions end, no wait.
		cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	}
	db, err := sql.Open("pgx", s.URL)
	if err != nil {
		stop()
		return err
	}
	defer db.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err = db.PingContext(ctx)
		cancel()
		if err == nil {
			s.stop = stop
			return nil
		}
		select {
		case <-exited:
			log, _ := os.ReadFile(logPath)
			return fmt.Errorf("postgres exited: %s", log)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			stop()
			log, _ := os.ReadFile(logPath)
			return fmt.Errorf("postgres not ready after 30s (last error: %v): %s", err, log)
		}
	}
}

// NewDatabase creates an empty database and returns its URL.
func (s *Server) NewDatabase(t testing.TB) string {
	t.Helper()
	s.mu.Lock()
	s.n++
	name := "test" + strconv.Itoa(s.n)
	s.mu.Unlock()
	db, err := sql.Open("pgx", s.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	return s.urlFor(name)
}

func (s *Server) urlFor(db string) string {
	u := url.URL{Scheme: "postgres", User: url.UserPassword(superuser, s.Password),
		Host: net.JoinHostPort(s.host, strconv.Itoa(s.port)), Path: "/" + db, RawQuery: "sslmode=disable"}
	return u.String()
}

// credential returns whom to run PostgreSQL as: nil for the test's own user,
// or nobody when the test runs as root.
func credential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("nobody")
	if err != nil {
		return nil, fmt.Errorf("testpg: running as root and no user nobody to run postgres as: %w", err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("testpg: user nobody: %w", err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}, nil
}

func writeFileAs(path, text string, cred *syscall.Credential) error {
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		return err
	}
	if cred != nil {
		return os.Chown(path, int(cred.Uid), int(cred.Gid))
	}
	return nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// Exec runs SQL statements on the database at dbURL, for tests that need to
// reach past the code under test (to fake a newer schema, say).
func Exec(t testing.TB, dbURL string, stmts ...string) {
	t.Helper()
	db, err := sql.Open("pgx", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range stmts {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", strings.TrimSpace(q), err)
		}
	}
}
