package faults

import (
	"bytes"
	"crypto/tls"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jlaffaye/ftp"
)

const tempPrefix = ".port21-upload-"

// greeting connects from the loopback address from and returns what the
// server sends first (nothing, for an address it drops).
func greeting(t *testing.T, addr, from string) string {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		return ""
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	b := make([]byte, 64)
	n, _ := io.ReadAtLeast(c, b, 3)
	return string(b[:n])
}

// temporaries lists the temporary upload files anywhere under dir.
func temporaries(t *testing.T, dir string) []string {
	t.Helper()
	var found []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), tempPrefix) {
			found = append(found, p)
		}
		return nil
	})
	return found
}

func dialUser(t *testing.T, addr, user, password string, opts ...ftp.DialOption) *ftp.ServerConn {
	t.Helper()
	cfg := &tls.Config{InsecureSkipVerify: true, ServerName: "port21", ClientSessionCache: tls.NewLRUClientSessionCache(4)}
	opts = append([]ftp.DialOption{ftp.DialWithExplicitTLS(cfg), ftp.DialWithTimeout(10 * time.Second)}, opts...)
	c, err := ftp.Dial(addr, opts...)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	if err := c.Login(user, password); err != nil {
		t.Fatalf("login %s: %v", user, err)
	}
	t.Cleanup(func() { c.Quit() })
	return c
}

// TestKill9HidesAndCleansTemporaries goes further than
// TestKill9DuringUploads. Uploads are in flight in a subdirectory, with
// REST+STOR over an existing file, and in the home of an account that lives outside the data
// directory, while the defender has just banned an address and another ban
// came from `port21 ban add`. While they run, no listing (MLSD, NLST, LIST
// -a) shows a temporary file and none can be downloaded, sized or
// renamed by name. Then the server is killed with SIGKILL. After the
// restart no temporary file is left in any home, nothing stands under the
// uploads' final names, both bans are in force, both accounts log in, and
// `port21 user list` reads the store.
func TestKill9HidesAndCleansTemporaries(t *testing.T) {
	data := t.TempDir()
	outside := filepath.Join(t.TempDir(), "carol")
	const carolPassword = "carol's long password, for the test"
	flags := []string{"--max-login-failures", "2"}
	srv, password := start(t, data, flags...)
	if password == "" {
		t.Fatal("first start printed no password")
	}
	addUser(t, data, "carol", carolPassword, "--home", outside)
	bin, _ := binary()
	if out, err := exec.Command(bin, "ban", "add", "127.0.8.0/24", "--data-dir", data).CombinedOutput(); err != nil {
		t.Fatalf("ban add: %v %s", err, out)
	}
	// The defender bans 127.0.0.66 for two wrong passwords.
	for range 2 {
		d := net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.66")}}
		cfg := &tls.Config{InsecureSkipVerify: true}
		if c, err := ftp.Dial(srv.addr, ftp.DialWithDialer(d), ftp.DialWithExplicitTLS(cfg)); err == nil {
			if c.Login("port21", "wrong") == nil {
				t.Fatal("a wrong password logged in")
			}
			c.Quit()
		}
	}
	if !settle(20*time.Second, func() bool { return greeting(t, srv.addr, "127.0.0.66") == "" }) {
		t.Fatal("the defender did not ban 127.0.0.66")
	}

	home := filepath.Join(data, "home", "port21")
	c := srv.dial(t, password)
	if err := c.MakeDir("sub"); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	defer close(stop)
	var inflight []*stalled
	begin := func(run func(r io.Reader)) {
		r := &stalled{head: bytes.Repeat([]byte("partial "), 64<<10), sent: make(chan struct{}), stop: stop}
		inflight = append(inflight, r)
		go run(r)
	}
	begin(func(r io.Reader) { srv.dial(t, password).Stor("sub/new.bin", r) })
	begin(func(r io.Reader) { srv.dial(t, password).Stor("top.bin", r) })
	begin(func(r io.Reader) { dialUser(t, srv.addr, "carol", carolPassword).Stor("carol.bin", r) })
	// A resumed upload (REST, then STOR) over a file that must stay whole.
	old := bytes.Repeat([]byte("old version "), 10_000)
	if err := c.Stor("sub/old.bin", bytes.NewReader(old)); err != nil {
		t.Fatal(err)
	}
	begin(func(r io.Reader) { srv.dial(t, password).StorFrom("sub/old.bin", r, 1000) })
	for _, r := range inflight {
		select {
		case <-r.sent:
		case <-time.After(20 * time.Second):
			t.Fatal("uploads did not start")
		}
	}
	time.Sleep(200 * time.Millisecond) // the server has written what it got

	temps := append(temporaries(t, home), temporaries(t, outside)...)
	if len(temps) < 4 {
		t.Fatalf("%d temporary files on disk during 4 uploads: %v", len(temps), temps)
	}
	// Nothing shows them, nothing reaches them by name.
	lister := dialUser(t, srv.addr, "port21", password, ftp.DialWithDisabledMLSD(true), ftp.DialWithForceListHidden(true))
	for _, dir := range []string{"/", "/sub"} {
		var shown []string
		entries, err := c.List(dir) // MLSD
		if err != nil {
			t.Fatalf("MLSD %s: %v", dir, err)
		}
		for _, e := range entries {
			shown = append(shown, "MLSD "+e.Name)
		}
		names, err := c.NameList(dir)
		if err != nil {
			t.Fatalf("NLST %s: %v", dir, err)
		}
		for _, n := range names {
			shown = append(shown, "NLST "+n)
		}
		entries, err = lister.List(dir) // LIST -a
		if err != nil {
			t.Fatalf("LIST -a %s: %v", dir, err)
		}
		for _, e := range entries {
			shown = append(shown, "LIST -a "+e.Name)
		}
		for _, s := range shown {
			if strings.Contains(s, tempPrefix) {
				t.Errorf("%s shows a temporary upload: %s", dir, s)
			}
		}
	}
	for _, p := range temps {
		if !strings.HasPrefix(p, home) {
			continue
		}
		rel := "/" + filepath.ToSlash(strings.TrimPrefix(p, home+"/"))
		if r, err := c.Retr(rel); err == nil {
			b, _ := io.ReadAll(r)
			r.Close()
			t.Errorf("RETR %s of a temporary upload worked (%d bytes)", rel, len(b))
		}
		if _, err := c.FileSize(rel); err == nil {
			t.Errorf("SIZE %s of a temporary upload worked", rel)
		}
		if err := c.Rename(rel, "/stolen.bin"); err == nil {
			t.Errorf("RNFR %s of a temporary upload worked", rel)
		}
		if err := c.Delete(rel); err == nil {
			t.Errorf("DELE %s of a temporary upload worked", rel)
		}
	}

	srv.kill()
	srv.cmd.Wait()
	srv2, _ := start(t, data, flags...)
	if left := append(temporaries(t, filepath.Join(data, "home")), temporaries(t, outside)...); len(left) > 0 {
		t.Errorf("temporary uploads left after the restart: %v", left)
	}
	for _, p := range []string{filepath.Join(home, "sub", "new.bin"), filepath.Join(home, "top.bin"), filepath.Join(outside, "carol.bin"), filepath.Join(home, "stolen.bin")} {
		if fi, err := os.Stat(p); err == nil {
			t.Errorf("%s stands after a killed upload (%d bytes)", p, fi.Size())
		}
	}
	if !strings.Contains(srv2.logText(), "removed stale temporary uploads") {
		t.Errorf("the restart did not report its clean-up:\n%s", srv2.logText())
	}
	for _, from := range []string{"127.0.0.66", "127.0.8.9"} {
		if got := greeting(t, srv2.addr, from); got != "" {
			t.Errorf("banned %s got %q after the restart", from, got)
		}
	}
	if got := greeting(t, srv2.addr, "127.0.0.1"); !strings.HasPrefix(got, "220") {
		t.Errorf("127.0.0.1 got %q after the restart", got)
	}
	c2 := srv2.dial(t, password)
	if names, err := c2.NameList("/sub"); err != nil || strings.Join(names, ",") != "old.bin" {
		t.Errorf("/sub after the restart: %v %v", names, err)
	}
	if b, err := os.ReadFile(filepath.Join(home, "sub", "old.bin")); !bytes.Equal(b, old) {
		t.Errorf("the file a killed resume was extending: %d bytes (%v), want the old %d", len(b), err, len(old))
	}
	if err := c2.Stor("sub/after.bin", strings.NewReader("works")); err != nil {
		t.Errorf("upload after the restart: %v", err)
	}
	carol := dialUser(t, srv2.addr, "carol", carolPassword)
	if names, err := carol.NameList("/"); err != nil || len(names) != 0 {
		t.Errorf("carol's home after the restart: %v %v", names, err)
	}
	out, err := exec.Command(bin, "user", "list", "--data-dir", data).CombinedOutput()
	if err != nil {
		t.Fatalf("user list: %v %s", err, out)
	}
	for _, name := range []string{"port21", "carol"} {
		if !slices.ContainsFunc(strings.Fields(string(out)), func(f string) bool { return f == name }) {
			t.Errorf("user list lacks %s:\n%s", name, out)
		}
	}
}

