package users

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
)

// ImportOptions says which shadow entries ImportShadow adds, and how.
type ImportOptions struct {
	// Only names the accounts to import; empty means all but root, which
	// is too powerful to bring along unasked.
	Only []string
	// HomeBase, when set, puts each account's home at HomeBase/NAME; it
	// must be absolute. Empty leaves Home to the store's default.
	HomeBase string
	// Prepare runs before each account is added (port21 user creates the
	// home there); its error stops the import.
	Prepare func(User) error
	// Event, when set, is told of each account imported or skipped, in
	// file order, so the caller can report as the import goes.
	Event func(ImportEvent)
}

// ImportEvent is one account ImportShadow imported or skipped.
type ImportEvent struct {
	Line int    // in the file; 0 for a name in Only that the file lacks
	Name string // as in the file, or in Only
	// Skipped says why the account was not imported; empty when it was.
	Skipped string
	// User is the account added, without its hash; zero when skipped.
	User User
}

// ImportShadow adds the accounts of entries (from ParseShadow) to s,
// keeping their password hashes. Entries that cannot be imported, names
// that already exist, root (unless in Only) and names in Only missing from
// the file are skipped, not errors. It returns the counts; the error is
// for a store or Prepare failure, which stops the import.
func ImportShadow(ctx context.Context, s *Store, entries []ShadowEntry, o ImportOptions) (imported, skipped int, err error) {
	if o.HomeBase != "" && !filepath.IsAbs(o.HomeBase) {
		return 0, 0, fmt.Errorf("import: home base %q is not an absolute path", o.HomeBase)
	}
	event := func(e ImportEvent) {
		if e.Skipped != "" {
			skipped++
		} else {
			imported++
		}
		if o.Event != nil {
			o.Event(e)
		}
	}
	skip := func(e ShadowEntry, why string) { event(ImportEvent{Line: e.Line, Name: e.Name, Skipped: why}) }
	wanted := map[string]bool{}
	for _, name := range o.Only {
		wanted[name] = true
	}
	named := len(wanted) > 0
	for _, e := range entries {
		switch {
		case named && !wanted[e.Name]:
			continue
		case !named && e.Name == "root":
			skip(e, "root is imported only when named with --user")
			continue
		case e.Err != nil:
			skip(e, e.Err.Error())
			continue
		}
		u := User{Name: e.Name, Hash: e.Hash}
		if o.HomeBase != "" {
			u.Home = filepath.Join(filepath.Clean(o.HomeBase), e.Name)
		}
		if _, err := s.Get(ctx, u.Name); err == nil {
			skip(e, "user already exists")
			continue
		}
		if o.Prepare != nil {
			if err := o.Prepare(u); err != nil {
				return imported, skipped, fmt.Errorf("user %q: %w", u.Name, err)
			}
		}
		if err := s.Add(ctx, u); err != nil {
			if errors.Is(err, ErrExists) {
				skip(e, "user already exists")
				continue
			}
			return imported, skipped, err
		}
		u.Hash = "" // events are printed; the hash stays in the store
		event(ImportEvent{Line: e.Line, Name: e.Name, User: u})
	}
	for _, e := range entries {
		delete(wanted, e.Name) // in the file: imported or reported above
	}
	for _, name := range slices.Sorted(maps.Keys(wanted)) {
		event(ImportEvent{Name: name, Skipped: "not in the file"})
	}
	return imported, skipped, nil
}
