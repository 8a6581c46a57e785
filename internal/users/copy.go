package users

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
)

// CopyResult counts what Copy did.
type CopyResult struct {
	Users, UsersSkipped int
	Bans, BansSkipped   int
}

// Copy copies every account (password hash, allow list, rights, times
// included) and every ban from src to dst: from the SQLite file to
// PostgreSQL when a site grows to many nodes, say. It never overwrites:
// accounts whose name dst already has, and bans of a prefix dst already
// bans, are skipped and counted. Each account is its own transaction, so
// running Copy again after a failure finishes the job.
func Copy(ctx context.Context, dst, src *Store) (CopyResult, error) {
	var r CopyResult
	us, err := src.List(ctx)
	if err != nil {
		return r, fmt.Errorf("users: copy: %w", err)
	}
	for _, u := range us {
		switch err := dst.Add(ctx, u); {
		case errors.Is(err, ErrExists):
			r.UsersSkipped++
		case err != nil:
			return r, fmt.Errorf("users: copy: %w", err)
		default:
			r.Users++
		}
	}
	bans, err := src.Bans(ctx)
	if err != nil {
		return r, fmt.Errorf("users: copy: %w", err)
	}
	have, err := dst.Bans(ctx)
	if err != nil {
		return r, fmt.Errorf("users: copy: %w", err)
	}
	banned := map[netip.Prefix]bool{}
	for _, b := range have {
		banned[b.Prefix] = true
	}
	for _, b := range bans {
		if banned[b.Prefix] {
			r.BansSkipped++
			continue
		}
		if err := dst.PutBan(ctx, b); err != nil {
			return r, fmt.Errorf("users: copy: %w", err)
		}
		r.Bans++
	}
	return r, nil
}
