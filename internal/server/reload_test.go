package server

import (
	"bufio"
	"bytes"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/port21/port21/internal/certs"
	"github.com/port21/port21/internal/config"
)

// Reload swaps the certificate and the limits for what comes next while a
// logged-in session goes on, and keeps startup keys (under -race, it is
// also the check that sessions read the configuration safely).
func TestReloadKeepsSessions(t *testing.T) {
	ts := startServer(t)
	ts.addUser(t, "alice", nil)
	c := ts.dial(t, "alice", clientTLS())
	writeFile(t, filepath.Join(ts.home("alice"), "f"), bytes.Repeat([]byte("x"), 1<<20))

	cfg := config.Default()
	cfg.DataDir, cfg.Listen, cfg.PassivePorts = ts.dir, "127.0.0.1:1", "30000-39999"
	cfg.MaxClientsPerIP, cfg.MaxClients = 1, 10
	cfg.Deny = []string{"192.0.2.1"}
	v, err := cfg.Validate()
	if err != nil {
		t.Fatal(err)
	}
	renewed, err := certs.LoadOrCreate(t.TempDir(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan []byte)
	go func() { done <- retr(t, c, "f", 0) }() // a transfer across the reload
	restart, err := ts.srv.Reload(v, renewed.TLS)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(restart, ",") != "listen" {
		t.Errorf("needs a restart: %v, want [listen]", restart)
	}
	if got := <-done; len(got) != 1<<20 {
		t.Errorf("download across the reload: %d bytes", len(got))
	}
	if ts.srv.conf().Listen != "127.0.0.1:0" || len(ts.srv.conf().DenyNets) != 1 {
		t.Errorf("after reload: listen %q, deny %v", ts.srv.conf().Listen, ts.srv.conf().DenyNets)
	}
	// max-clients-per-ip is now 1, held by alice's session.
	nc, err := net.DialTimeout("tcp", ts.addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	if line, _ := bufio.NewReader(nc).ReadString('\n'); !strings.HasPrefix(line, "421 ") {
		t.Errorf("second connection after max-clients-per-ip = 1: %q, want 421", line)
	}
	if _, err := c.CurrentDir(); err != nil {
		t.Errorf("session after reload: %v", err)
	}
	if got := ts.srv.cert.Load(); !bytes.Equal(got.Certificate[0], renewed.TLS.Certificate[0]) {
		t.Error("certificate not swapped")
	}
}
