package users

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/port21/port21/internal/datadir"
)

// ErrUnsafeHome reports a home directory that would expose the server's
// own state (users.db, the TLS key) or other users' files: the file system
// root, the data directory, a directory containing it, or a place inside
// it other than the account's own default home.
var ErrUnsafeHome = errors.New("unsafe home directory")

// CheckHome checks that home is a safe home directory for the account
// name, given the server's data directory. Both are made absolute and
// their symbolic links resolved (as far as they exist), so no spelling or
// link gets around the check.
//
// Refused: "/", the data directory itself, any directory containing it,
// and any directory inside it except dataDir/home/name and below (the
// default home), which excludes data-dir/home itself and other users'
// default homes. An empty home means the default one, which is safe.
func CheckHome(home, dataDir, name string) error {
	if home == "" {
		return nil
	}
	h, err := resolvePath(home)
	if err != nil {
		return fmt.Errorf("home %s: %w", home, err)
	}
	d, err := resolvePath(dataDir)
	if err != nil {
		return fmt.Errorf("data directory %s: %w", dataDir, err)
	}
	own := datadir.Dir(d).Home(name)
	switch {
	case h == string(filepath.Separator):
		return fmt.Errorf("home %s is the root of the file system: %w", home, ErrUnsafeHome)
	case h == d:
		return fmt.Errorf("home %s is the data directory, which holds users.db and the TLS key: %w", home, ErrUnsafeHome)
	case within(d, h):
		return fmt.Errorf("home %s contains the data directory %s: %w", home, d, ErrUnsafeHome)
	case within(h, d) && h != own && !within(h, own):
		return fmt.Errorf("home %s is inside the data directory %s; only %s is allowed there: %w", home, d, own, ErrUnsafeHome)
	}
	return nil
}

// within reports whether p is strictly below dir; both are clean and
// absolute.
func within(p, dir string) bool {
	if dir == string(filepath.Separator) {
		return p != dir
	}
	return strings.HasPrefix(p, dir+string(filepath.Separator))
}

// resolvePath makes p absolute and resolves the symbolic links of its
// longest existing prefix; the missing rest is appended as written.
func resolvePath(p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", fmt.Errorf("resolve: %w", err)
	}
	var rest []string
	cur := abs
	for {
		r, err := filepath.EvalSymlinks(cur)
		if err == nil {
			return filepath.Join(append([]string{r}, rest...)...), nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("resolve: %w", err)
		}
		parent := filepath.Dir(cur)
		if parent == cur {
			return abs, nil
		}
		rest = append([]string{filepath.Base(cur)}, rest...)
		cur = parent
	}
}

// MakeHome creates a custom home directory, only its last element: a
// missing parent is an error, so a mistyped path does not silently grow a
// tree. It reports whether it created the directory.
func MakeHome(home string) (created bool, err error) {
	err = os.Mkdir(home, 0o750)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrExist):
		fi, serr := os.Stat(home)
		if serr != nil {
			return false, fmt.Errorf("home %s: %w", home, serr)
		}
		if !fi.IsDir() {
			return false, fmt.Errorf("home %s exists and is not a directory", home)
		}
		return false, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, fmt.Errorf("home %s: parent directory %s does not exist; create it first", home, filepath.Dir(home))
	}
	return false, fmt.Errorf("create home %s: %w", home, err)
}
