//go:build !unix

package testpeers

import "errors"

var errLocked = errors.New("locked")

// lockFile is Unix-only; Available reports ErrUnsupported elsewhere first.
func lockFile(path string, wait bool) (unlock func(), err error) {
	return nil, ErrUnsupported
}
