package users

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"
)

// Issue 7: a login flood queued every check behind the flood. The queue is
// now bounded: beyond maxWaiting callers fail at once with ErrBusy, and a
// waiter gives up with ErrBusy after maxWait.
func TestHasherQueueBounded(t *testing.T) {
	h := newHasherQueue(1, 1, time.Hour, testParams)
	holding, gate := make(chan struct{}), make(chan struct{})
	first := true
	h.hook = func() {
		if first { // the hook runs with the only slot held, so no race
			first = false
			close(holding)
			<-gate
		}
	}
	waiting := make(chan struct{}, 4)
	h.waiting = func() { waiting <- struct{}{} }
	done := make(chan error, 2)
	go func() { _, err := h.Hash(context.Background(), "pw"); done <- err }()
	<-holding
	<-waiting
	go func() { _, err := h.Hash(context.Background(), "pw"); done <- err }() // the one waiter
	<-waiting
	for h.waiters.Load() != 1 {
		time.Sleep(time.Millisecond)
	}
	enc := legacyVectors[1].encoded
	if _, _, err := h.Verify(context.Background(), enc, "wrong"); !errors.Is(err, ErrBusy) {
		t.Errorf("Verify with the queue full: %v, want ErrBusy", err)
	}
	if err := h.DummyVerify(context.Background(), "wrong"); !errors.Is(err, ErrBusy) {
		t.Errorf("DummyVerify with the queue full: %v, want ErrBusy", err)
	}
	if _, err := h.Hash(context.Background(), "pw"); !errors.Is(err, ErrBusy) {
		t.Errorf("Hash with the queue full: %v, want ErrBusy", err)
	}
	close(gate)
	for range 2 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

func TestHasherWaitBounded(t *testing.T) {
	h := newHasherQueue(1, 10, 20*time.Millisecond, testParams)
	holding, gate := make(chan struct{}), make(chan struct{})
	first := true
	h.hook = func() {
		if first {
			first = false
			close(holding)
			<-gate
		}
	}
	done := make(chan struct{})
	go func() { h.Hash(context.Background(), "pw"); close(done) }()
	<-holding
	if _, _, err := h.Verify(context.Background(), legacyVectors[1].encoded, "x"); !errors.Is(err, ErrBusy) {
		t.Errorf("Verify after waiting too long: %v, want ErrBusy", err)
	}
	close(gate)
	<-done
}

// Issue 7: the rehash after a legacy login must not undo a password change
// made between its verification and its write.
func TestReplaceHashIsConditional(t *testing.T) { testReplaceHashIsConditional(t, sqliteOpener) }

func testReplaceHashIsConditional(t *testing.T, newDB backend) {
	open := newDB(t)
	ctx := context.Background()
	s := open(t)
	h := fastHasher(1)
	legacy := legacyVectors[1].encoded
	if err := s.Add(ctx, User{Name: "bob", Hash: legacy}); err != nil {
		t.Fatal(err)
	}
	passwd, _ := h.Hash(ctx, "new password")
	rehash, _ := h.Hash(ctx, legacyVectors[1].password)
	if err := s.SetHash(ctx, "bob", passwd); err != nil { // port21 user passwd
		t.Fatal(err)
	}
	if err := s.ReplaceHash(ctx, "bob", legacy, rehash); !errors.Is(err, ErrHashChanged) {
		t.Fatalf("stale ReplaceHash: %v, want ErrHashChanged", err)
	}
	if u, _ := s.Get(ctx, "bob"); u.Hash != passwd {
		t.Fatal("stale rehash overwrote the new password")
	}
	if err := s.ReplaceHash(ctx, "bob", passwd, rehash); err != nil {
		t.Fatalf("ReplaceHash of the current hash: %v", err)
	}
	if u, _ := s.Get(ctx, "bob"); u.Hash != rehash {
		t.Fatal("ReplaceHash did not write")
	}
	if err := s.ReplaceHash(ctx, "nobody", passwd, rehash); !errors.Is(err, ErrNotFound) {
		t.Fatalf("ReplaceHash of a missing user: %v, want ErrNotFound", err)
	}
}

// The verification cache is keyed by the stored hash, so after a password
// change the old password is checked against the new hash and fails.
func TestCacheForgetsOldPasswordAfterChange(t *testing.T) {
	ctx := context.Background()
	h := fastHasher(1)
	oldHash, _ := h.Hash(ctx, "old")
	if ok, _, _ := h.Verify(ctx, oldHash, "old"); !ok {
		t.Fatal("old password did not verify")
	}
	if !h.verified.hit(oldHash, "old") {
		t.Fatal("success not cached")
	}
	newHash, _ := h.Hash(ctx, "new")
	if ok, _, _ := h.Verify(ctx, newHash, "old"); ok {
		t.Fatal("cached old password accepted against the new hash")
	}
}

func TestCleartextFrom(t *testing.T) { testCleartextFrom(t, sqliteOpener) }

func testCleartextFrom(t *testing.T, newDB backend) {
	open := newDB(t)
	ctx := context.Background()
	s := open(t)
	h, _ := fastHasher(1).Hash(ctx, "pw")
	lan := mustParsePrefix(t, "203.0.113.0/24")
	s.Add(ctx, User{Name: "tls", Hash: h, Allow: mustParsePrefix(t, "198.51.100.0/24")})
	s.Add(ctx, User{Name: "lan", Hash: h, AllowCleartext: true, Allow: lan})
	check := func(want map[string]bool) {
		t.Helper()
		all, err := s.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for addr, w := range want {
			got, err := s.CleartextFrom(ctx, mustAddr(addr))
			if got != w || err != nil {
				t.Errorf("CleartextFrom(%s) = %v, %v; want %v", addr, got, err, w)
			}
			// The summary answers as the accounts one by one would.
			each := false
			for _, u := range all {
				each = each || u.CleartextAllowedFrom(mustAddr(addr))
			}
			if each != got {
				t.Errorf("CleartextFrom(%s) = %v, but the accounts one by one say %v", addr, got, each)
			}
		}
	}
	check(map[string]bool{"203.0.113.5": true, "::ffff:203.0.113.5": true, "198.51.100.1": false, "127.0.0.1": false, "::1": false})

	// An account in clear without an allow list opens loopback, and a
	// change applies to the next USER.
	s.Add(ctx, User{Name: "local", Hash: h, AllowCleartext: true})
	s.Add(ctx, User{Name: "v6", Hash: h, AllowCleartext: true, Allow: mustParsePrefix(t, "2001:db8:21::/48")})
	check(map[string]bool{"127.0.0.1": true, "::1": true, "::ffff:127.0.0.1": true, "2001:db8:21::9": true, "2001:db8:22::9": false, "198.51.100.1": false})
	u, err := s.Get(ctx, "local")
	if err != nil {
		t.Fatal(err)
	}
	u.AllowCleartext = false
	if err := s.Update(ctx, u); err != nil {
		t.Fatal(err)
	}
	check(map[string]bool{"127.0.0.1": false, "203.0.113.5": true, "2001:db8:21::9": true})
	if err := s.Delete(ctx, "lan"); err != nil {
		t.Fatal(err)
	}
	check(map[string]bool{"203.0.113.5": false, "2001:db8:21::9": true})

	// A change from another process (the CLI, another node) applies at once.
	if err := open(t).Add(ctx, User{Name: "other", Hash: h, AllowCleartext: true, Allow: mustParsePrefix(t, "198.51.100.0/24")}); err != nil {
		t.Fatal(err)
	}
	check(map[string]bool{"198.51.100.1": true, "203.0.113.5": false})
}

func mustParsePrefix(t *testing.T, s string) []netip.Prefix {
	t.Helper()
	p, err := ParsePrefix(s)
	if err != nil {
		t.Fatal(err)
	}
	return []netip.Prefix{p}
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }
