package server

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/port21/port21/internal/users"
)

// slowReplace is a store whose ReplaceHash returns a while after the new
// hash is written, as a store under load may.
type slowReplace struct {
	Accounts
	written chan struct{}
}

func (s *slowReplace) ReplaceHash(ctx context.Context, name, old, hash string) error {
	err := s.Accounts.ReplaceHash(ctx, name, old, hash)
	close(s.written)
	time.Sleep(time.Second)
	return err
}

// TestOwnRehashNeverEndsTheSession: after a login with a legacy hash the
// server rehashes the password to argon2id. A command the session sends
// after the new hash is in the store, but before the rehash has returned,
// must not find the account "changed" and end the session with 421.
func TestOwnRehashNeverEndsTheSession(t *testing.T) {
	var slow *slowReplace
	ts := startServer(t, func(o *Options, st *users.Store) {
		slow = &slowReplace{Accounts: st, written: make(chan struct{})}
		o.Accounts = slow
	})
	ts.addUser(t, "legacy", func(u *users.User) { u.Hash = sha512Hash })
	rc := ts.raw(t)
	rc.login("legacy", clientTLS())
	select {
	case <-slow.written:
	case <-time.After(20 * time.Second):
		t.Fatal("no rehash")
	}
	u, err := ts.store.Get(context.Background(), "legacy")
	if err != nil || !strings.HasPrefix(u.Hash, "$argon2id$") {
		t.Fatalf("hash after the rehash: %q %v", u.Hash, err)
	}
	rc.cmd(200, "NOOP")
	rc.cmd(257, "PWD")
}
