package server

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/port21/port21/internal/config"
	"github.com/port21/port21/internal/users"
)

// TestClearUploadCutOffIsTheClients: an upload in clear goes through
// splice(2) from the socket into the file, and Go reports a failure on
// either side as a write error on the file. A client that resets its data
// connection, or stalls past data-timeout, in the middle of such an upload
// must hear 426 (its connection broke) and not 451 (a local error of the
// server), nothing is stored, and the log does not call it a file-system
// failure.
func TestClearUploadCutOffIsTheClients(t *testing.T) {
	ts := startServer(t, func(c *config.Config) {
		c.DataTimeout = config.Duration{Duration: time.Second}
	})
	ts.addUser(t, "plain", func(u *users.User) { u.AllowCleartext = true })
	cases := map[string]func(dc *net.TCPConn){
		"reset": func(dc *net.TCPConn) {
			dc.SetLinger(0)
			dc.Close()
		},
		"stall": func(dc *net.TCPConn) {
			time.Sleep(2500 * time.Millisecond) // past data-timeout, still open
			dc.Close()
		},
	}
	for name, cut := range cases {
		t.Run(name, func(t *testing.T) {
			rc := ts.raw(t)
			rc.cmd(331, "USER plain")
			rc.cmd(230, "PASS %s", testPassword)
			rc.cmd(200, "TYPE I") // binary: the upload is spliced
			addr := rc.epsv()
			target := "cut-" + name + ".bin"
			rc.send("STOR %s", target)
			dc, err := dialData(t, addr, "", nil)
			if err != nil {
				t.Fatal(err)
			}
			rc.expect(150)
			if _, err := dc.Write(bytes.Repeat([]byte("c"), 1<<20)); err != nil {
				t.Fatal(err)
			}
			time.Sleep(100 * time.Millisecond) // the server is in the middle of it
			cut(dc.(*net.TCPConn))
			rep := rc.read()
			if rep.Code != 426 {
				t.Errorf("upload cut off by the client (%s): %d %q, want 426", name, rep.Code, rep.Message())
			}
			if !strings.Contains(rep.Message(), "Nothing was stored") {
				t.Errorf("reply %q does not say that nothing was stored", rep.Message())
			}
			if _, err := os.Stat(filepath.Join(ts.home("plain"), target)); err == nil {
				t.Errorf("%s stands after the upload was cut off", target)
			}
		})
	}
	if logs := ts.logs.String(); strings.Contains(logs, "code=451") {
		t.Errorf("a cut-off upload was logged as a local error:\n%s", logs)
	}
}
