//go:build unix

package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/port21/port21/internal/users"
)

// Temporary uploads left by a crash, in default homes (even of deleted
// users) and in custom ones, are gone once serve has started.
func TestServeCleansStaleUploads(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	custom := filepath.Join(t.TempDir(), "bobhome")
	store, err := users.OpenStore(ctx, filepath.Join(data, "users.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	h, err := users.NewHasher(1).Hash(ctx, "pw")
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Add(ctx, users.User{Name: "bob", Hash: h, Home: custom}); err != nil {
		t.Fatal(err)
	}
	stale := ".port21-upload-" + strings.Repeat("Q", 26)
	files := []string{
		filepath.Join(data, "home", "gone", stale),
		filepath.Join(data, "home", "gone", "deep", "er", stale),
		filepath.Join(custom, stale),
	}
	for _, f := range files {
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f, []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	keep := filepath.Join(custom, "report.pdf")
	os.WriteFile(keep, []byte("x"), 0o644)

	if err := cleanStaleUploads(ctx, store, data, false, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if _, err := os.Lstat(f); !os.IsNotExist(err) {
			t.Errorf("%s survived (%v)", f, err)
		}
	}
	if _, err := os.Stat(keep); err != nil {
		t.Errorf("ordinary file removed: %v", err)
	}
}
