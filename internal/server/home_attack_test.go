package server

import (
	"testing"

	"github.com/port21/port21/internal/users"
)

// An account whose home is the data directory (put in the store by hand:
// port21 user add refuses it) must not log in: it would read users.db and
// tls/key.pem.
func TestLoginRefusesHomeContainingDataDir(t *testing.T) {
	ts := startServer(t)
	ts.addUser(t, "mallory", func(u *users.User) { u.Home = ts.dir })
	ts.addUser(t, "root", func(u *users.User) { u.Home = "/" })
	for _, name := range []string{"mallory", "root"} {
		rc := ts.raw(t)
		rc.startTLS(clientTLS())
		rc.cmd(331, "USER %s", name)
		rc.cmd(530, "PASS %s", testPassword)
	}
	if !contains(ts.logs.String(), "unsafe home directory") {
		t.Error("the log does not say why the login failed")
	}
}
