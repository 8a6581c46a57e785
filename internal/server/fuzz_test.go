package server

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/port21/port21/internal/config"
	"github.com/port21/port21/internal/users"
)

// FuzzSession sends arbitrary command lines from a logged-in client: the
// server must neither crash nor hang, must still answer the next client,
// and nothing may appear outside the user's home.
func FuzzSession(f *testing.F) {
	for _, seed := range []string{
		"CWD ../../..\nMKD x\nRNFR x\nRNTO ../../y\n",
		"REST 99999999999\nRETR a\nSTOR b\n",
		"PORT 127,0,0,1,0,21\nEPRT |2|::1|80|\nPASV\nLIST -la ..\n",
		"OPTS MLST type;size;;;\nMLST /\nMLSD ../\nSTAT /..\n",
		"MFMT 99999999999999 a\nHASH /dev/null\nSITE CHMOD 777 /\n",
		"RNTO x\nDELE /\nRMD /\nAPPE \x00\nSTOU ../../z\n",
		"TYPE A\nABOR\nQUIT\n",
	} {
		f.Add([]byte(seed))
	}
	ts := startServer(f, func(c *config.Config) { c.MaxLoginFailures = 0; c.MaxClientsPerIP = 512; c.MaxClients = 512 })
	ts.addUser(f, "fuzz", func(u *users.User) { u.AllowCleartext = true })
	outside := filepath.Dir(ts.home("fuzz"))
	writeFile(f, filepath.Join(ts.home("fuzz"), "a"), []byte("aaaa"))
	f.Fuzz(func(t *testing.T, script []byte) {
		c, err := net.Dial("tcp", ts.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(3 * time.Second))
		fmt.Fprintf(c, "USER fuzz\r\nPASS %s\r\n", testPassword)
		lines := bytes.Split(script, []byte("\n"))
		if len(lines) > 40 {
			lines = lines[:40]
		}
		for _, l := range lines {
			c.Write(append(bytes.TrimRight(l, "\r"), '\r', '\n'))
		}
		c.Write([]byte("QUIT\r\n"))
		buf := make([]byte, 64<<10)
		for {
			if _, err := c.Read(buf); err != nil {
				break
			}
		}
		// Only the home and the server's own files may exist beside it.
		entries, _ := os.ReadDir(outside)
		for _, e := range entries {
			if e.Name() != "fuzz" {
				t.Fatalf("%s appeared outside the home", e.Name())
			}
		}
		// The server still serves.
		probe, err := net.DialTimeout("tcp", ts.addr, time.Second)
		if err != nil {
			t.Fatalf("server gone: %v", err)
		}
		probe.SetDeadline(time.Now().Add(2 * time.Second))
		if n, _ := probe.Read(buf); n < 3 || string(buf[:3]) != "220" {
			t.Fatalf("server did not greet: %q", buf[:n])
		}
		probe.Close()
	})
}
