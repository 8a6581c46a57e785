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

// A crash in the middle of a STOU left the empty file that reserved the
// unique name standing under that name, like a truncated upload.
// CleanStaleUploads removes it with the temporary file, and nothing else:
// not a user's empty file, not a file that took the name since.
func TestCleanStaleUploadsRemovesSTOUReservation(t *testing.T) {
	e := newEnv(t)
	e.mkdir(t, "sub")
	crashed := func(dir, hint string) (*Upload, string) {
		u, vpath, err := e.j.CreateUnique(dir, hint)
		if err != nil {
			t.Fatal(err)
		}
		u.File().WriteString("half an upload")
		return u, vpath // no Commit, no Abort: the process died here
	}
	_, stale := crashed("/sub", "report.txt")
	u2, replaced := crashed("/", "other.txt")
	if v, err := getReservation(u2.f); err != nil || len(v) == 0 {
		t.Skipf("no user extended attributes here: %v", err)
	}
	// Someone else's file took the second name since (the placeholder
	// was removed and the name reused): it stays.
	e.write(t, replaced[1:]+".new", "")
	if err := os.Rename(filepath.Join(e.home, replaced[1:]+".new"), filepath.Join(e.home, replaced[1:])); err != nil {
		t.Fatal(err)
	}
	e.write(t, "empty.txt", "") // a user's own empty file

	if _, err := CleanStaleUploads(e.home); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(filepath.Join(e.home, stale[1:])); !os.IsNotExist(err) {
		t.Errorf("the reservation of %s is still there (%v)", stale, err)
	}
	for _, keep := range []string{replaced[1:], "empty.txt"} {
		if _, err := os.Lstat(filepath.Join(e.home, keep)); err != nil {
			t.Errorf("%s was removed: %v", keep, err)
		}
	}
	for _, dir := range []string{".", "sub"} {
		if hasTemp(e.homeNames(t, dir)) {
			t.Errorf("a temporary file is left in %s", dir)
		}
	}
}
