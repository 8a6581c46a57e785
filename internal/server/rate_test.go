package server

import (
	"bytes"
	"io"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/port21/port21/internal/users"
)

// TestUploadRateIsSharedBySessions: an account limited to 100 KiB/s up
// that uploads 250 KiB in each of two sessions at once moves 500 KiB at
// 100 KiB/s between them, so it takes at least about 4 s (the first
// 100 KiB burst is free); without the limit, or with one limit per
// session, it would take well under 2.5 s. Only a lower bound is checked:
// a slow machine can only make it slower.
func TestUploadRateIsSharedBySessions(t *testing.T) {
	ts := startServer(t)
	ts.addUser(t, "slow", func(u *users.User) { u.RateUp = 100 << 10 })
	body := bytes.Repeat([]byte("r"), 250<<10)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range 2 {
		c := ts.dial(t, "slow", clientTLS())
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.Stor([]string{"a", "b"}[i], bytes.NewReader(body)); err != nil {
				t.Errorf("STOR: %v", err)
			}
		}()
	}
	wg.Wait()
	if took := time.Since(start); took < 3*time.Second {
		t.Errorf("500 KiB at a shared 100 KiB/s took %s", took)
	}
}

// TestRateLimitedTLSDownloadStartsAtOnce: a download limited to 16 KiB/s
// over TLS sends its first bytes at once, as the limit allows, instead of
// after the megabyte the TLS copy used to collect first (a minute at that
// rate, past the timeouts of FileZilla and WinSCP). The client gives the
// first byte 10 s; the limit's burst alone is 16 KiB.
func TestRateLimitedTLSDownloadStartsAtOnce(t *testing.T) {
	ts := startServer(t)
	ts.addUser(t, "slow", func(u *users.User) { u.RateDown = 16 << 10 })
	writeFile(t, filepath.Join(ts.home("slow"), "big.bin"), bytes.Repeat([]byte("d"), 2<<20))
	rc := ts.raw(t)
	rc.login("slow", clientTLS())
	addr := rc.epsv()
	rc.send("RETR big.bin")
	dc, err := dialData(t, addr, "", rc.tls)
	if err != nil {
		t.Fatal(err)
	}
	defer dc.Close()
	rc.expect(150)
	start := time.Now()
	dc.SetReadDeadline(start.Add(10 * time.Second))
	got, err := io.ReadAtLeast(dc, make([]byte, 32<<10), 1)
	if err != nil {
		t.Fatalf("no data within %s of the 150 (read %d bytes): %v", time.Since(start).Round(time.Millisecond), got, err)
	}
}
