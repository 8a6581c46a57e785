package testpeers

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
)

// Passive data ports for peers come from 45000-49999, cut into slices of
// passiveSliceSize ports; each running peer holds one slice, so peers
// started at the same time by different tests, or by different test
// processes, never hand out the same data port.
const (
	passiveFirst     = 45000
	passiveLast      = 49999
	passiveSliceSize = 20
	passiveSlices    = (passiveLast - passiveFirst + 1) / passiveSliceSize
)

// passiveSlice is a range of passive ports held by one peer until release.
type passiveSlice struct {
	min, max int
	release  func()
}

// allocatePassive takes a free slice of the passive range: one whose lock
// file nobody holds and whose ports can all be bound on loopback right now.
func allocatePassive() (passiveSlice, error) {
	dir := filepath.Join(os.TempDir(), "port21-peers-passive")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return passiveSlice{}, fmt.Errorf("testpeers: passive ports: %w", err)
	}
	start := rand.IntN(passiveSlices)
	for i := range passiveSlices {
		n := (start + i) % passiveSlices
		unlock, err := lockFile(filepath.Join(dir, "slice-"+strconv.Itoa(n)+".lock"), false)
		if errors.Is(err, errLocked) {
			continue
		}
		if err != nil {
			return passiveSlice{}, fmt.Errorf("testpeers: passive ports: %w", err)
		}
		min := passiveFirst + n*passiveSliceSize
		max := min + passiveSliceSize - 1
		if !bindable(min, max) {
			unlock()
			continue
		}
		return passiveSlice{min: min, max: max, release: unlock}, nil
	}
	return passiveSlice{}, fmt.Errorf("testpeers: passive ports: no free slice of %d ports in %d-%d", passiveSliceSize, passiveFirst, passiveLast)
}

// bindable reports whether every port from min to max can be listened on
// at 127.0.0.1 now.
func bindable(min, max int) bool {
	for port := min; port <= max; port++ {
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			return false
		}
		l.Close()
	}
	return true
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago. The
// daemon binds it itself, so another program may take it in between: Start
// retries on a fresh port when the daemon fails to come up.
// Ports inside the passive range are skipped.
func freePort() (int, error) {
	for range 20 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, fmt.Errorf("testpeers: free port: %w", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if port < passiveFirst || port > passiveLast {
			return port, nil
		}
	}
	return 0, errors.New("testpeers: free port: the kernel keeps handing out ports inside the passive range")
}
