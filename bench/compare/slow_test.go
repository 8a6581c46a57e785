package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
)

// TestSlowServices checks that each awkward service of the scan mix
// behaves as its description says, so the bench measures what it claims.
func TestSlowServices(t *testing.T) {
	ctx := context.Background()
	for _, s := range slowServices() {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			port, stop, err := startSlow(ctx, s)
			if err != nil {
				t.Fatal(err)
			}
			defer stop()
			c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			r := bufio.NewReader(c)
			line := func(d time.Duration) (string, time.Duration, error) {
				start := time.Now()
				c.SetReadDeadline(start.Add(d))
				l, err := r.ReadString('\n')
				return l, time.Since(start), err
			}
			switch s.name {
			case "silent":
				if l, _, err := line(500 * time.Millisecond); err == nil || l != "" {
					t.Errorf("said %q (%v)", l, err)
				}
			case "late-banner", "trickle":
				l, took, err := line(10 * time.Second)
				if err != nil || !strings.HasPrefix(l, "220 ") || took < 2*time.Second {
					t.Errorf("greeting %q after %v (%v), want a 220 after seconds", l, took, err)
				}
				fmt.Fprint(c, "USER anonymous\r\n")
				if l, _, err := line(2 * time.Second); err != nil || !strings.HasPrefix(l, "331 ") {
					t.Errorf("USER answered %q (%v)", l, err)
				}
			case "tls-stall":
				if l, _, err := line(2 * time.Second); err != nil || !strings.HasPrefix(l, "220 ") {
					t.Fatalf("greeting %q (%v)", l, err)
				}
				fmt.Fprint(c, "AUTH TLS\r\n")
				if l, _, err := line(2 * time.Second); err != nil || !strings.HasPrefix(l, "234 ") {
					t.Fatalf("AUTH TLS answered %q (%v)", l, err)
				}
				fmt.Fprint(c, "\x16\x03\x01\x00\x05hello")
				if l, _, err := line(500 * time.Millisecond); err == nil || l != "" {
					t.Errorf("answered the hello with %q (%v)", l, err)
				}
			case "not-ftp":
				if l, _, err := line(2 * time.Second); err != nil || !strings.HasPrefix(l, "SSH-2.0-") {
					t.Errorf("greeting %q (%v)", l, err)
				}
			default:
				t.Fatalf("no test for %s", s.name)
			}
		})
	}
}
