package users

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sync"
)

// changeWatch lets Get skip re-reading an account while nothing in a SQLite
// store has changed. The server reads the account before every command of
// a session, so that `port21 user del`, `passwd` and `mod` apply at once; a
// mirror of small files makes thousands of such reads.
//
// The version that tells a change is, on Linux, a count of inotify events
// on the database's files (fileEvents: one system call), and elsewhere, or
// if inotify cannot be had, SQLite's data_version, read on a connection of
// its own that never writes; it changes whenever any other connection
// commits. Either way, a commit by the store's pool in this process, or by
// `port21 user` and `port21 ban` in another, changes it before any reader
// can see the commit. An account is kept only with the version read before
// it was read, so a change that commits at any moment is seen by the next
// Get. Any commit (a ban, a login's rehash) forgets every kept account;
// that costs one read each, never a stale answer.
type changeWatch struct {
	files *fileEvents // nil: data_version below

	// mu serialises the version query: the statement belongs to one
	// connection and database/sql would share it between callers.
	mu   sync.Mutex
	conn *sql.Conn
	stmt *sql.Stmt

	kept    sync.Mutex
	version int64
	users   map[string]User
	// The cleartext rule, kept as the accounts are, under its own version.
	clearVersion int64
	clearRule    *cleartextRule
}

// maxKept bounds the accounts kept between commits; past it they are all
// forgotten, and reads go on as without the watch until the next commit.
const maxKept = 4096

func newChangeWatch(ctx context.Context, db *sql.DB, path string) (*changeWatch, error) {
	if files, err := newFileEvents(path); err == nil {
		return &changeWatch{files: files, users: map[string]User{}}, nil
	}
	return newDataVersionWatch(ctx, db)
}

// newDataVersionWatch is a changeWatch on data_version alone.
func newDataVersionWatch(ctx context.Context, db *sql.DB) (*changeWatch, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("change watch: %w", err)
	}
	stmt, err := conn.PrepareContext(ctx, "PRAGMA data_version")
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("change watch: %w", err)
	}
	return &changeWatch{conn: conn, stmt: stmt, users: map[string]User{}}, nil
}

// current is the database's data version now.
func (w *changeWatch) current(ctx context.Context) (int64, error) {
	if w.files != nil {
		return w.files.version()
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	var v int64
	if err := w.stmt.QueryRowContext(ctx).Scan(&v); err != nil {
		return 0, fmt.Errorf("data version: %w", err)
	}
	return v, nil
}

// lookup returns the account kept for name at version v.
func (w *changeWatch) lookup(name string, v int64) (User, bool) {
	w.kept.Lock()
	defer w.kept.Unlock()
	if v != w.version {
		return User{}, false
	}
	u, ok := w.users[name]
	if ok {
		u.Allow = slices.Clone(u.Allow) // the caller's to change
	}
	return u, ok
}

// keep records u, read after version v was read. Another version than the
// kept one's replaces them all: an entry is never served under a version
// older than the read that made it, whichever reader came last.
func (w *changeWatch) keep(v int64, u User) {
	w.kept.Lock()
	defer w.kept.Unlock()
	if v != w.version || len(w.users) >= maxKept {
		clear(w.users)
		w.version = v
	}
	u.Allow = slices.Clone(u.Allow)
	w.users[u.Name] = u
}

func (w *changeWatch) close() {
	if w.files != nil {
		w.files.close()
		return
	}
	w.stmt.Close()
	w.conn.Close()
}

// cleartext returns the cleartext rule kept at version v.
func (w *changeWatch) cleartext(v int64) (cleartextRule, bool) {
	w.kept.Lock()
	defer w.kept.Unlock()
	if w.clearRule == nil || v != w.clearVersion {
		return cleartextRule{}, false
	}
	return *w.clearRule, true // read-only: never changed once kept
}

// keepCleartext records r, read after version v was read.
func (w *changeWatch) keepCleartext(v int64, r cleartextRule) {
	w.kept.Lock()
	defer w.kept.Unlock()
	w.clearVersion, w.clearRule = v, &r
}
