package faults

import (
	"crypto/tls"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jlaffaye/ftp"
)

// TestDataDirFull: the data directory itself (the store, the certificate,
// the homes) is on a tmpfs that fills up while the server runs. The
// defender's ban cannot be written but holds, logins and listings go on,
// an upload gets 452/552, SIGHUP reloads. Once space is back uploads work,
// the ban survives a reload of the store's bans (another process's ban
// add) and reaches the store, so that it survives kill -9 and a restart.
func TestDataDirFull(t *testing.T) {
	data := mountTmpfs(t, "16m")
	srv, password := start(t, data, "--max-login-failures", "2")
	c := srv.dial(t, password)
	if err := c.Stor("before.txt", strings.NewReader("before")); err != nil {
		t.Fatal(err)
	}
	filler := filepath.Join(data, "filler")
	fillDisk(t, filler)
	// Wrong passwords from 127.0.0.77: the ban goes to the full store.
	for range 3 {
		d := net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.77")}}
		if bc, err := ftp.Dial(srv.addr, ftp.DialWithDialer(d), ftp.DialWithExplicitTLS(&tls.Config{InsecureSkipVerify: true})); err == nil {
			bc.Login("port21", "wrong")
			bc.Quit()
		}
	}
	if got := greeting(t, srv.addr, "127.0.0.77"); got != "" {
		t.Errorf("127.0.0.77 not banned with the store full: got %q", got)
	}
	srv.signal(t, syscall.SIGHUP)
	c2 := srv.dial(t, password)
	if names, err := c2.NameList("/"); err != nil || len(names) == 0 {
		t.Errorf("listing on a full data directory: %v %v", names, err)
	}
	checkFull(t, "STOR with the data directory full", c2.Stor("full.txt", strings.NewReader(strings.Repeat("f", 1<<20))))
	os.Remove(filler)
	if err := c2.Stor("after.txt", strings.NewReader("after")); err != nil {
		t.Errorf("upload once space is back: %v", err)
	}
	// Another process changes the bans: the server reloads them from the
	// store, and the ban made while it was full must still hold.
	bin, _ := binary()
	if out, err := exec.Command(bin, "ban", "add", "127.0.9.0/24", "--data-dir", data).CombinedOutput(); err != nil {
		t.Fatalf("ban add: %v %s", err, out)
	}
	if !settle(20*time.Second, func() bool { return greeting(t, srv.addr, "127.0.9.9") == "" }) {
		t.Fatal("the ban of the other process never arrived")
	}
	if got := greeting(t, srv.addr, "127.0.0.77"); got != "" {
		t.Errorf("the ban made while the disk was full was forgotten at a reload: 127.0.0.77 got %q", got)
	}
	srv.dial(t, password)
	if err := srv.cmd.Process.Signal(syscall.Signal(0)); err != nil {
		t.Fatalf("server gone: %v\n%s", err, srv.logText())
	}
	// And it reached the store: a restart keeps it.
	srv.kill()
	srv.cmd.Wait()
	srv2, _ := start(t, data, "--max-login-failures", "2")
	if got := greeting(t, srv2.addr, "127.0.0.77"); got != "" {
		t.Errorf("the ban made while the disk was full is gone after a restart: 127.0.0.77 got %q", got)
	}
	if b, err := os.ReadFile(filepath.Join(data, "home", "port21", "after.txt")); string(b) != "after" {
		t.Errorf("after.txt after the restart: %q %v", b, err)
	}
}
