//go:build !linux

package jail

import (
	"os"
	"time"
)

// openRegularBeneath is Linux's (openat2); elsewhere os.Root walks the path.
func (j *Jail) openRegularBeneath(rel, name string) (*os.File, bool, error) {
	return nil, false, nil
}

// chtimesBeneath is Linux's (openat2); elsewhere os.Root walks the path.
func (j *Jail) chtimesBeneath(rel string, mtime time.Time) (bool, error) {
	return false, nil
}
