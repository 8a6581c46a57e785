package faults

import (
	"os/exec"
	"strings"
	"testing"
)

// TestCLIChangesReachLiveSessionsAtOnce: `port21 user mod` and `passwd`,
// run as another process while a session of `port21 serve` is logged in,
// apply to that session's very next command, not at a later poll: the
// server reads the account before every command, and whatever it keeps
// between reads must notice a commit made by another process. Each change
// is followed at once by the command it must stop.
func TestCLIChangesReachLiveSessionsAtOnce(t *testing.T) {
	data := t.TempDir()
	srv, password := start(t, data)
	bin, err := binary()
	if err != nil {
		t.Fatal(err)
	}
	cli := func(stdin string, args ...string) {
		t.Helper()
		cmd := exec.Command(bin, append([]string{"user"}, append(args, "--data-dir", data)...)...)
		cmd.Stdin = strings.NewReader(stdin)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("port21 user %v: %v\n%s", args, err, out)
		}
	}
	c := srv.dial(t, password)
	for range 5 { // commands the server may answer from what it kept
		if _, err := c.CurrentDir(); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Stor("before.txt", strings.NewReader("x")); err != nil {
		t.Fatal(err)
	}
	cli("", "mod", "port21", "--read-only")
	if err := c.Stor("after.txt", strings.NewReader("x")); err == nil || !strings.HasPrefix(err.Error(), "550") {
		t.Errorf("STOR right after `user mod --read-only`: %v, want 550", err)
	}
	cli("", "mod", "port21", "--read-only=false")
	if err := c.Stor("again.txt", strings.NewReader("x")); err != nil {
		t.Errorf("STOR right after `user mod --read-only=false`: %v", err)
	}
	cli("a new password for port21\n", "passwd", "port21", "--password-stdin")
	if _, err := c.CurrentDir(); err == nil || !strings.HasPrefix(err.Error(), "421") {
		t.Errorf("PWD right after `user passwd`: %v, want 421 (the session ends)", err)
	}
}