// TestKill9DuringSTOU: STOU reserves its unique name at once (with an
// empty file) and says it in the 150 reply. A SIGKILL in the middle of the
// upload must not leave that empty file standing under the name after the
// restart, as it would any truncated upload.
func TestKill9DuringSTOU(t *testing.T) {
	data := t.TempDir()
	srv, password := start(t, data)
	home := filepath.Join(data, "home", "port21")
	rc := dialRaw(t, srv.addr, "port21", password)
	dc, prelim, err := rc.data("STOU report.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer dc.Close()
	name, ok := strings.CutPrefix(prelim, "FILE: ")
	if !ok {
		t.Fatalf("STOU's 150 reply %q names no file", prelim)
	}
	if _, err := dc.Write(bytes.Repeat([]byte("partial "), 64<<10)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if _, err := os.Stat(filepath.Join(home, name)); err != nil {
		t.Fatalf("no reservation of %s during the upload: %v", name, err)
	}
	srv.kill()
	srv.cmd.Wait()

	srv2, _ := start(t, data)
	if fi, err := os.Stat(filepath.Join(home, name)); err == nil {
		t.Errorf("%s (%d bytes) stands after a killed STOU", name, fi.Size())
	}
	if left := temporaries(t, home); len(left) > 0 {
		t.Errorf("temporary uploads left: %v", left)
	}
	// An empty file a user stored is not mistaken for a reservation.
	c := srv2.dial(t, password)
	if err := c.Stor("empty.txt", strings.NewReader("")); err != nil {
		t.Fatal(err)
	}
	srv2.kill()
	srv2.cmd.Wait()
	start(t, data)
	if _, err := os.Stat(filepath.Join(home, "empty.txt")); err != nil {
		t.Errorf("an empty file the user stored is gone after a restart: %v", err)
	}
}
