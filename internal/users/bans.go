package users

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// Ban is an address range refused by the server until Until. The server's
// defender writes them, `port21 ban` too; both processes share them through
// the store, so a ban survives a restart.
type Ban struct {
	Prefix netip.Prefix
	Until  time.Time
	// Offences counts the bans of Prefix so far: each one lasts longer.
	// It is kept after Until passes, so a repeat offender is remembered.
	Offences int
	Reason   string
	Created  time.Time
}

// PutBan creates or replaces the ban of b.Prefix and bumps the bans
// version, so that a running server picks the change up.
func (s *Store) PutBan(ctx context.Context, b Ban) error {
	if !b.Prefix.IsValid() {
		return fmt.Errorf("users: put ban: invalid prefix %q", b.Prefix)
	}
	if b.Created.IsZero() {
		b.Created = s.now()
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q(
			`INSERT INTO bans (prefix, until, offences, reason, created) VALUES (?, ?, ?, ?, ?)
			 ON CONFLICT (prefix) DO UPDATE SET until = excluded.until, offences = excluded.offences,
			 reason = excluded.reason, created = excluded.created`),
			NormalizePrefix(b.Prefix).String(), formatTime(b.Until), max(b.Offences, 1), b.Reason, formatTime(b.Created)); err != nil {
			return err
		}
		return bumpBans(ctx, tx)
	})
	if err != nil {
		return fmt.Errorf("users: put ban %s: %w", b.Prefix, err)
	}
	return nil
}

// DeleteBan removes the ban of p, and its memory of offences. It fails with
// ErrNotFound when there is none.
func (s *Store) DeleteBan(ctx context.Context, p netip.Prefix) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q("DELETE FROM bans WHERE prefix = ?"), NormalizePrefix(p).String())
		if err != nil {
			return err
		}
		if err := mustAffect(res); err != nil {
			return err
		}
		return bumpBans(ctx, tx)
	})
	if err != nil {
		return fmt.Errorf("users: delete ban %s: %w", p, err)
	}
	return nil
}

// PruneBans forgets bans that ended before before, offences included.
func (s *Store) PruneBans(ctx context.Context, before time.Time) error {
	_, err := s.db.ExecContext(ctx, s.q("DELETE FROM bans WHERE until < ?"), formatTime(before))
	if err != nil {
		return fmt.Errorf("users: prune bans: %w", err)
	}
	return nil
}

// Bans returns every ban, ended ones included (their offences still
// count), sorted by prefix.
func (s *Store) Bans(ctx context.Context) ([]Ban, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT prefix, until, offences, reason, created FROM bans ORDER BY prefix")
	if err != nil {
		return nil, fmt.Errorf("users: bans: %w", err)
	}
	defer rows.Close()
	var bs []Ban
	for rows.Next() {
		var (
			b                      Ban
			prefix, until, created string
		)
		if err := rows.Scan(&prefix, &until, &b.Offences, &b.Reason, &created); err != nil {
			return nil, fmt.Errorf("users: bans: %w", err)
		}
		if b.Prefix, err = netip.ParsePrefix(prefix); err != nil {
			return nil, fmt.Errorf("users: ban %q: %w", prefix, err)
		}
		if b.Until, err = time.Parse(timeFormat, until); err != nil {
			return nil, fmt.Errorf("users: ban %q: until: %w", prefix, err)
		}
		if b.Created, err = time.Parse(timeFormat, created); err != nil {
			return nil, fmt.Errorf("users: ban %q: created: %w", prefix, err)
		}
		bs = append(bs, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("users: bans: %w", err)
	}
	return bs, nil
}

// BansVersion is a number that changes whenever a ban is written or
// deleted, by any process: a cheap query to poll.
func (s *Store) BansVersion(ctx context.Context) (int64, error) {
	var v int64
	err := s.db.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = 'bans_version'").Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("users: bans version: %w", err)
	}
	return v, nil
}

func bumpBans(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, "UPDATE meta SET value = value + 1 WHERE key = 'bans_version'")
	return err
}
