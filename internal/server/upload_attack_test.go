package server

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// tempUploadBytes sums the sizes of the hidden upload files under dir.
func tempUploadBytes(t *testing.T, dir string) (n int64, count int) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || !strings.HasPrefix(d.Name(), ".port21-upload-") {
			return err
		}
		fi, err := d.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil // removed by its session meanwhile
		}
		if err != nil {
			return err
		}
		n += fi.Size()
		count++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n, count
}

// Issue 7: ten sessions that start APPE (or REST+STOR) on a big file and
// send nothing used to make ten full copies of it before the first byte.
func TestIdleResumedUploadsCostNoDisk(t *testing.T) {
	ts := startServer(t)
	ts.addUser(t, "alice", nil)
	big := make([]byte, 4<<20)
	rand.Read(big)
	writeFile(t, filepath.Join(ts.home("alice"), "big"), big)

	const sessions = 10
	type pending struct {
		rc *rawClient
		dc interface {
			Write([]byte) (int, error)
			Close() error
		}
	}
	var ps []pending
	for i := range sessions {
		rc := ts.raw(t)
		rc.login("alice", clientTLS())
		rc.cmd(200, "TYPE I")
		addr := rc.epsv()
		if i%2 == 0 {
			rc.send("APPE big")
		} else {
			rc.cmd(350, "REST %d", len(big)/2)
			rc.send("STOR big")
		}
		dc, err := dialData(t, addr, "", rc.tls)
		if err != nil {
			t.Fatal(err)
		}
		rc.expect(150)
		ps = append(ps, pending{rc, dc})
	}
	size, count := tempUploadBytes(t, ts.home("alice"))
	if count != sessions {
		t.Errorf("%d temporary files, want %d", count, sessions)
	}
	if size != 0 {
		t.Errorf("idle resumed uploads hold %d bytes of temporary files, want 0 (old code: %d)", size, sessions*len(big)*3/4)
	}

	// The first APPE sends data: the copy is made then, and the result is
	// the old file plus the new bytes.
	ps[0].dc.Write([]byte("tail"))
	ps[0].dc.Close()
	ps[0].rc.expect(226)
	got, err := os.ReadFile(filepath.Join(ts.home("alice"), "big"))
	if err != nil {
		t.Fatal(err)
	}
	want := append(bytes.Clone(big), "tail"...)
	if !bytes.Equal(got, want) {
		t.Fatalf("after APPE: %d bytes, want %d", len(got), len(want))
	}
	// A REST+STOR that sends nothing still truncates to the offset, as it
	// always did; the copy is made at commit.
	ps[1].dc.Close()
	ps[1].rc.expect(226)
	got, _ = os.ReadFile(filepath.Join(ts.home("alice"), "big"))
	if !bytes.Equal(got, big[:len(big)/2]) {
		t.Fatalf("after empty REST+STOR: %d bytes, want %d", len(got), len(big)/2)
	}
	// The rest are dropped without a byte: nothing is left behind.
	for _, p := range ps[2:] {
		p.rc.conn.Close()
		p.dc.Close()
	}
	waitNoTemp(t, ts.home("alice"))
}

// waitNoTemp waits for the sessions to clean up their temporary files.
func waitNoTemp(t *testing.T, dir string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, count := tempUploadBytes(t, dir)
		if count == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d temporary upload files left behind", count)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
