package server

import (
	"context"
	"fmt"

	"github.com/port21/port21/internal/users"
)

// safeHomes refuses, at login, an account whose home would expose the
// data directory (users.db, the TLS key) or other homes. port21 user add
// and mod already refuse such homes; this is defense in depth against a
// store edited by hand or by an older version. The login then fails like
// any other store error, and the log says why.
type safeHomes struct {
	Accounts
	dataDir string
}

func (a safeHomes) Get(ctx context.Context, name string) (users.User, error) {
	u, err := a.Accounts.Get(ctx, name)
	if err != nil {
		return u, err
	}
	if err := users.CheckHome(u.Home, a.dataDir, u.Name); err != nil {
		return users.User{}, fmt.Errorf("account %q: %w", name, err)
	}
	return u, nil
}
