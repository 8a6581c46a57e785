package jail

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"
	"syscall"
	"time"
)

// tempSuffixLen is the length of the random part of a temporary upload
// name: crypto/rand.Text's 26 base32 characters.
const tempSuffixLen = 26

// isTempName reports whether name is exactly one that createTemp makes.
func isTempName(name string) bool {
	rest, ok := strings.CutPrefix(name, tempPrefix)
	if !ok || len(rest) != tempSuffixLen {
		return false
	}
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		if !(c >= 'A' && c <= 'Z' || c >= '2' && c <= '7') {
			return false
		}
	}
	return true
}

// CleanStaleUploads removes the temporary files of uploads that a crash
// left under home: the jail hides them from their owner, who could
// otherwise neither see nor delete them. It must run before the server
// accepts connections, since a live upload's file looks the same.
//
// Only regular files whose names match the exact pattern are removed, and
// the empty file a STOU upload's temporary file records as reserving its
// final name, if it is still that empty file (see CreateUnique). The
// walk goes through an os.Root and never follows symbolic links, so
// nothing outside home is touched. A home that does not exist is not an
// error. It returns how many files it removed, and the first error met
// (directories it cannot read are skipped, not fatal).
func CleanStaleUploads(home string) (int, error) {
	return CleanStaleUploadsBefore(home, time.Time{})
}

// CleanStaleUploadsBefore is CleanStaleUploads for a home that other
// servers may be writing to (shared storage under many nodes): it removes
// only the temporary files last modified before before, so a live upload
// of another node survives. The zero time removes them all.
func CleanStaleUploadsBefore(home string, before time.Time) (int, error) {
	fi, err := os.Stat(home)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("jail: clean stale uploads: %w", err)
	}
	if !fi.IsDir() {
		return 0, nil
	}
	root, err := os.OpenRoot(home)
	if err != nil {
		return 0, fmt.Errorf("jail: clean stale uploads: %w", err)
	}
	defer root.Close()
	removed := 0
	var first error
	note := func(err error) {
		if first == nil {
			first = fmt.Errorf("jail: clean stale uploads in %s: %w", home, err)
		}
	}
	fs.WalkDir(root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			note(err)
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if !isTempName(d.Name()) || !d.Type().IsRegular() {
			return nil
		}
		// Look again without following links: the entry's type came from
		// the directory listing.
		fi, err := root.Lstat(p)
		if err != nil || !fi.Mode().IsRegular() || (!before.IsZero() && !fi.ModTime().Before(before)) {
			return nil
		}
		if ok, err := removeReservation(root, p); err != nil {
			note(err)
		} else if ok {
			removed++
		}
		if err := root.Remove(p); err != nil {
			note(err)
			return nil
		}
		removed++
		return nil
	})
	return removed, first
}

// removeReservation removes the empty file that reserved the final name of
// the STOU upload whose temporary file is temp, if temp records one (see
// CreateUnique) and that file is still the empty placeholder: the same
// inode, regular, and empty. A file that took the name since is left alone.
func removeReservation(root *os.Root, temp string) (bool, error) {
	f, err := root.OpenFile(temp, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return false, err
	}
	v, err := getReservation(f)
	f.Close()
	if err != nil {
		return false, nil // not a STOU, or no extended attributes here
	}
	dev, ino, name, ok := parseReservation(v)
	if !ok {
		return false, nil
	}
	target := path.Join(path.Dir(temp), name)
	fi, err := root.Lstat(target)
	if err != nil {
		return false, nil
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || !fi.Mode().IsRegular() || fi.Size() != 0 || uint64(st.Dev) != dev || uint64(st.Ino) != ino {
		return false, nil
	}
	if err := root.Remove(target); err != nil {
		return false, err
	}
	return true, nil
}
