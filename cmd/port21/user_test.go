package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/port21/port21/internal/users"
)

// runUser runs `port21 user ARGS...` in-process with a fresh command tree.
func runUser(t *testing.T, stdin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	cmd := newUserCmd()
	cmd.SetArgs(args)
	cmd.SetIn(strings.NewReader(stdin))
	var out, errb bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errb)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err = cmd.ExecuteContext(context.Background())
	return out.String(), errb.String(), err
}

func mustRun(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	out, errOut, err := runUser(t, stdin, args...)
	if err != nil {
		t.Fatalf("user %v: %v\nstderr: %s", args, err, errOut)
	}
	return out
}

func wantErr(t *testing.T, want string, stdin string, args ...string) {
	t.Helper()
	_, _, err := runUser(t, stdin, args...)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("user %v: error = %v, want one containing %q", args, err, want)
	}
}

// checkLogin verifies name's password directly against the store.
func checkLogin(t *testing.T, dataDir, name, password string) users.User {
	t.Helper()
	ctx := context.Background()
	s, err := users.OpenStore(ctx, filepath.Join(dataDir, "users.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	u, err := s.Get(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	ok, _, err := users.NewHasher(1).Verify(ctx, u.Hash, password)
	if err != nil || !ok {
		t.Errorf("password %q for %s: ok=%v err=%v", password, name, ok, err)
	}
	return u
}

var passwordLine = regexp.MustCompile(`(?m)^password: (\S+)$`)

func TestUserCommands(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	dd := "--data-dir=" + dir

	// add with a generated password.
	out := mustRun(t, "", "add", "bob", dd)
	m := passwordLine.FindStringSubmatch(out)
	if m == nil || !strings.Contains(out, "shown only once") {
		t.Fatalf("add output has no password and note:\n%s", out)
	}
	checkLogin(t, dir, "bob", m[1])
	for path, want := range map[string]os.FileMode{
		dir:                               0o700,
		filepath.Join(dir, "users.db"):    0o600,
		filepath.Join(dir, "home"):        0o750,
		filepath.Join(dir, "home", "bob"): 0o750,
	} {
		// The umask may clear bits; nothing may add any.
		fi, err := os.Stat(path)
		if err != nil {
			t.Errorf("stat: %v", err)
		} else if got := fi.Mode().Perm(); got&^want != 0 {
			t.Errorf("%s mode %v, want at most %v", path, got, want)
		}
	}

	wantErr(t, `user add: user "bob" already exists`, "", "add", "bob", dd)
	wantErr(t, `--allow: "10.0.0.300/8" is not a CIDR or IP address`, "", "add", "eve", dd, "--allow", "10.0.0.300/8")
	wantErr(t, `--home: "rel/dir" is not an absolute path`, "", "add", "eve", dd, "--home", "rel/dir")
	wantErr(t, `invalid user name`, "", "add", dd, "--", "-eve")
	wantErr(t, `invalid user name`, "", "add", "../eve", dd)
	wantErr(t, `--password-stdin: invalid password: empty`, "\n", "add", "eve", dd, "--password-stdin")
	wantErr(t, `--password-stdin: invalid password: no input`, "", "add", "eve", dd, "--password-stdin")
	wantErr(t, `longer than 1024 bytes`, strings.Repeat("x", 1025)+"\n", "add", "eve", dd, "--password-stdin")
	wantErr(t, `--hash: invalid password hash`, "", "add", "eve", dd, "--hash", "plaintext")
	wantErr(t, `--hash`, "", "add", "eve", dd, "--hash", "$1$saltsalt$2vnaRpHa6Jxjz5n83ok8Z0")
	if _, err := os.Stat(filepath.Join(dir, "home", "eve")); !os.IsNotExist(err) {
		t.Errorf("failed adds created a home for eve (%v)", err)
	}

	// add with a password on stdin (one line, CRLF stripped, rest ignored).
	home := filepath.Join(t.TempDir(), "alice home")
	out = mustRun(t, "s3cret pass\r\nsecond line\n", "add", "alice", dd, "--password-stdin", "--home", home,
		"--read-only", "--allow", "192.0.2.7/24", "--allow", "2001:db8::1,192.0.2.0/24", "--tls-reuse-optional")
	if passwordLine.MatchString(out) {
		t.Errorf("add --password-stdin printed a password:\n%s", out)
	}
	u := checkLogin(t, dir, "alice", "s3cret pass")
	if u.Home != home || !u.ReadOnly || !u.TLSReuseOptional || u.AllowCleartext ||
		len(u.Allow) != 2 || u.Allow[0].String() != "192.0.2.0/24" || u.Allow[1].String() != "2001:db8::1/128" {
		t.Errorf("alice = %+v", u)
	}
	if fi, err := os.Stat(home); err != nil || !fi.IsDir() {
		t.Errorf("home %s not created: %v", home, err)
	}

	// add with an imported hash (sha512-crypt of "secret").
	mustRun(t, "", "add", "carol", dd, "--allow-cleartext", "--hash",
		"$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1")
	checkLogin(t, dir, "carol", "secret")

	// passwd via stdin, and generated.
	mustRun(t, "new password\n", "passwd", "bob", dd, "--password-stdin")
	checkLogin(t, dir, "bob", "new password")
	out = mustRun(t, "", "passwd", "bob", dd)
	if m = passwordLine.FindStringSubmatch(out); m == nil {
		t.Fatalf("passwd output has no password:\n%s", out)
	}
	checkLogin(t, dir, "bob", m[1])
	wantErr(t, `user passwd: no user "nobody"`, "x\n", "passwd", "nobody", dd, "--password-stdin")

	// mod changes only what is given.
	mustRun(t, "", "mod", "alice", dd, "--read-only=false", "--allow", "198.51.100.1")
	u = checkLogin(t, dir, "alice", "s3cret pass")
	if u.ReadOnly || !u.TLSReuseOptional || u.Home != home || len(u.Allow) != 3 {
		t.Errorf("after mod, alice = %+v", u)
	}
	mustRun(t, "", "mod", "alice", dd, "--clear-allow", "--allow", "10.0.0.0/8", "--allow-cleartext", "--tls-reuse-optional=false", "--home", "")
	u = checkLogin(t, dir, "alice", "s3cret pass")
	if !u.AllowCleartext || u.TLSReuseOptional || u.Home != "" || len(u.Allow) != 1 || u.Allow[0].String() != "10.0.0.0/8" {
		t.Errorf("after second mod, alice = %+v", u)
	}
	wantErr(t, "nothing to change", "", "mod", "alice", dd)
	wantErr(t, `user mod: no user "nobody"`, "", "mod", "nobody", dd, "--read-only")
	wantErr(t, `--home: "x" is not an absolute path`, "", "mod", "alice", dd, "--home", "x")

	// list --json: lower-case keys, never the hash.
	out = mustRun(t, "", "list", dd, "--json")
	var list []map[string]any
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("list --json: %v\n%s", err, out)
	}
	if len(list) != 3 || list[0]["name"] != "alice" || list[1]["name"] != "bob" || list[2]["name"] != "carol" {
		t.Fatalf("list --json = %v", list)
	}
	wantKeys := []string{"allow", "allow_cleartext", "created", "home", "name", "read_only", "tls_reuse_optional", "updated",
		"perms", "disabled", "quota_bytes", "quota_files", "rate_up", "rate_down", "max_sessions"}
	for _, obj := range list {
		if len(obj) != len(wantKeys) { // expires only when set
			t.Errorf("object has keys %v, want %v", obj, wantKeys)
		}
		for _, k := range wantKeys {
			if _, ok := obj[k]; !ok {
				t.Errorf("object %v lacks %q", obj, k)
			}
		}
	}
	if list[1]["home"] != filepath.Join(dir, "home", "bob") {
		t.Errorf("bob's home = %v", list[1]["home"])
	}
	if strings.Contains(out, "$argon2id$") || strings.Contains(out, "$6$") {
		t.Errorf("list --json shows a hash:\n%s", out)
	}
	out = mustRun(t, "", "list", dd)
	if !strings.HasPrefix(out, "NAME ") || !strings.Contains(out, "TLS-REUSE") || strings.Count(out, "\n") != 4 ||
		strings.Contains(out, "$") {
		t.Errorf("list table:\n%s", out)
	}
	if !regexp.MustCompile(`(?m)^carol .* loopback `).MatchString(out) {
		t.Errorf("list does not show carol's loopback-only cleartext:\n%s", out)
	}

	// del keeps the home.
	out = mustRun(t, "", "del", "bob", dd)
	if !strings.Contains(out, "left in place") {
		t.Errorf("del output: %s", out)
	}
	if _, err := os.Stat(filepath.Join(dir, "home", "bob")); err != nil {
		t.Errorf("del removed the home: %v", err)
	}
	wantErr(t, `user del: no user "bob"`, "", "del", "bob", dd)
	out = mustRun(t, "", "list", dd, "--json")
	if err := json.Unmarshal([]byte(out), &list); err != nil || len(list) != 2 {
		t.Errorf("after del, list = %v (%v)", list, err)
	}
}

func TestUserListEmpty(t *testing.T) {
	dd := "--data-dir=" + filepath.Join(t.TempDir(), "new")
	if out := mustRun(t, "", "list", dd, "--json"); strings.TrimSpace(out) != "[]" {
		t.Errorf("list --json of no users = %q, want []", out)
	}
}

func TestUserImportShadow(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	dd := "--data-dir=" + dir
	const sha = "$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1"
	shadow := strings.Join([]string{
		"root:" + sha + ":19000:0:99999:7:::",
		"daemon:*:19000:0:99999:7:::",
		"alice:" + sha + ":19000:0:99999:7:::",
		"bob:$y$j9T$3R1jAjTmV5RHHxt9VTGHh.$zh9hanHOlhU62IkGud5Qde/NtjwQb1ZAwUF.uYqqfY2:19000:0:99999:7:::",
		"old:$1$saltsalt$2vnaRpHa6Jxjz5n83ok8Z0:19000::::::",
	}, "\n") + "\n"
	file := filepath.Join(t.TempDir(), "shadow")
	if err := os.WriteFile(file, []byte(shadow), 0o600); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "x\n", "add", "alice", dd, "--password-stdin")

	out := mustRun(t, "", "import-shadow", file, dd)
	for _, want := range []string{`imported user "bob"`, `(\"root\"): root is imported only`, `("daemon"): invalid password hash: account is locked`,
		`("alice"): user already exists`, `("old"): invalid password hash: md5-crypt`, "imported 1 users, skipped 4"} {
		if !strings.Contains(out, strings.ReplaceAll(want, `\"`, `"`)) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "$6$") || strings.Contains(out, "$y$") {
		t.Errorf("output shows a hash:\n%s", out)
	}
	checkLogin(t, dir, "bob", "correct horse")
	checkLogin(t, dir, "alice", "x") // not overwritten

	base := t.TempDir()
	out = mustRun(t, shadow, "import-shadow", "-", dd, "--user", "root", "--user", "nobody", "--home-base", base)
	if !strings.Contains(out, `imported user "root"`) || !strings.Contains(out, `skipped "nobody": not in -`) ||
		!strings.Contains(out, "imported 1 users, skipped 1") {
		t.Errorf("import --user output:\n%s", out)
	}
	if u := checkLogin(t, dir, "root", "secret"); u.Home != filepath.Join(base, "root") {
		t.Errorf("root's home = %q", u.Home)
	}
	wantErr(t, `--home-base: "rel" is not an absolute path`, "", "import-shadow", file, dd, "--home-base", "rel")
	wantErr(t, "no such file", "", "import-shadow", filepath.Join(base, "missing"), dd)
}

