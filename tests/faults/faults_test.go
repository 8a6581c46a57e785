package faults

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jlaffaye/ftp"
)

// binary builds port21 once for the package's tests.
var binary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "port21-faults-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "port21")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/port21/port21/cmd/port21").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

// server is one running `port21 serve` process.
type server struct {
	cmd  *exec.Cmd
	addr string
	logs *bytes.Buffer
	logw *lockedWriter // guards logs: the server writes while a test reads
}

// logText is the server's log so far, read under the writer's lock.
func (s *server) logText() string {
	s.logw.mu.Lock()
	defer s.logw.mu.Unlock()
	return s.logs.String()
}

var (
	listenRE   = regexp.MustCompile(`listening on (\S+) `)
	passwordRE = regexp.MustCompile(`created user "port21" with password (\S+)`)
)

// start runs serve on dataDir and returns it once it listens. The first
// start creates the user "port21"; its password is returned then.
func start(t *testing.T, dataDir string, extra ...string) (*server, string) {
	t.Helper()
	return startUnder(t, nil, dataDir, extra...)
}

// startUnder is start with the server run by a wrapper command (such as
// prlimit) given before the binary.
func startUnder(t *testing.T, wrapper []string, dataDir string, extra ...string) (*server, string) {
	t.Helper()
	bin, err := binary()
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{"serve", "--data-dir", dataDir, "--listen", "127.0.0.1:0", "--passive-ports", "40000-40999",
		"--max-login-failures", "0"}, extra...)
	argv := append(append(slices.Clone(wrapper), bin), args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	logs := &bytes.Buffer{}
	logw := &lockedWriter{w: logs}
	cmd.Stderr = logw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{cmd: cmd, logs: logs, logw: logw}
	t.Cleanup(func() { s.kill(); s.cmd.Wait() })
	var password string
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	deadline := time.After(30 * time.Second)
	for s.addr == "" {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("serve exited: %s", logs)
			}
			if m := listenRE.FindStringSubmatch(line); m != nil {
				s.addr = m[1]
			}
		case <-deadline:
			t.Fatalf("serve did not start: %s", logs)
		}
	}
	// The first-start lines follow the listening line at once.
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				return s, password
			}
			if m := passwordRE.FindStringSubmatch(line); m != nil {
				password = m[1]
			}
			if strings.Contains(line, "curl") {
				go func() {
					for range lines {
					}
				}()
				return s, password
			}
		case <-time.After(500 * time.Millisecond):
			go func() {
				for range lines {
				}
			}()
			return s, password
		}
	}
}

// kill ends the server with SIGKILL: no clean-up of any kind runs.
func (s *server) kill() {
	if s.cmd.Process != nil {
		s.cmd.Process.Signal(syscall.SIGKILL)
	}
}

