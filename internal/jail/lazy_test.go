package jail

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A resumed upload copies the old file only when data arrives: one that is
// aborted before its first byte never cost disk space.
func TestResumeCopyIsLazy(t *testing.T) {
	e := newEnv(t)
	old := strings.Repeat("old data ", 10000)
	e.write(t, "f", old)
	u, err := e.j.CreateUpload("/f", 0, true)
	if err != nil {
		t.Fatal(err)
	}
	if n := tempSize(t, e.home); n != 0 {
		t.Errorf("temporary file holds %d bytes before any data, want 0", n)
	}
	if _, err := u.ReadFrom(strings.NewReader("")); err != nil {
		t.Fatal(err)
	}
	if n := tempSize(t, e.home); n != 0 {
		t.Errorf("temporary file holds %d bytes after an empty read, want 0", n)
	}
	if err := u.Abort(); err != nil {
		t.Fatal(err)
	}
	if got := e.read(t, "f"); got != old {
		t.Errorf("aborted append changed the file")
	}
	if hasTemp(e.homeNames(t, ".")) {
		t.Error("aborted upload left a temporary file")
	}

	// Data through ReadFrom: copy first, then the new bytes.
	u, err = e.j.CreateUpload("/f", 4, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(u, strings.NewReader("NEW")); err != nil {
		t.Fatal(err)
	}
	if err := u.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := e.read(t, "f"); got != "old NEW" {
		t.Errorf("REST 4 + STOR = %q, want %q", got, "old NEW")
	}
}

func tempSize(t *testing.T, dir string) int64 {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, d := range entries {
		if strings.HasPrefix(d.Name(), tempPrefix) {
			fi, err := os.Stat(filepath.Join(dir, d.Name()))
			if err != nil {
				t.Fatal(err)
			}
			n += fi.Size()
		}
	}
	return n
}