// Issue 8: the access flags reach the store, and bad values name the flag.
func TestUserAccessFlags(t *testing.T) {
	dir := t.TempDir()
	dd := "--data-dir=" + dir
	mustRun(t, "pw\n", "add", "dan", dd, "--password-stdin", "--perms", "list,download,upload", "--expires", "2h",
		"--quota-bytes", "1M", "--quota-files", "10", "--rate-up", "64K", "--rate-down", "1M", "--max-sessions", "2")
	store, err := users.OpenStore(context.Background(), filepath.Join(dir, "users.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	u, err := store.Get(context.Background(), "dan")
	if err != nil {
		t.Fatal(err)
	}
	if u.Perms != users.PermList|users.PermDownload|users.PermUpload || time.Until(u.Expires) < time.Hour ||
		u.QuotaBytes != 1<<20 || u.QuotaFiles != 10 || u.RateUp != 64<<10 || u.RateDown != 1<<20 || u.MaxSessions != 2 {
		t.Fatalf("stored %+v", u)
	}
	mustRun(t, "", "mod", "dan", dd, "--no-expires", "--perms", "all")
	mustRun(t, "", "disable", "dan", dd)
	u, _ = store.Get(context.Background(), "dan")
	if !u.Expires.IsZero() || u.Perms != users.PermAll || !u.Disabled {
		t.Fatalf("after mod/disable %+v", u)
	}
	mustRun(t, "", "enable", "dan", dd)
	mustRun(t, "", "mod", "dan", dd, "--expires", "2030-01-02T03:04:05Z")
	u, _ = store.Get(context.Background(), "dan")
	if u.Disabled || !u.Expires.Equal(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)) {
		t.Fatalf("after enable/mod %+v", u)
	}
	wantErr(t, "--perms", "", "mod", "dan", dd, "--perms", "list,chmod")
	wantErr(t, "--expires", "", "mod", "dan", dd, "--expires", "tomorrow")
	wantErr(t, "--quota-bytes", "", "mod", "dan", dd, "--quota-bytes", "lots")
}
