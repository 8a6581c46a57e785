//go:build unix && !linux

package jail

import (
	"errors"
	"os"
)

// Elsewhere a STOU reservation is not recorded: after a crash in the middle
// of a STOU, its empty file stays under the unique name.

func setReservation(*os.File, []byte) error { return errors.ErrUnsupported }

func getReservation(*os.File) ([]byte, error) { return nil, errors.ErrUnsupported }
