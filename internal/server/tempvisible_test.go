package server

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/port21/port21/internal/config"
)

// TestUploadInProgressInvisible: while an upload runs, its temporary file
// is on disk beside the final name, and no command of another session of
// the same account shows or reaches it: no listing (LIST -a, MLSD, NLST,
// STAT, wildcards naming it), and no command naming it (MLST, SIZE, MDTM,
// HASH, RETR, RNFR, DELE, SITE CHMOD, CWD) succeeds. Once the upload ends
// the file has its final name and nothing else is left.
func TestUploadInProgressInvisible(t *testing.T) {
	ts := startServer(t, func(c *config.Config) {
		c.DataTimeout = config.Duration{Duration: 30 * time.Second} // the upload waits meanwhile
	})
	ts.addUser(t, "alice", nil)
	home := ts.home("alice")
	writeFile(t, filepath.Join(home, "sub", "keep.txt"), []byte("keep"))

	up := ts.raw(t)
	up.login("alice", clientTLS())
	up.cmd(200, "TYPE I")
	addr := up.epsv()
	up.send("STOR sub/live.bin")
	dc, err := dialData(t, addr, "", up.tls)
	if err != nil {
		t.Fatal(err)
	}
	up.expect(150)
	body := bytes.Repeat([]byte("l"), 256<<10)
	dc.Write(body[:128<<10])
	var temp string
	settle(5*time.Second, func() bool {
		entries, _ := os.ReadDir(filepath.Join(home, "sub"))
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), ".port21-upload-") {
				temp = e.Name()
			}
		}
		return temp != ""
	})
	if temp == "" {
		t.Fatal("no temporary file on disk during the upload")
	}

	rc := ts.raw(t)
	rc.login("alice", clientTLS())
	check := func(what, text string) {
		t.Helper()
		if strings.Contains(text, ".port21-upload-") {
			t.Errorf("%s reveals the upload in progress: %q", what, text)
		}
		// The listings of sub do list: the file beside the upload is there.
		if strings.HasSuffix(what, " sub") && !strings.Contains(text, "keep.txt") {
			t.Errorf("%s does not list sub/keep.txt: %q", what, text)
		}
	}
	for _, cmd := range []string{"LIST -a", "LIST -la sub", "MLSD sub", "NLST sub", "NLST -a sub", "NLST sub/.port21*",
		"LIST sub/.p*", "MLSD sub/*", "LIST -a sub/" + temp} {
		var lines []string
		addr := rc.epsv()
		rc.send("%s", cmd)
		dc, err := dialData(t, addr, "", rc.tls)
		if err != nil { // refused before the data connection (no match)
			if rep := rc.read(); rep.Code == 150 {
				t.Fatalf("%s: 150, then the data connection failed: %v", cmd, err)
			} else {
				check(cmd, rep.String())
			}
			continue
		}
		rep := rc.read()
		if rep.Code == 150 {
			buf := new(bytes.Buffer)
			buf.ReadFrom(dc)
			lines = append(lines, buf.String())
			dc.Close() // the server waits for it before 226
			rep = rc.read()
		}
		dc.Close()
		check(cmd, strings.Join(lines, "")+rep.String())
	}
	for _, cmd := range []string{"STAT sub", "STAT -a sub", "STAT sub/" + temp} {
		rc.send("%s", cmd)
		check(cmd, rc.read().String())
	}
	for _, cmd := range []string{"MLST", "SIZE", "MDTM", "HASH", "XMD5", "RNFR", "DELE", "SITE CHMOD 644", "CWD"} {
		rc.send("%s sub/%s", cmd, temp)
		if rep := rc.read(); rep.Code < 400 {
			t.Errorf("%s of the upload in progress: %d %q", cmd, rep.Code, rep.Message())
		}
	}
	rc.epsv()
	rc.send("RETR sub/%s", temp)
	if rep := rc.read(); rep.Code < 400 {
		t.Errorf("RETR of the upload in progress: %d %q", rep.Code, rep.Message())
	}

	dc.Write(body[128<<10:])
	dc.Close()
	up.expect(226)
	if got, err := os.ReadFile(filepath.Join(home, "sub", "live.bin")); err != nil || !bytes.Equal(got, body) {
		t.Errorf("live.bin after the upload: %d bytes (%v), want %d", len(got), err, len(body))
	}
	entries, _ := os.ReadDir(filepath.Join(home, "sub"))
	for _, e := range entries {
		if e.Name() != "keep.txt" && e.Name() != "live.bin" {
			t.Errorf("left beside the upload: %s", e.Name())
		}
	}
}
