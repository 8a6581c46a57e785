package faults

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jlaffaye/ftp"
)

// mountTmpfs mounts a tmpfs of the given size (such as "2m") on a fresh
// directory and unmounts it at the end of the test; it skips the test
// where mounting is not possible.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "port21-full", mnt).CombinedOutput(); err != nil {
		t.Skipf("mount tmpfs: %v %s", err, out)
	}
	// Registered after TempDir's clean-up, so it runs before it.
	t.Cleanup(func() { exec.Command("umount", "-l", mnt).Run() })
	return mnt
}

var fullReplyRE = regexp.MustCompile(`(^|\n)(452|552) `)

// checkFull checks that err is a full-disk refusal (the client may also
// report the data connection the server closed; the reply is what counts)
// and that it says what happened.
func checkFull(t *testing.T, what string, err error) {
	t.Helper()
	switch {
	case err == nil:
		t.Errorf("%s on a full disk succeeded", what)
	case !fullReplyRE.MatchString(err.Error()):
		t.Errorf("%s on a full disk: %q, want 452 or 552", what, err)
	case !strings.Contains(err.Error(), "storage") || !strings.Contains(err.Error(), "Nothing was stored"):
		t.Errorf("%s on a full disk: %q does not say that space ran out and nothing was stored", what, err)
	}
}

// TestFullDiskEveryWay: two accounts have their homes on a 2 MiB tmpfs. An
// upload too large for it fails with 452 or 552 and a clear message over
// FTPS and in clear (where the kernel splices the socket into the file), so
// does an APPE that would overflow an existing file (which stays whole), an
// APPE or REST+STOR whose copy of the old file is what does not fit,
// and so does even a small upload once the disk is full to the last block.
// Nothing partial and no temporary file is left; the sessions go on, and
// once space is freed the next upload works. SIGHUP arrives every 5 to 55
// milliseconds throughout, never ends the server, and a reload still works
// after the barrage.
func TestFullDiskEveryWay(t *testing.T) {
	mnt := mountTmpfs(t, "2m")
	data := t.TempDir()
	const (
		alicePassword = "a long password for alice"
		plainPassword = "a long password for plain"
	)
	addUser(t, data, "alice", alicePassword, "--home", filepath.Join(mnt, "alice"))
	addUser(t, data, "plain", plainPassword, "--home", filepath.Join(mnt, "plain"), "--allow-cleartext")
	srv, _ := start(t, data)

	hups := make(chan struct{})
	var sent atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-hups:
				return
			case <-time.After(time.Duration(5+rand.IntN(50)) * time.Millisecond):
				srv.cmd.Process.Signal(syscall.SIGHUP)
				sent.Add(1)
			}
		}
	}()
	stopHUPs := func() { close(hups); wg.Wait() }
	defer func() {
		select {
		case <-hups:
		default:
			stopHUPs()
		}
	}()

	alice := dialUser(t, srv.addr, "alice", alicePassword)
	c, err := ftp.Dial(srv.addr, ftp.DialWithTimeout(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Quit()
	if err := c.Login("plain", plainPassword); err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte("x"), 4<<20)
	old := bytes.Repeat([]byte("o"), 512<<10)

	checkFull(t, "STOR over FTPS", alice.Stor("big.bin", bytes.NewReader(big)))
	checkFull(t, "STOR in clear", c.Stor("big.bin", bytes.NewReader(big)))
	if err := alice.Stor("old.bin", bytes.NewReader(old)); err != nil {
		t.Fatal(err)
	}
	checkFull(t, "APPE", alice.Append("old.bin", bytes.NewReader(big)))
	if b, err := os.ReadFile(filepath.Join(mnt, "alice", "old.bin")); !bytes.Equal(b, old) {
		t.Errorf("old.bin after an APPE that overflowed: %d bytes (%v), want its %d", len(b), err, len(old))
	}

	// A resume of a file larger than the space left: the copy of the old
	// part (made when the first new byte arrives) is what runs out.
	os.Remove(filepath.Join(mnt, "alice", "old.bin"))
	large := bytes.Repeat([]byte("L"), 1200<<10)
	if err := alice.Stor("large.bin", bytes.NewReader(large)); err != nil {
		t.Fatal(err)
	}
	checkFull(t, "APPE whose copy of the old file does not fit", alice.Append("large.bin", strings.NewReader("more")))
	checkFull(t, "REST+STOR whose copy of the old file does not fit", alice.StorFrom("large.bin", strings.NewReader("more"), 1100<<10))
	if b, err := os.ReadFile(filepath.Join(mnt, "alice", "large.bin")); !bytes.Equal(b, large) {
		t.Errorf("large.bin after resumes that did not fit: %d bytes (%v), want its %d", len(b), err, len(large))
	}
	os.Remove(filepath.Join(mnt, "alice", "large.bin"))
	if err := alice.Stor("old.bin", bytes.NewReader(old)); err != nil {
		t.Fatal(err)
	}

	// Fill the disk to the last block from outside.
	filler := filepath.Join(mnt, "filler")
	fillDisk(t, filler)
	checkFull(t, "a small STOR on a disk with no block left", alice.Stor("small.txt", bytes.NewReader(bytes.Repeat([]byte("s"), 64<<10))))
	checkFull(t, "a small STOR in clear on a disk with no block left", c.Stor("small.txt", bytes.NewReader(bytes.Repeat([]byte("s"), 64<<10))))
	os.Remove(filler)

	for _, user := range []string{"alice", "plain"} {
		entries, _ := os.ReadDir(filepath.Join(mnt, user))
		for _, e := range entries {
			if e.Name() != "old.bin" {
				t.Errorf("left on the full disk: %s/%s", user, e.Name())
			}
		}
	}
	if err := alice.Stor("small.txt", strings.NewReader("still serving")); err != nil {
		t.Errorf("FTPS upload after the disk was freed: %v", err)
	}
	if err := c.Stor("small.txt", strings.NewReader("still serving")); err != nil {
		t.Errorf("plain upload after the disk was freed: %v", err)
	}
	for _, user := range []string{"alice", "plain"} {
		if b, _ := os.ReadFile(filepath.Join(mnt, user, "small.txt")); string(b) != "still serving" {
			t.Errorf("%s/small.txt holds %q", user, b)
		}
	}
	stopHUPs()
	time.Sleep(100 * time.Millisecond)
	// Still alive, and still taking new sessions.
	if err := srv.cmd.Process.Signal(syscall.Signal(0)); err != nil {
		t.Fatalf("the server is gone: %v\n%s", err, srv.logText())
	}
	dialUser(t, srv.addr, "alice", alicePassword)
	// Signals that arrive during a reload coalesce, and the transfers take
	// well under a second, so only "some" reloads is certain; what matters
	// is that the server still reloads after the barrage.
	reloads := strings.Count(srv.logText(), "reloaded")
	if reloads == 0 {
		t.Errorf("%d SIGHUPs sent, no reload logged", sent.Load())
	}
	srv.cmd.Process.Signal(syscall.SIGHUP)
	for deadline := time.Now().Add(10 * time.Second); strings.Count(srv.logText(), "reloaded") == reloads; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no reload after the barrage of SIGHUPs:\n%s", srv.logText())
		}
	}
}

// fillDisk writes path until the file system it is on has no block left.
func fillDisk(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	block := make([]byte, 4096)
	for {
		if _, err := f.Write(block); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			return
		}
	}
}
