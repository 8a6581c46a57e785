package users

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net/netip"
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
	const n = 5000
	s := manyAccounts(b, n, false)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	b.ReportAllocs()
	for b.Loop() {
		name := fmt.Sprintf("user%d", rng.IntN(n))
		if u, err := s.get(ctx, name); err != nil || u.Name != name {
			b.Fatalf("%+v, %v", u, err)
		}
	}
}

// manyAccounts opens a store with n accounts, user0 to user(n-1), written
// in one transaction (Add commits each). With cleartext, every other one
// may log in in clear, each account from its own /32.
func manyAccounts(b *testing.B, n int, cleartext bool) *Store {
	ctx := context.Background()
	s, err := OpenStore(ctx, filepath.Join(b.TempDir(), "users.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	const now = "2026-12-08T00:00:00.000000000Z"
	if err := s.tx(ctx, func(tx *sql.Tx) error {
		for i := range n {
			name := fmt.Sprintf("user%d", i)
			if _, err := tx.ExecContext(ctx, "INSERT INTO users(name, home, hash, allow_cleartext, created, updated) VALUES (?, ?, ?, ?, ?, ?)",
				name, "/srv/ftp/"+name, hashA, cleartext && i%2 == 1, now, now); err != nil {
				return err
			}
			if !cleartext {
				continue
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO user_allow("user", pos, prefix) VALUES (?, 0, ?)`, name, fmt.Sprintf("10.0.%d.%d/32", i/256, i%256)); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkCleartextFrom answers a USER in clear with 1,000 accounts, 500
// of them allowed in clear from a /32 each: from the kept rule, and read
// anew as after every commit.
func BenchmarkCleartextFrom(b *testing.B) {
	s := manyAccounts(b, 1000, true)
	ctx := context.Background()
	addr := netip.MustParseAddr("192.0.2.1") // in no list: every prefix is tried
	b.Run("kept", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if ok, err := s.CleartextFrom(ctx, addr); ok || err != nil {
				b.Fatal(ok, err)
			}
		}
	})
	b.Run("read", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if r, err := s.cleartextRule(ctx); err != nil || r.from(addr) {
				b.Fatal(err)
			}
		}
	})
}
