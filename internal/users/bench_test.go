package users

import (
	"context"
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
