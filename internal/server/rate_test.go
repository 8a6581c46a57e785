package server

import (
	"bytes"
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
