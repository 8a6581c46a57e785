package server

import (
	"bytes"
	"io"
	"testing"
	"time"
)

// TestIdleRelease: memory goes back once, after the last transfer ends and
// the server stays quiet; never while a transfer runs, and a transfer that
// starts in the quiet time puts it off.
func TestIdleRelease(t *testing.T) {
	released := make(chan struct{}, 10)
	r := newIdleRelease()
	r.after = 50 * time.Millisecond
	r.release = func() { released <- struct{}{} }
	none := func(step string, d time.Duration) {
		t.Helper()
		select {
		case <-released:
			t.Fatalf("%s: released", step)
		case <-time.After(d):
		}
	}
	once := func(step string) { t.Helper(); waitReleased(t, released, step) }

	r.begin()
	r.begin()
	r.end()
	none("one of two transfers still running", 200*time.Millisecond)
	r.end()
	once("after the last transfer")
	none("released twice", 200*time.Millisecond)

	// A transfer that starts and ends within the quiet time moves it on;
	// one that is still running when it passes stops it.
	r.begin()
	r.end()
	r.begin()
	none("a transfer running", 200*time.Millisecond)
	r.end()
	once("after the second quiet time")

	// A login or a session's end arms it too, but not while a transfer runs.
	r.begin()
	r.poke()
	none("a session ended while a transfer runs", 200*time.Millisecond)
	r.end()
	<-released
	r.poke()
	once("after a session ended")
}

// TestServerReleasesAfterTransfers: the server's transfers drive the
// release: none while a download is held open, one once it has ended.
func TestServerReleasesAfterTransfers(t *testing.T) {
	ts := startServer(t)
	released := make(chan struct{}, 10)
	ts.srv.idle.after = 50 * time.Millisecond
	ts.srv.idle.release = func() { released <- struct{}{} }
	ts.addUser(t, "alice", nil)
	writeFile(t, ts.home("alice")+"/f.bin", bytes.Repeat([]byte("x"), 8<<20))
	c := ts.dial(t, "alice", clientTLS())
	r, err := c.Retr("f.bin")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(r, make([]byte, 1<<20)); err != nil {
		t.Fatal(err)
	}
	select {
	case <-released:
		t.Fatal("released while a download was running")
	case <-time.After(300 * time.Millisecond):
	}
	if _, err := io.Copy(io.Discard, r); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	waitReleased(t, released, "after the download")
}

// waitReleased fails t unless a release comes within 10 s.
func waitReleased(t *testing.T, released <-chan struct{}, step string) {
	t.Helper()
	select {
	case <-released:
	case <-time.After(10 * time.Second):
		t.Fatalf("not released %s", step)
	}
}
