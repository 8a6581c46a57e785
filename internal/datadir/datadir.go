// Package datadir is the layout of port21's state directory (data-dir): the
// user store, the TLS key and certificate generated on first start, and the
// users' homes. serve, the user and ban commands, the server and the home
// checks all find their files through it, so the layout is written once.
package datadir

import "path/filepath"

// Dir is a state directory, as configured (relative paths stay relative).
type Dir string

// Default is serve's default data-dir, which the user and ban commands
// share so that they find the same store.
const Default Dir = "./port21-data"

// Store is the embedded SQLite user store.
func (d Dir) Store() string { return filepath.Join(string(d), "users.db") }

// TLS is the directory of the generated key and certificate.
func (d Dir) TLS() string { return filepath.Join(string(d), "tls") }

// Homes is the directory holding the default homes.
func (d Dir) Homes() string { return filepath.Join(string(d), "home") }

// Home is the default home of the account name.
func (d Dir) Home(name string) string { return filepath.Join(d.Homes(), name) }
