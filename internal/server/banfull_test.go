package server

import (
	"context"
	"errors"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/port21/port21/internal/config"
	"github.com/port21/port21/internal/users"
)

// fullBanStore is the store of a full disk: PutBan fails while full is set.
type fullBanStore struct {
	BanStore
	full atomic.Bool
}

func (f *fullBanStore) PutBan(ctx context.Context, b users.Ban) error {
	if f.full.Load() {
		return errors.New("database or disk is full (13)")
	}
	return f.BanStore.PutBan(ctx, b)
}

// TestBanMadeOnFullDiskHolds: the defender bans an address while the store
// cannot be written (a full disk). The ban must hold in memory when another
// process changes the store's bans (`port21 ban add`), which makes the
// server reload them, and it must reach the store once it can be written,
// so that a restart keeps it too.
func TestBanMadeOnFullDiskHolds(t *testing.T) {
	dir := t.TempDir()
	var fs *fullBanStore
	shared := func(c *config.Config) { c.DataDir = dir; c.MaxLoginFailures = 2 }
	ts := startServer(t, shared, func(o *Options, st *users.Store) {
		fs = &fullBanStore{BanStore: st}
		fs.full.Store(true)
		o.Bans = fs
	})
	ts.addUser(t, "alice", nil)
	for range 2 {
		rc := ts.rawFrom(t, "127.0.0.44")
		rc.startTLS(clientTLS())
		rc.cmd(331, "USER alice")
		rc.try("PASS wrong")
	}
	if !dropped(t, ts.addr, "127.0.0.44") {
		t.Fatal("not banned")
	}
	// Another process bans something else: the server reloads the store's
	// bans, where 127.0.0.44 is missing.
	if err := ts.store.PutBan(context.Background(), users.Ban{Prefix: netip.MustParsePrefix("127.0.9.0/24"),
		Until: time.Now().Add(time.Hour), Reason: "manual", Created: time.Now()}); err != nil {
		t.Fatal(err)
	}
	// Bans are re-read every second, but each probe may wait 3 s.
	if !eventually(15*time.Second, func() bool { return dropped(t, ts.addr, "127.0.9.9") }) {
		t.Fatal("the ban from the other process did not arrive")
	}
	if !dropped(t, ts.addr, "127.0.0.44") {
		t.Error("the ban the store could not take was forgotten when the server reloaded the store's bans")
	}
	// Space is back: the ban reaches the store.
	fs.full.Store(false)
	if !eventually(15*time.Second, func() bool {
		bans, _ := ts.store.Bans(context.Background())
		for _, b := range bans {
			if b.Prefix == netip.MustParsePrefix("127.0.0.44/32") {
				return true
			}
		}
		return false
	}) {
		t.Fatal("the ban never reached the store once it could be written")
	}
	ts.stop()
	ts2 := startServer(t, shared)
	if !dropped(t, ts2.addr, "127.0.0.44") {
		t.Error("the ban did not survive a restart")
	}
}
