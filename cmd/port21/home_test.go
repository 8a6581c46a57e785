package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Issue 7: --home accepted the data directory itself (exposing users.db
// and tls/key.pem to the account), "/", and places inside the data
// directory, and silently created missing parents.
func TestUserHomeRefusesUnsafePlaces(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "data")
	dd := "--data-dir=" + dir
	mustRun(t, "", "add", "owner", dd) // creates the data directory and users.db
	mustRun(t, "", "add", "bob", dd)
	link := filepath.Join(base, "link")
	if err := os.Symlink(dir, link); err != nil {
		t.Fatal(err)
	}
	refused := map[string]string{
		"the data directory":              dir,
		"the data directory, respelled":   filepath.Join(dir, "x", "..") + "/",
		"the data directory through link": link,
		"the root":                        "/",
		"a parent of the data directory":  base,
		"the TLS directory":               filepath.Join(dir, "tls"),
		"all default homes":               filepath.Join(dir, "home"),
		"another user's default home":     filepath.Join(dir, "home", "owner"),
		"inside another's, through link":  filepath.Join(link, "home", "owner", "sub"),
	}
	for _, home := range refused {
		wantErr(t, "unsafe home directory", "", "add", "mallory", dd, "--home", home)
		wantErr(t, "unsafe home directory", "", "mod", "bob", dd, "--home", home)
	}
	if out, _, _ := runUser(t, "", "list", dd); strings.Contains(out, "mallory") {
		t.Errorf("a refused user was added:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(dir, "x")); err == nil {
		t.Error("a refused home was created")
	}

	// A missing parent is refused, not created.
	wantErr(t, "does not exist", "", "add", "carol", dd, "--home", filepath.Join(base, "no", "such", "carol"))
	if _, err := os.Stat(filepath.Join(base, "no")); err == nil {
		t.Error("missing parents were created")
	}
	// The last element is created, and the output says so.
	out := mustRun(t, "", "add", "carol", dd, "--home", filepath.Join(base, "carol"))
	if !strings.Contains(out, "created home directory "+filepath.Join(base, "carol")) {
		t.Errorf("add output does not say the home was created:\n%s", out)
	}
	// An existing home is used as is, with no "created".
	if out := mustRun(t, "", "add", "dave", dd, "--home", filepath.Join(base, "carol")); strings.Contains(out, "created") {
		t.Errorf("add claims to have created an existing home:\n%s", out)
	}
	// The account's own default home (or below) is allowed as a custom home.
	own := filepath.Join(dir, "home", "erin", "ftp")
	if err := os.MkdirAll(filepath.Dir(own), 0o750); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "", "add", "erin", dd, "--home", own)
}
