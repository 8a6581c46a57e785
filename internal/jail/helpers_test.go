package jail

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// env is a jail plus the world around it: base holds home (the jail) and
// outside, a directory the jail must never reach, with a sentinel file.
type env struct {
	base, home, outside, sentinel string
	j                             *Jail
}

const sentinelData = "outside secret\n"

var oldTime = time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)

func newEnv(t testing.TB) *env {
	t.Helper()
	base := t.TempDir()
	e := &env{
		base:     base,
		home:     filepath.Join(base, "home"),
		outside:  filepath.Join(base, "outside"),
		sentinel: filepath.Join(base, "outside", "sentinel"),
	}
	for _, d := range []string{e.home, e.outside, filepath.Join(e.outside, "dir")} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(e.sentinel, []byte(sentinelData), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{e.sentinel, filepath.Join(e.outside, "dir"), e.outside} {
		if err := os.Chtimes(p, oldTime, oldTime); err != nil {
			t.Fatal(err)
		}
	}
	j, err := Open(e.home)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	e.j = j
	return e
}

// snapshot describes everything under base except the home: names, types,
// sizes, modes, mtimes and contents.
func (e *env) snapshot(t testing.TB) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(e.base, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == e.home {
			return filepath.SkipDir
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "%s %v %d %d", p, fi.Mode(), fi.Size(), fi.ModTime().UnixNano())
		if fi.Mode().IsRegular() {
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			fmt.Fprintf(&b, " %x", sha256.Sum256(data))
		}
		b.WriteByte('\n')
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// checkOutside fails t if anything outside the home differs from before,
// or if the sentinel lost its content.
func (e *env) checkOutside(t testing.TB, before string) {
	t.Helper()
	if after := e.snapshot(t); after != before {
		t.Errorf("the world outside the jail changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	if data, err := os.ReadFile(e.sentinel); err != nil || string(data) != sentinelData {
		t.Errorf("sentinel = %q, %v", data, err)
	}
}

// checkNoLeak fails t if err's text shows where the jail is on the host.
func (e *env) checkNoLeak(t testing.TB, err error) {
	t.Helper()
	if err != nil && strings.Contains(err.Error(), e.base) {
		t.Errorf("error reveals the host path: %v", err)
	}
}

func (e *env) write(t testing.TB, rel, data string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(e.home, rel), []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (e *env) read(t testing.TB, rel string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(e.home, rel))
	if err != nil {
		t.Error(err) // not Fatal: called from goroutines too
	}
	return string(data)
}

func (e *env) symlink(t testing.TB, target, rel string) {
	t.Helper()
	if err := os.Symlink(target, filepath.Join(e.home, rel)); err != nil {
		t.Fatal(err)
	}
}

func (e *env) mkdir(t testing.TB, rel string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(e.home, rel), 0o755); err != nil {
		t.Fatal(err)
	}
}

// homeNames lists the home directory as the host sees it, temporary files
// included.
func (e *env) homeNames(t testing.TB, rel string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(e.home, rel))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range entries {
		names = append(names, d.Name())
	}
	return names
}

// upload stores data at vpath through the jail and commits it.
func upload(j *Jail, vpath string, offset int64, appendMode bool, data string) error {
	u, err := j.CreateUpload(vpath, offset, appendMode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(u.File(), strings.NewReader(data)); err != nil {
		u.Abort()
		return err
	}
	return u.Commit()
}

// readAll reads vpath through the jail.
func readAll(j *Jail, vpath string) (string, error) {
	f, err := j.OpenFile(vpath)
	if err != nil {
		return "", err
	}
	defer f.Close()
	var b bytes.Buffer
	_, err = io.Copy(&b, f)
	return b.String(), err
}

func names(infos []fs.FileInfo) []string {
	var s []string
	for _, fi := range infos {
		s = append(s, fi.Name())
	}
	return s
}

func hasTemp(names []string) bool {
	return slices.ContainsFunc(names, func(n string) bool { return strings.HasPrefix(n, tempPrefix) })
}
