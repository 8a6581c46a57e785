package users

import (
	"context"
	"testing"
	"time"
)

func TestVerifiedCache(t *testing.T) {
	now := time.Unix(0, 0)
	c := newVerifiedCache(time.Minute, 2)
	c.now = func() time.Time { return now }
	if c.hit("h", "pw") {
		t.Fatal("empty cache hit")
	}
	c.add("h", "pw")
	if !c.hit("h", "pw") {
		t.Fatal("miss after add")
	}
	for _, tc := range []struct{ enc, pw string }{{"h", "pw2"}, {"h2", "pw"}, {"hp", "w"}} {
		if c.hit(tc.enc, tc.pw) {
			t.Errorf("hit for %q/%q", tc.enc, tc.pw)
		}
	}
	now = now.Add(time.Minute)
	if c.hit("h", "pw") {
		t.Fatal("hit after expiry")
	}
	c.add("a", "1")
	c.add("b", "2")
	c.add("c", "3") // over max: the cache empties rather than grows
	if len(c.entries) > 2 {
		t.Fatalf("cache grew to %d entries", len(c.entries))
	}
}

// A cached success must not survive a password change or accept a wrong password.
func TestVerifyUsesCacheOnlyForSuccess(t *testing.T) {
	ctx := context.Background()
	h := NewHasher(1)
	enc, err := h.Hash(ctx, "right")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if ok, _, err := h.Verify(ctx, enc, "right"); !ok || err != nil {
			t.Fatalf("verify #%d: %v %v", i, ok, err)
		}
		if ok, _, _ := h.Verify(ctx, enc, "wrong"); ok {
			t.Fatalf("wrong password accepted on try %d", i)
		}
	}
	enc2, _ := h.Hash(ctx, "new")
	if ok, _, _ := h.Verify(ctx, enc2, "right"); ok {
		t.Fatal("old password accepted against the new hash")
	}
}
