package users

import (
	"context"
	"database/sql"
	"errors"
	"net/netip"
	"path/filepath"
	"testing"
	"time"
)

func TestAccessFieldsRoundTrip(t *testing.T) { testAccessFieldsRoundTrip(t, sqliteOpener) }

func testAccessFieldsRoundTrip(t *testing.T, newDB backend) {
	open := newDB(t)
	ctx := context.Background()
	s := open(t)
	h, _ := NewHasher(1).Hash(ctx, "pw")
	exp := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	u := User{Name: "a", Hash: h, Perms: PermList | PermUpload, Expires: exp, Disabled: true,
		QuotaBytes: 10, QuotaFiles: 2, RateUp: 3, RateDown: 4, MaxSessions: 5}
	if err := s.Add(ctx, u); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if got.Perms != u.Perms || !got.Expires.Equal(exp) || !got.Disabled || got.QuotaBytes != 10 || got.QuotaFiles != 2 ||
		got.RateUp != 3 || got.RateDown != 4 || got.MaxSessions != 5 {
		t.Fatalf("got %+v", got)
	}
	got.Perms, got.Expires, got.Disabled, got.Hash = 0, time.Time{}, false, ""
	if err := s.Update(ctx, got); err != nil {
		t.Fatal(err)
	}
	got, _ = s.Get(ctx, "a")
	if got.Perms != 0 || !got.Expires.IsZero() || got.Disabled || !got.Can(PermAll) {
		t.Fatalf("after update %+v", got)
	}
}

func TestPermsAndBlocked(t *testing.T) {
	p, err := ParsePerms("list, download")
	if err != nil || p != PermReadOnly {
		t.Fatalf("%v %v", p, err)
	}
	if _, err := ParsePerms("list,chmod"); !errors.Is(err, ErrBadPerm) {
		t.Fatalf("chmod: %v", err)
	}
	u := User{ReadOnly: true}
	if u.Can(PermUpload) || !u.Can(PermDownload) {
		t.Fatal("read-only must keep list/download only")
	}
	now := time.Now()
	if (User{Expires: now}).Blocked(now) != "account expired" || (User{Disabled: true}).Blocked(now) == "" ||
		(User{Expires: now.Add(time.Second)}).Blocked(now) != "" {
		t.Fatal("Blocked")
	}
}

func TestBansSharedAndVersioned(t *testing.T) { testBansSharedAndVersioned(t, sqliteOpener) }

func testBansSharedAndVersioned(t *testing.T, newDB backend) {
	open := newDB(t)
	ctx := context.Background()
	a := open(t)
	b := open(t) // another process, as `port21 ban` is
	v0, _ := a.BansVersion(ctx)
	p := netip.MustParsePrefix("192.0.2.7/32")
	if err := b.PutBan(ctx, Ban{Prefix: p, Until: time.Now().Add(time.Hour), Offences: 2, Reason: "test"}); err != nil {
		t.Fatal(err)
	}
	v1, _ := a.BansVersion(ctx)
	bs, err := a.Bans(ctx)
	if err != nil || v1 == v0 || len(bs) != 1 || bs[0].Prefix != p || bs[0].Offences != 2 {
		t.Fatalf("v %d->%d bans %+v err %v", v0, v1, bs, err)
	}
	if err := b.DeleteBan(ctx, p); err != nil {
		t.Fatal(err)
	}
	if err := b.DeleteBan(ctx, p); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	if v2, _ := a.BansVersion(ctx); v2 == v1 {
		t.Fatal("delete did not bump the version")
	}
}

// A store written by schema 1 migrates to 2 with its accounts' rights
// unchanged: every permission, no expiry, no limits, and no bans.
func TestMigrateFromSchema1KeepsRights(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "users.db")
	db, err := sql.Open("sqlite", dsn(path))
	if err != nil {
		t.Fatal(err)
	}
	h, _ := NewHasher(1).Hash(ctx, "pw")
	for _, q := range []string{migrations()[0], "PRAGMA user_version = 1",
		`INSERT INTO users (name, hash, created, updated) VALUES ('old', '` + h + `', '2026-01-01T00:00:00.000000000Z', '2026-01-01T00:00:00.000000000Z')`} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	s, err := OpenStore(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	u, err := s.Get(ctx, "old")
	if err != nil {
		t.Fatal(err)
	}
	if !u.Can(PermAll) || u.Blocked(time.Now()) != "" || u.QuotaBytes != 0 || u.MaxSessions != 0 {
		t.Fatalf("migrated account %+v", u)
	}
	if bs, err := s.Bans(ctx); err != nil || len(bs) != 0 {
		t.Fatalf("bans %v %v", bs, err)
	}
}
