package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/port21/port21/internal/config"
	"github.com/port21/port21/internal/users"
)

func runRoot(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newRootCmd()
	cmd.SetArgs(args)
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.ExecuteContext(context.Background())
	return out.String(), err
}

// port21 ban add, list --json and del work on the store (a running server
// picks the changes up: see the server's TestBanSurvivesRestartAndBanDel).
func TestBanCommands(t *testing.T) {
	dd := "--data-dir=" + t.TempDir()
	if out, err := runRoot(t, "ban", "add", "203.0.113.7", "--for", "1h", "--reason", "test", dd); err != nil || !strings.Contains(out, "203.0.113.7/32") {
		t.Fatalf("ban add: %v %s", err, out)
	}
	if _, err := runRoot(t, "ban", "add", "2001:db8:1:2::5", dd); err != nil {
		t.Fatal(err)
	}
	out, err := runRoot(t, "ban", "list", "--json", dd)
	if err != nil {
		t.Fatal(err)
	}
	var list []map[string]any
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(list) != 2 || list[0]["prefix"] != "2001:db8:1:2::/64" || list[1]["prefix"] != "203.0.113.7/32" || list[1]["reason"] != "test" {
		t.Fatalf("ban list --json = %v", list)
	}
	if _, err := runRoot(t, "ban", "del", "2001:db8:1:2::77", dd); err != nil {
		t.Fatalf("ban del of an address in a banned /64: %v", err)
	}
	if _, err := runRoot(t, "ban", "del", "203.0.113.7", dd); err != nil {
		t.Fatal(err)
	}
	if _, err := runRoot(t, "ban", "del", "203.0.113.7", dd); err == nil || !strings.Contains(err.Error(), "not banned") {
		t.Fatalf("second del: %v", err)
	}
	if out, _ := runRoot(t, "ban", "list", "--json", dd); strings.TrimSpace(out) != "[]" {
		t.Fatalf("after del: %s", out)
	}
	if _, err := runRoot(t, "ban", "add", "nonsense", dd); err == nil {
		t.Fatal("ban add nonsense succeeded")
	}
}

// lockedBuffer is a bytes.Buffer safe for the server's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Issue 8: port21 scan's safe probes (connections, an anonymous login
// attempt) against a server without anonymous access do not get the
// scanner banned, even after a few scans; the default threshold stays.
func TestScanDoesNotGetScannerBanned(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	addr := startServe(t, dir, nil)
	_, port, _ := net.SplitHostPort(addr)
	for i := range 3 {
		if out, err := runRoot(t, "scan", "127.0.0.1", "--ports", port); err != nil && !strings.Contains(out, "finding") {
			t.Fatalf("scan %d: %v\n%s", i, err, out)
		}
	}
	store, err := users.OpenStore(ctx, filepath.Join(dir, "users.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if bans, _ := store.Bans(ctx); len(bans) != 0 {
		t.Fatalf("three scans got the scanner banned: %+v", bans)
	}
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if b, _ := io.ReadAll(io.LimitReader(c, 3)); string(b) != "220" {
		t.Fatalf("after three scans the scanner gets %q", b)
	}
}

// startServe runs `port21 serve` in-process on a loopback port until the
// test ends and returns its address.
func startServe(t *testing.T, dir string, mod func(*config.Config)) string {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir, cfg.Listen = dir, "127.0.0.1:0"
	if mod != nil {
		mod(&cfg)
	}
	v, err := cfg.Validate()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr lockedBuffer
	done := make(chan error, 1)
	go func() { done <- serve(ctx, v, runtimeOps{}, &stdout, &stderr) }()
	t.Cleanup(func() { cancel(); <-done })
	re := regexp.MustCompile(`listening on (127\.0\.0\.1:\d+)`)
	for end := time.Now().Add(20 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if m := re.FindStringSubmatch(stdout.String()); m != nil {
			return m[1]
		}
	}
	t.Fatalf("server did not start: %s", stderr.String())
	return ""
}

// Issue 8: with anonymous-root, port21 scan --intrusive finds
// anonymous-login and nothing worse (no anonymous-write), and the server
// warns at start.
func TestScanOfAnonymousRootFindsOnlyAnonymousLogin(t *testing.T) {
	pub := t.TempDir()
	os.WriteFile(filepath.Join(pub, "readme.txt"), []byte("public"), 0o644)
	addr := startServe(t, t.TempDir(), func(c *config.Config) { c.AnonymousRoot = pub })
	_, port, _ := net.SplitHostPort(addr)
	out, _ := runRoot(t, "scan", "127.0.0.1", "--ports", port, "--intrusive", "--format", "json")
	var rep struct {
		Results []struct {
			Findings []struct {
				ID string `json:"id"`
			} `json:"findings"`
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(out[strings.Index(out, "{"):]), &rep); err != nil || len(rep.Results) != 1 {
		t.Fatalf("scan: %v\n%s", err, out)
	}
	var ids []string
	for _, f := range rep.Results[0].Findings {
		ids = append(ids, f.ID)
	}
	got := strings.Join(ids, ",")
	if !strings.Contains(got, "anonymous-login") || strings.Contains(got, "anonymous-write") {
		t.Fatalf("findings %s, want anonymous-login and no anonymous-write", got)
	}
	if entries, _ := os.ReadDir(pub); len(entries) != 1 {
		t.Fatalf("the intrusive scan changed the anonymous root: %d entries", len(entries))
	}
}
