package jail

import (
	"os"

	"golang.org/x/sys/unix"
)

// reservationAttr is the extended attribute of a STOU upload's temporary
// file that names the empty file reserving its final name (see
// CreateUnique), so that CleanStaleUploads can remove that too after a
// crash. It lives in the user namespace, which every Linux file system
// with extended attributes has (tmpfs since 6.6).
const reservationAttr = "user.port21.reserves"

func setReservation(f *os.File, value []byte) error {
	return withFD(f, func(fd int) error { return unix.Fsetxattr(fd, reservationAttr, value, 0) })
}

func getReservation(f *os.File) ([]byte, error) {
	buf := make([]byte, 512) // two numbers and a name of at most 255 bytes
	var n int
	err := withFD(f, func(fd int) error {
		var err error
		n, err = unix.Fgetxattr(fd, reservationAttr, buf)
		return err
	})
	if err != nil {
		return nil, err
	}
	return buf[:n], nil
}
