package users

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
)

// BenchmarkGet reads one account with a two-entry allow list: the server
// does this before every command of a logged-in session, so it is on the
// path of every small file.
func BenchmarkGet(b *testing.B) {
	ctx := context.Background()
	s, err := OpenStore(ctx, filepath.Join(b.TempDir(), "users.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	for _, name := range []string{"alice", "bob", "carol"} {
		if err := s.Add(ctx, User{Name: name, Home: "/srv/ftp/" + name, Hash: hashA, Allow: prefixes("192.0.2.0/24", "2001:db8::/32")}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		u, err := s.Get(ctx, "bob")
		if err != nil || len(u.Allow) != 2 {
			b.Fatalf("%+v, %v", u, err)
		}
	}
}

// BenchmarkGetFromDatabase reads accounts at random from 5,000 past the
// change watch, as the first command after a commit does: with each
// connection's page cache bounded (pageCacheKiB), most leaf pages come from
// the kernel's page cache.
func BenchmarkGetFromDatabase(b *testing.B) {
	ctx := context.Background()
	s, err := OpenStore(ctx, filepath.Join(b.TempDir(), "users.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	const n = 5000
	if err := s.tx(ctx, func(tx *sql.Tx) error {
		for i := range n {
			name := fmt.Sprintf("user%d", i)
			if _, err := tx.ExecContext(ctx, "INSERT INTO users(name, home, hash, created, updated) VALUES (?, ?, ?, ?, ?)", name, "/srv/ftp/"+name, hashA, "2026-12-08T00:00:00.000000000Z", "2026-12-08T00:00:00.000000000Z"); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	b.ReportAllocs()
	for b.Loop() {
		name := fmt.Sprintf("user%d", rng.IntN(n))
		if u, err := s.get(ctx, name); err != nil || u.Name != name {
			b.Fatalf("%+v, %v", u, err)
		}
	}
}
