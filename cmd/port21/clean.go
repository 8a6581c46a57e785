//go:build unix

package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/port21/port21/internal/datadir"
	"github.com/port21/port21/internal/jail"
	"github.com/port21/port21/internal/users"
)

// userLister is what cleanStaleUploads needs from the user store.
type userLister interface {
	List(ctx context.Context) ([]users.User, error)
}

// sharedUploadAge is how long a temporary upload must be untouched before
// a node sharing its store (and so, likely, its homes) with others removes
// it at start: another node's live upload is written far more often, even
// at a low rate limit.
const sharedUploadAge = 24 * time.Hour

// cleanStaleUploads removes the temporary upload files a crash left in
// every home: each directory under data-dir/home (including homes of
// deleted users) and each account's own home. It runs before the server
// listens, when no upload of this server can be in progress. With a shared
// store (shared is true) other nodes may be uploading into the same homes:
// then only files untouched for sharedUploadAge go.
func cleanStaleUploads(ctx context.Context, store userLister, dataDir string, shared bool, log *slog.Logger) error {
	var before time.Time
	if shared {
		before = time.Now().Add(-sharedUploadAge)
	}
	start := time.Now()
	base := datadir.Dir(dataDir).Homes()
	var homes []string
	entries, err := os.ReadDir(base)
	if err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("clean stale uploads: %w", err)
	}
	for _, e := range entries {
		if e.IsDir() {
			homes = append(homes, filepath.Join(base, e.Name()))
		}
	}
	us, err := store.List(ctx)
	if err != nil {
		return fmt.Errorf("clean stale uploads: %w", err)
	}
	for _, u := range us {
		if u.Home != "" {
			homes = append(homes, u.Home)
		}
	}
	seen := map[string]bool{}
	total := 0
	for _, h := range homes {
		h = filepath.Clean(h)
		if seen[h] {
			continue
		}
		seen[h] = true
		n, err := jail.CleanStaleUploadsBefore(h, before)
		total += n
		if err != nil {
			// One unreadable home must not keep the server down.
			log.Warn("cleaning stale uploads", "err", err)
		}
	}
	if total > 0 {
		log.Info("removed stale temporary uploads", "files", total, "homes", len(seen), "ms", time.Since(start).Milliseconds())
	}
	return nil
}
