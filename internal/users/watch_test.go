package users

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"
)

func TestGetSeesOtherHandlesAtOnce(t *testing.T) {
	t.Run("inotify", func(t *testing.T) { testGetSeesOtherHandlesAtOnce(t, sqliteOpener) })
	t.Run("data_version", func(t *testing.T) { testGetSeesOtherHandlesAtOnce(t, dataVersionOpener) })
}

// dataVersionOpener is sqliteOpener with the change watch on SQLite's
// data_version, as where inotify cannot be had.
func dataVersionOpener(t *testing.T) opener {
	open := sqliteOpener(t)
	return func(t *testing.T) *Store {
		s := open(t)
		s.watch.close()
		w, err := newDataVersionWatch(context.Background(), s.db)
		if err != nil {
			t.Fatal(err)
		}
		s.watch = w
		return s
	}
}

// testGetSeesOtherHandlesAtOnce: the server reads an account before every
// command so that the CLI's changes apply at once. Whatever Get keeps
// between reads (SQLite's changeWatch), every change another handle (the
// CLI, another process) commits is in the very next Get: a new password,
// read-only, an allow list, a disabled account, a deletion, and a re-add.
func testGetSeesOtherHandlesAtOnce(t *testing.T, newDB backend) {
	open := newDB(t)
	ctx := context.Background()
	server, cli := open(t), open(t)
	if err := cli.Add(ctx, User{Name: "bob", Hash: hashA, Allow: prefixes("192.0.2.0/24")}); err != nil {
		t.Fatal(err)
	}
	get := func(step string) User {
		t.Helper()
		var u User
		for range 3 { // repeated reads are where anything kept would show
			var err error
			if u, err = server.Get(ctx, "bob"); err != nil {
				t.Fatalf("%s: %v", step, err)
			}
		}
		return u
	}
	if u := get("first read"); u.Hash != hashA {
		t.Fatalf("first read: %+v", u)
	}
	if err := cli.SetHash(ctx, "bob", hashB); err != nil {
		t.Fatal(err)
	}
	if u := get("after passwd"); u.Hash != hashB {
		t.Errorf("password change not seen at once: hash %q", u.Hash)
	}
	u := get("before mod")
	u.Hash, u.ReadOnly, u.Allow = "", true, prefixes("198.51.100.0/24")
	if err := cli.Update(ctx, u); err != nil {
		t.Fatal(err)
	}
	if u := get("after mod"); !u.ReadOnly || len(u.Allow) != 1 || u.Allow[0] != netip.MustParsePrefix("198.51.100.0/24") {
		t.Errorf("mod not seen at once: %+v", u)
	}
	// A caller that changes what Get returned changes nothing kept.
	mine := get("mine")
	mine.Allow[0] = netip.MustParsePrefix("0.0.0.0/0")
	if u := get("after a caller's change"); u.Allow[0] != netip.MustParsePrefix("198.51.100.0/24") {
		t.Errorf("a caller's change to a returned account leaked into the next Get: %v", u.Allow)
	}
	u = get("before disable")
	u.Hash, u.Disabled = "", true
	if err := cli.Update(ctx, u); err != nil {
		t.Fatal(err)
	}
	if u := get("after disable"); u.Blocked(time.Now()) == "" {
		t.Errorf("disable not seen at once: %+v", u)
	}
	if err := cli.Delete(ctx, "bob"); err != nil {
		t.Fatal(err)
	}
	if _, err := server.Get(ctx, "bob"); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleted account still read: %v", err)
	}
	if err := cli.Add(ctx, User{Name: "bob", Hash: hashA}); err != nil {
		t.Fatal(err)
	}
	if u := get("after re-add"); u.Hash != hashA || u.ReadOnly || u.Disabled || len(u.Allow) != 0 {
		t.Errorf("re-added account read as the old one: %+v", u)
	}
}

// TestGetUnderConcurrentChanges: readers hammer Get while another handle
// changes the hash; once a change has returned, no Get that starts after it
// may return the old hash. Run with -race.
func TestGetUnderConcurrentChanges(t *testing.T) {
	t.Run("inotify", func(t *testing.T) { testGetUnderConcurrentChanges(t, sqliteOpener) })
	t.Run("data_version", func(t *testing.T) { testGetUnderConcurrentChanges(t, dataVersionOpener) })
}

func testGetUnderConcurrentChanges(t *testing.T, newDB backend) {
	open := newDB(t)
	ctx := context.Background()
	server, cli := open(t), open(t)
	if err := cli.Add(ctx, User{Name: "bob", Hash: hashA}); err != nil {
		t.Fatal(err)
	}
	var mu sync.RWMutex
	want := hashA // the hash committed last; written under mu
	stop := make(chan struct{})
	errc := make(chan error, 8)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				mu.RLock() // no change can commit while this Get runs
				u, err := server.Get(ctx, "bob")
				w := want
				mu.RUnlock()
				if err == nil && u.Hash != w {
					err = fmt.Errorf("Get returned hash %.20q after %.20q was committed", u.Hash, w)
				}
				if err != nil {
					errc <- err
					return
				}
			}
		})
	}
	for i := range 40 {
		h := []string{hashA, hashB}[i%2]
		mu.Lock()
		if err := cli.SetHash(ctx, "bob", h); err != nil {
			mu.Unlock()
			t.Fatal(err)
		}
		want = h
		mu.Unlock()
		time.Sleep(time.Millisecond)
	}
	close(stop)
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
}