func (s *server) dial(t *testing.T, password string) *ftp.ServerConn {
	t.Helper()
	cfg := &tls.Config{InsecureSkipVerify: true, ServerName: "port21", ClientSessionCache: tls.NewLRUClientSessionCache(4)}
	c, err := ftp.Dial(s.addr, ftp.DialWithExplicitTLS(cfg), ftp.DialWithTimeout(10*time.Second))
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	if err := c.Login("port21", password); err != nil {
		t.Fatalf("login: %v", err)
	}
	t.Cleanup(func() { c.Quit() })
	return c
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// stalled is an upload body that sends head, then blocks until released:
// the upload is in flight when the server dies.
type stalled struct {
	head []byte
	sent chan struct{}
	stop chan struct{}
	once sync.Once
}

func (r *stalled) Read(p []byte) (int, error) {
	if len(r.head) > 0 {
		n := copy(p, r.head)
		r.head = r.head[n:]
		return n, nil
	}
	r.once.Do(func() { close(r.sent) })
	<-r.stop
	return 0, io.ErrUnexpectedEOF
}

// TestKill9DuringUploads: uploads are in flight (new files, one replacing
// an existing file, one resuming with APPE) when the server is killed with
// SIGKILL. After a restart no truncated file stands under a final name, the
// file being replaced still holds its old content, no temporary file is
// visible or left on disk, and the store and its users are intact.
func TestKill9DuringUploads(t *testing.T) {
	data := t.TempDir()
	srv, password := start(t, data)
	if password == "" {
		t.Fatal("first start printed no password")
	}
	home := filepath.Join(data, "home", "port21")
	c := srv.dial(t, password)
	old := bytes.Repeat([]byte("old version "), 10_000)
	if err := c.Stor("keep.bin", bytes.NewReader(old)); err != nil {
		t.Fatal(err)
	}
	if err := c.Stor("grow.bin", bytes.NewReader(old)); err != nil {
		t.Fatal(err)
	}

	stop := make(chan struct{})
	defer close(stop)
	var inflight []*stalled
	uploads := []struct {
		name   string
		appe   bool
		exists bool
	}{{"new1.bin", false, false}, {"new2.bin", false, false}, {"keep.bin", false, true}, {"grow.bin", true, true}}
	for _, up := range uploads {
		r := &stalled{head: bytes.Repeat([]byte("partial "), 64<<10), sent: make(chan struct{}), stop: stop}
		inflight = append(inflight, r)
		uc := srv.dial(t, password)
		go func() {
			if up.appe {
				uc.Append(up.name, r)
			} else {
				uc.Stor(up.name, r)
			}
		}()
	}
	for _, r := range inflight {
		select {
		case <-r.sent:
		case <-time.After(20 * time.Second):
			t.Fatal("uploads did not start")
		}
	}
	time.Sleep(200 * time.Millisecond) // let the server write what it got
	srv.kill()
	srv.cmd.Wait()

	srv2, _ := start(t, data)
	for _, up := range uploads {
		b, err := os.ReadFile(filepath.Join(home, up.name))
		switch {
		case !up.exists && !os.IsNotExist(err):
			t.Errorf("%s: a killed upload left a file under its final name (%d bytes, %v)", up.name, len(b), err)
		case up.exists && !bytes.Equal(b, old):
			t.Errorf("%s: the previous version was damaged (%d bytes, %v)", up.name, len(b), err)
		}
	}
	entries, _ := os.ReadDir(home)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".port21-upload-") {
			t.Errorf("temporary upload %s left on disk after the restart", e.Name())
		}
	}
	c2 := srv2.dial(t, password) // the store and the user survived
	names, err := c2.NameList("/")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(names, ","); got != "grow.bin,keep.bin" {
		t.Errorf("listing after the restart: %s", got)
	}
	if err := c2.Stor("after.bin", strings.NewReader("works")); err != nil {
		t.Errorf("upload after the restart: %v", err)
	}
}

// TestFullDisk: the home is on a 1 MiB tmpfs. An upload that does not fit
// gets a clear 45x/55x reply, leaves no partial file and no temporary
// file, and the server goes on serving: a small upload works afterwards.
func TestFullDisk(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	data := t.TempDir()
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "port21-full", mnt).CombinedOutput(); err != nil {
		t.Skipf("mount tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", mnt).Run() })
	bin, err := binary()
	if err != nil {
		t.Fatal(err)
	}
	home := filepath.Join(mnt, "alice")
	add := exec.Command(bin, "user", "add", "alice", "--password-stdin", "--home", home, "--data-dir", data)
	add.Stdin = strings.NewReader("a long password for alice\n")
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("user add: %v %s", err, out)
	}
	srv, _ := start(t, data)
	cfg := &tls.Config{InsecureSkipVerify: true, ServerName: "port21", ClientSessionCache: tls.NewLRUClientSessionCache(4)}
	c, err := ftp.Dial(srv.addr, ftp.DialWithExplicitTLS(cfg), ftp.DialWithTimeout(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Quit()
	if err := c.Login("alice", "a long password for alice"); err != nil {
		t.Fatal(err)
	}
	err = c.Stor("big.bin", bytes.NewReader(bytes.Repeat([]byte("x"), 4<<20)))
	if err == nil {
		t.Fatal("a 4 MiB upload to a 1 MiB disk succeeded")
	}
	// The client may also report the data connection the server closed;
	// the reply is what matters.
	if !regexp.MustCompile(`(^|\n)(452|552) `).MatchString(err.Error()) {
		t.Errorf("full disk answered %q, want 452 or 552", err)
	}
	entries, _ := os.ReadDir(home)
	for _, e := range entries {
		t.Errorf("left on the full disk: %s", e.Name())
	}
	if err := c.Stor("small.txt", strings.NewReader("still serving")); err != nil {
		t.Errorf("small upload after the full disk: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(home, "small.txt")); string(b) != "still serving" {
		t.Errorf("small.txt holds %q", b)
	}
}
