package faults

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// log-file gets JSON lines, xferlog-file one xferlog line per transfer with
// the client's file name escaped, neither a password; SIGUSR1 reopens both
// after logrotate moved them away.
func TestLogFilesAndSIGUSR1(t *testing.T) {
	data, logs := t.TempDir(), t.TempDir()
	logFile, xferFile := filepath.Join(logs, "port21.log"), filepath.Join(logs, "xferlog")
	srv, password := start(t, data, "--log-file", logFile, "--xferlog-file", xferFile)
	c := srv.dial(t, password)
	if err := c.Stor("my file\u202e.txt", strings.NewReader("hello")); err != nil {
		t.Fatal(err)
	}
	waitFile(t, xferFile, "ftp 0 * c")
	x, _ := os.ReadFile(xferFile)
	f := strings.Fields(string(x))
	if len(f) != 18 || f[7] != "5" || f[8] != `/my_file\u202e.txt` || f[9] != "b" || f[11] != "i" || f[12] != "r" || f[13] != "port21" {
		t.Errorf("xferlog line %q", x)
	}

	os.Rename(logFile, logFile+".1")
	os.Rename(xferFile, xferFile+".1")
	srv.signal(t, syscall.SIGUSR1)
	waitFile(t, logFile, "log files reopened")
	r, err := c.Retr("my file\u202e.txt")
	if err != nil {
		t.Fatal(err)
	}
	io.ReadAll(r)
	r.Close()
	waitFile(t, xferFile, " o r port21 ftp 0 * ")

	for _, name := range []string{logFile, logFile + ".1", xferFile, xferFile + ".1"} {
		b, _ := os.ReadFile(name)
		if bytes.Contains(b, []byte(password)) {
			t.Errorf("%s holds the password", name)
		}
	}
	for _, name := range []string{logFile, logFile + ".1"} {
		b, _ := os.ReadFile(name)
		for _, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
			if !json.Valid(line) {
				t.Errorf("%s: not a JSON line: %q", name, line)
			}
		}
	}
	if b, _ := os.ReadFile(logFile + ".1"); !bytes.Contains(b, []byte(`"msg":"transfer"`)) {
		t.Errorf("rotated log has no transfer:\n%s", b)
	}
}

func waitFile(t *testing.T, name, want string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if b, _ := os.ReadFile(name); strings.Contains(string(b), want) {
			return
		}
	}
	b, _ := os.ReadFile(name)
	t.Fatalf("%s never held %q:\n%s", name, want, b)
}
