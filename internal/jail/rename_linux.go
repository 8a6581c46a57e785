package jail

import "golang.org/x/sys/unix"

// renameNoReplace renames old to new in the directory fd, failing with
// EEXIST rather than replacing new. File systems without renameat2 flags
// fall back to link and unlink, which is equally exclusive.
func renameNoReplace(fd int, old, new string) error {
	err := unix.Renameat2(fd, old, fd, new, unix.RENAME_NOREPLACE)
	if err != unix.EINVAL && err != unix.ENOSYS && err != unix.ENOTSUP {
		return err
	}
	return linkUnlink(fd, old, new)
}
