//go:build unix && !linux

package jail

// renameNoReplace renames old to new in the directory fd, failing with
// EEXIST rather than replacing new: without Linux's renameat2, link and
// unlink, which is equally exclusive (link never replaces).
func renameNoReplace(fd int, old, new string) error { return linkUnlink(fd, old, new) }
