package jail

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// Issue 7: a crash mid-upload left hidden temporary files that their owner
// could neither see nor delete. CleanStaleUploads removes exactly those.
func TestCleanStaleUploads(t *testing.T) {
	e := newEnv(t)
	e.mkdir(t, "sub")
	// Real leftovers, as a crashed server leaves them.
	var stale []string
	for _, dir := range []string{"/", "/sub"} {
		u, err := e.j.CreateUpload(dir+"/f", 0, false)
		if err != nil {
			t.Fatal(err)
		}
		u.File().WriteString("half an upload")
		stale = append(stale, filepath.Join(e.home, dir, u.temp))
		// No Commit, no Abort: the process died here.
	}
	for _, p := range stale {
		if _, err := os.Lstat(p); err != nil {
			t.Fatalf("setup: %v", err)
		}
	}
	name := tempPrefix + strings.Repeat("A", tempSuffixLen)
	keep := map[string]string{
		"short":     tempPrefix + "ABC",
		"lowercase": tempPrefix + strings.Repeat("a", tempSuffixLen),
		"longer":    name + "X",
		"user file": "port21-upload-" + strings.Repeat("A", tempSuffixLen),
	}
	for _, n := range keep {
		e.write(t, n, "keep")
	}
	// A directory with the pattern's name is not a temporary file.
	e.mkdir(t, "sub/"+name)
	e.write(t, "sub/"+name+"/inside", "keep")
	// A link with the pattern's name is not followed, nor removed, and a
	// linked directory leading outside is not walked.
	outsideTemp := filepath.Join(e.outside, name)
	if err := os.WriteFile(outsideTemp, []byte("outside"), 0o644); err != nil {
		t.Fatal(err)
	}
	e.symlink(t, outsideTemp, "sub/"+tempPrefix+strings.Repeat("B", tempSuffixLen))
	e.symlink(t, e.outside, "out")
	before := e.snapshot(t)

	n, err := CleanStaleUploads(e.home)
	if err != nil {
		t.Fatal(err)
	}
	if n != len(stale) {
		t.Errorf("removed %d files, want %d", n, len(stale))
	}
	for _, p := range stale {
		if _, err := os.Lstat(p); !os.IsNotExist(err) {
			t.Errorf("%s still there (%v)", p, err)
		}
	}
	for what, n := range keep {
		if got := e.read(t, n); got != "keep" {
			t.Errorf("%s %q was touched", what, n)
		}
	}
	if got := e.homeNames(t, "sub"); !slices.Contains(got, name) || !slices.Contains(got, tempPrefix+strings.Repeat("B", tempSuffixLen)) {
		t.Errorf("sub now holds %q: a directory or link was removed", got)
	}
	if got := e.read(t, "sub/"+name+"/inside"); got != "keep" {
		t.Error("file inside a pattern-named directory was touched")
	}
	e.checkOutside(t, before)
	if _, err := os.Stat(outsideTemp); err != nil {
		t.Errorf("file outside the home removed: %v", err)
	}

	// A missing home is fine.
	if n, err := CleanStaleUploads(filepath.Join(e.base, "nobody")); n != 0 || err != nil {
		t.Errorf("missing home: %d, %v", n, err)
	}
}

// Issue 9: on a home shared by many nodes, only leftovers untouched since
// the cut-off go; another node's live upload stays.
func TestCleanStaleUploadsBefore(t *testing.T) {
	e := newEnv(t)
	old, err := e.j.CreateUpload("/old", 0, false)
	if err != nil {
		t.Fatal(err)
	}
	live, err := e.j.CreateUpload("/live", 0, false)
	if err != nil {
		t.Fatal(err)
	}
	live.File().WriteString("being written")
	oldPath := filepath.Join(e.home, old.temp)
	long := time.Now().Add(-48 * time.Hour)
	if err := os.Chtimes(oldPath, long, long); err != nil {
		t.Fatal(err)
	}
	n, err := CleanStaleUploadsBefore(e.home, time.Now().Add(-24*time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("removed %d, %v; want 1", n, err)
	}
	if _, err := os.Lstat(oldPath); !os.IsNotExist(err) {
		t.Errorf("old leftover still there (%v)", err)
	}
	if _, err := os.Lstat(filepath.Join(e.home, live.temp)); err != nil {
		t.Errorf("live upload removed: %v", err)
	}
}
