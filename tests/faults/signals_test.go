package faults

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jlaffaye/ftp"

	"github.com/port21/port21/internal/certs"
)

// waitLog waits until the server's log holds want.
func (s *server) waitLog(t *testing.T, want string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if strings.Contains(s.logText(), want) {
			return
		}
	}
	t.Fatalf("log never said %q:\n%s", want, s.logText())
}

func (s *server) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := s.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
}

// peerCert is the SHA-256 of the certificate a new control connection
// is shown after AUTH TLS.
func peerCert(t *testing.T, addr string) [32]byte {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(c)
	r.ReadString('\n') // 220
	io.WriteString(c, "AUTH TLS\r\n")
	if line, _ := r.ReadString('\n'); !strings.HasPrefix(line, "234") {
		t.Fatalf("AUTH TLS: %q", line)
	}
	tc := tls.Client(c, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"ftp"}})
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(tc.ConnectionState().PeerCertificates[0].Raw)
}

// slowUpload starts STOR of head+tail, returns once the server has
// answered 150, and holds tail back until release is closed; done gets
// Stor's error (nil means 226).
func slowUpload(c *ftp.ServerConn, name string, head, tail []byte) (release chan struct{}, done chan error) {
	release, done = make(chan struct{}), make(chan error, 1)
	started := make(chan struct{})
	pr, pw := io.Pipe()
	go func() {
		pw.Write(head)
		<-release
		pw.Write(tail)
		pw.Close()
	}()
	// The client reads the body only after the server's 150, so the
	// first read means the server is in the transfer.
	go func() { done <- c.Stor(name, &firstRead{r: pr, first: started}) }()
	select {
	case <-started:
	case <-time.After(20 * time.Second):
	}
	return release, done
}

// firstRead closes first when the first Read comes.
type firstRead struct {
	r     io.Reader
	first chan struct{}
	once  sync.Once
}

func (f *firstRead) Read(p []byte) (int, error) {
	f.once.Do(func() { close(f.first) })
	return f.r.Read(p)
}

// SIGHUP with a renewed certificate on disk: a new connection is shown the
// new one, while an upload that started before goes on and completes intact.
func TestSIGHUPReloadsCertificate(t *testing.T) {
	data := t.TempDir()
	srv, password := start(t, data)
	before := peerCert(t, srv.addr)
	c := srv.dial(t, password)
	head, tail := bytes.Repeat([]byte("a"), 1<<20), bytes.Repeat([]byte("b"), 1<<20)
	release, done := slowUpload(c, "during-reload", head, tail)

	// A renewal replaces the files (as certbot's deploy does).
	other := t.TempDir()
	renewed, err := certs.LoadOrCreate(other, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"cert.pem", "key.pem"} {
		b, err := os.ReadFile(filepath.Join(other, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(data, "tls", f), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	srv.signal(t, syscall.SIGHUP)
	srv.waitLog(t, "reloaded")
	after := peerCert(t, srv.addr)
	if after == before || after != sha256.Sum256(renewed.TLS.Certificate[0]) {
		t.Errorf("after SIGHUP a new connection sees %x; want the renewed certificate (before: %x)", after, before)
	}
	close(release)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("upload across the reload: %v\n%s", err, srv.logText())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("upload across the reload never finished")
	}
	got, err := os.ReadFile(filepath.Join(data, "home", "port21", "during-reload"))
	if err != nil || !bytes.Equal(got, append(head, tail...)) {
		t.Errorf("uploaded file: %d bytes, err %v; want %d intact", len(got), err, len(head)+len(tail))
	}
	if srv.cmd.ProcessState != nil {
		t.Error("server exited")
	}
}

// SIGHUP with a bad config keeps the running one and says which key; a key
// that needs a restart is named and keeps its value; the server goes on.
func TestSIGHUPBadConfigKeepsRunning(t *testing.T) {
	data := t.TempDir()
	file := filepath.Join(t.TempDir(), "port21.toml")
	os.WriteFile(file, []byte("max-clients = 40\n"), 0o600)
	srv, password := start(t, data, "--config", file)
	c := srv.dial(t, password)

	os.WriteFile(file, []byte("max-clients = 0\n"), 0o600)
	srv.signal(t, syscall.SIGHUP)
	srv.waitLog(t, "reload refused")
	if !strings.Contains(srv.logText(), "max-clients") {
		t.Errorf("refused reload does not name max-clients:\n%s", srv.logText())
	}
	if _, err := c.CurrentDir(); err != nil {
		t.Errorf("session after a refused reload: %v", err)
	}
	srv.dial(t, password)

	os.WriteFile(file, []byte("max-clients = 40\ntls-min-version = \"1.3\"\n"), 0o600)
	srv.signal(t, syscall.SIGHUP)
	srv.waitLog(t, "reloaded")
	if !strings.Contains(srv.logText(), "needs a restart") || !strings.Contains(srv.logText(), "key=tls-min-version") {
		t.Errorf("tls-min-version change not reported as needing a restart:\n%s", srv.logText())
	}
	if _, err := c.CurrentDir(); err != nil {
		t.Errorf("session after a reload: %v", err)
	}
}

// SIGTERM during an upload: a session at a prompt gets 421 at once, new
// connections are refused, the upload completes with 226, and then the
// server exits 0.
func TestSIGTERMLetsUploadFinish(t *testing.T) {
	data := t.TempDir()
	srv, password := start(t, data, "--shutdown-timeout", "20s")
	c := srv.dial(t, password)
	idle, err := net.DialTimeout("tcp", srv.addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	idle.SetDeadline(time.Now().Add(10 * time.Second))
	ir := bufio.NewReader(idle)
	ir.ReadString('\n') // 220
	head, tail := bytes.Repeat([]byte("a"), 1<<20), bytes.Repeat([]byte("b"), 1<<20)
	release, done := slowUpload(c, "during-stop", head, tail)

	srv.signal(t, syscall.SIGTERM)
	if line, _ := ir.ReadString('\n'); !strings.HasPrefix(line, "421") {
		t.Errorf("idle session after SIGTERM got %q, want 421", line)
	}
	// The listener closes beside the 421s; a connection that still makes
	// it into the backlog must be closed unserved, never greeted.
	if nc, err := net.DialTimeout("tcp", srv.addr, 2*time.Second); err == nil {
		nc.SetDeadline(time.Now().Add(5 * time.Second))
		line, _ := bufio.NewReader(nc).ReadString('\n')
		nc.Close()
		if line != "" {
			t.Errorf("a new connection after SIGTERM was answered %q", line)
		}
	}
	close(release)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("upload across SIGTERM: %v\n%s", err, srv.logText())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("upload across SIGTERM never finished")
	}
	exited := make(chan error, 1)
	go func() { exited <- srv.cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("server exit: %v\n%s", err, srv.logText())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("server did not exit after its last transfer")
	}
	got, err := os.ReadFile(filepath.Join(data, "home", "port21", "during-stop"))
	if err != nil || !bytes.Equal(got, append(head, tail...)) {
		t.Errorf("uploaded file: %d bytes, err %v; want %d intact", len(got), err, len(head)+len(tail))
	}
}
