package faults

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jlaffaye/ftp"

	"github.com/port21/port21/internal/fdlimit"
)

// TestOpenFileLimit runs the server with a hard limit of 200 open files
// and the default max-clients (512), far more than fit: it must say so at
// start-up and lower max-clients, so that a flood of connections gets 220
// or a 421 that says why, never a connection the kernel made it drop, and
// a real login still works afterwards.
func TestOpenFileLimit(t *testing.T) {
	prlimit, err := exec.LookPath("prlimit")
	if err != nil {
		t.Skip("prlimit (util-linux) not installed")
	}
	srv, password := startUnder(t, []string{prlimit, "--nofile=200:200"}, t.TempDir(), "--max-clients-per-ip", "512")
	srv.waitLog(t, "max-clients lowered to fit the open-file limit")
	if want := (200 - fdlimit.Reserve) / fdlimit.PerSession; !strings.Contains(srv.logText(), fmt.Sprintf("now=%d", want)) {
		t.Errorf("want max-clients lowered to (200-%d)/%d = %d:\n%s", fdlimit.Reserve, fdlimit.PerSession, want, srv.logText())
	}
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	greeted, refused := 0, 0
	for i := range 60 {
		c, err := net.DialTimeout("tcp", srv.addr, 5*time.Second)
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		conns = append(conns, c)
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		line, err := bufio.NewReader(c).ReadString('\n')
		switch {
		case strings.HasPrefix(line, "220"):
			greeted++
		case strings.HasPrefix(line, "421 "):
			refused++
		default:
			t.Fatalf("connection %d: got %q (%v), want 220 or a 421 that says why", i, line, err)
		}
	}
	if greeted == 0 || refused == 0 {
		t.Errorf("%d greeted, %d refused with 421: want both", greeted, refused)
	}
	for _, c := range conns {
		c.Close()
	}
	conns = nil
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := ftp.Dial(srv.addr, ftp.DialWithExplicitTLS(&tls.Config{InsecureSkipVerify: true}), ftp.DialWithTimeout(5*time.Second))
		if err == nil {
			if err = c.Login("port21", password); err != nil {
				c.Quit()
			}
		}
		if err == nil {
			c.Quit()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no login after the flood: %v\n%s", err, srv.logText())
		}
		time.Sleep(200 * time.Millisecond)
	}
}
