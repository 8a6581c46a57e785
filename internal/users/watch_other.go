//go:build !linux

package users

import "errors"

// fileEvents is Linux only (inotify); elsewhere changeWatch reads SQLite's
// data_version.
type fileEvents struct{}

func newFileEvents(string) (*fileEvents, error) {
	return nil, errors.New("inotify is Linux only")
}

func (*fileEvents) version() (int64, error) { return 0, errors.New("inotify is Linux only") }

func (*fileEvents) close() {}
