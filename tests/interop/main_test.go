// Package interop runs real FTP clients against a real `port21 serve` over
// loopback sockets: curl, lftp, Python's ftplib, rclone and the Go library
// github.com/jlaffaye/ftp, each over explicit FTPS and plain FTP, IPv4 and
// IPv6, passive and active mode.
//
// Unit tests cannot catch what this catches: a server that follows the RFCs
// but that real clients cannot use, because of how they resume TLS sessions
// on data connections, send (or do not send) close_notify, pick EPSV or
// PASV, or read replies.
//
// TestMain builds ./cmd/port21 once ($PORT21_BIN, when set, is used
// instead) and every matrix cell starts its own server with its own data
// directory and passive port range, and stops it with SIGTERM. A client that
// is not installed is skipped, unless PORT21_REQUIRE_CLIENTS=1 (as in CI),
// which makes it a failure. -short skips everything.
//
// Run: go test -v -timeout 15m ./tests/interop (4 cells at a time unless
// -parallel says otherwise)
package interop

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// stepTimeout bounds every external command and every in-process client
// operation: one matrix step must never hang the suite.
const stepTimeout = 30 * time.Second

// port21Bin is the server binary under test. TestMain sets it once, before
// any test runs, and nothing writes it afterwards.
var port21Bin string

func TestMain(m *testing.M) {
	flag.Parse()
	// The cells mostly wait: on client programs starting, on TLS
	// handshakes, on the server's 2 s grace before a 522. Unless -parallel
	// was given, run 4 at a time rather than GOMAXPROCS (2 on the
	// development machine).
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "test.parallel" })
	if !explicit {
		flag.Set("test.parallel", strconv.Itoa(max(4, runtime.GOMAXPROCS(0))))
	}
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	if testing.Short() {
		return m.Run() // every test skips itself
	}
	bin, cleanup, err := buildPort21()
	if err != nil {
		fmt.Fprintln(os.Stderr, "interop:", err)
		return 1
	}
	defer cleanup()
	port21Bin = bin
	return m.Run()
}

// buildPort21 builds ./cmd/port21 of the module this package is in, or
// returns $PORT21_BIN.
func buildPort21() (bin string, cleanup func(), err error) {
	if env := os.Getenv("PORT21_BIN"); env != "" {
		abs, err := filepath.Abs(env)
		if err != nil {
			return "", nil, fmt.Errorf("PORT21_BIN: %w", err)
		}
		return abs, func() {}, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	gomod, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", nil, fmt.Errorf("go env GOMOD: %w", err)
	}
	modFile := strings.TrimSpace(string(gomod))
	if modFile == "" || modFile == os.DevNull {
		return "", nil, errors.New("go env GOMOD: not inside the port21 module")
	}
	dir, err := os.MkdirTemp("", "port21-interop-bin-")
	if err != nil {
		return "", nil, err
	}
	bin = filepath.Join(dir, "port21")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/port21")
	cmd.Dir = filepath.Dir(modFile)
	if out, err := cmd.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return "", nil, fmt.Errorf("go build ./cmd/port21: %v\n%s", err, out)
	}
	return bin, func() { os.RemoveAll(dir) }, nil
}

// needServer skips in -short mode, where TestMain builds nothing.
func needServer(t *testing.T) {
	t.Helper()
	if testing.Short() || port21Bin == "" {
		t.Skip("interop tests start real servers and clients; skipped with -short")
	}
}

// requireClients reports whether a missing client is a failure (CI) rather
// than a skip.
func requireClients() bool { return os.Getenv("PORT21_REQUIRE_CLIENTS") == "1" }

// missingClient returns why a client cannot run ("" when it can): its
// executable is looked up in PATH, or at the fixed path when absolute.
func missingClient(exe, debianPkg string) string {
	var err error
	if filepath.IsAbs(exe) {
		_, err = os.Stat(exe)
	} else {
		_, err = exec.LookPath(exe)
	}
	if err == nil {
		return ""
	}
	return fmt.Sprintf("%s is not installed (apt-get install %s): %v", exe, debianPkg, err)
}

// skipOrFail skips with reason, or fails under PORT21_REQUIRE_CLIENTS=1.
func skipOrFail(t *testing.T, reason string) {
	t.Helper()
	if requireClients() {
		t.Fatalf("%s; PORT21_REQUIRE_CLIENTS=1 makes this a failure", reason)
	}
	t.Skipf("%s; set PORT21_REQUIRE_CLIENTS=1 to make this a failure", reason)
}

// cmdResult is one finished external command, kept for transcripts.
type cmdResult struct {
	argv   []string
	stdout string
	stderr string
	err    error
}

// transcript is what a failure report shows: the command, its output and
// how it ended. Very long output keeps its end, where errors are.
func (r cmdResult) transcript() string {
	var b strings.Builder
	fmt.Fprintf(&b, "$ %s\n", shellQuote(r.argv))
	if r.stdout != "" {
		fmt.Fprintf(&b, "--- stdout:\n%s\n", tail(r.stdout, 6000))
	}
	if r.stderr != "" {
		fmt.Fprintf(&b, "--- stderr:\n%s\n", tail(r.stderr, 12000))
	}
	if r.err != nil {
		fmt.Fprintf(&b, "--- exit: %v\n", r.err)
	} else {
		b.WriteString("--- exit: 0\n")
	}
	return b.String()
}

// runCmd runs an external command with stepTimeout. env entries are added to
// the test process's environment.
func runCmd(ctx context.Context, env []string, stdin string, argv ...string) cmdResult {
	return runCmdTimeout(ctx, stepTimeout, env, stdin, argv...)
}

// runCmdTimeout is runCmd with another time limit (installs, mirrors).
func runCmdTimeout(ctx context.Context, timeout time.Duration, env []string, stdin string, argv ...string) cmdResult {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = strings.NewReader(stdin)
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	err := cmd.Run()
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		err = fmt.Errorf("timed out after %v: %w", timeout, err)
	}
	return cmdResult{argv: argv, stdout: stdout.String(), stderr: stderr.String(), err: err}
}

func shellQuote(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		if a != "" && !strings.ContainsAny(a, " \t\n'\"\\$;&|<>()*?[]{}!#~`") {
			q[i] = a
			continue
		}
		q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}

// tail returns the last n bytes of s, marked as cut.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return fmt.Sprintf("[... %d bytes cut ...]\n%s", len(s)-n, s[len(s)-n:])
}

// syncBuffer is a bytes.Buffer safe for a writer goroutine (exec's copy of
// a child's output) and readers (the test) at once.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
