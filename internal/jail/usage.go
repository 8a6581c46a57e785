package jail

import (
	"errors"
	"io/fs"
	"path/filepath"
)

// Usage returns the bytes and the number of regular files under home, as a
// quota counts them: symbolic links are not followed and the temporary
// files of uploads in progress are left out (their owner counts them while
// they run). Directories that cannot be read are skipped.
func Usage(home string) (bytes, files int64, err error) {
	err = filepath.WalkDir(home, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == home {
				return err
			}
			return nil
		}
		if !d.Type().IsRegular() || isTempName(d.Name()) {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return nil
		}
		bytes += fi.Size()
		files++
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		err = nil
	}
	return bytes, files, err
}
