package sockets

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/port21/port21/internal/ftp"
)

// DialAddr is where to reach the listener from this machine: its own
// address, or loopback when it listens on every address.
func (l Listener) DialAddr() netip.AddrPort {
	a := l.Addr
	switch {
	case a == netip.IPv4Unspecified():
		a = netip.AddrFrom4([4]byte{127, 0, 0, 1})
	case a == netip.IPv6Unspecified():
		a = netip.IPv6Loopback()
	}
	return netip.AddrPortFrom(a, l.Port)
}

// ProbeFTP connects to the listener and reads its greeting; ok is true when
// it is an FTP greeting (220, or 120/421 "busy"). The greeting is from a
// local process but may be anything: it is read with the ftp package's
// line and size limits and returned as text only.
func ProbeFTP(ctx context.Context, l Listener, timeout time.Duration) (greeting string, ok bool) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", l.DialAddr().String())
	if err != nil {
		return "", false
	}
	defer c.Close()
	deadline, _ := ctx.Deadline()
	_ = c.SetDeadline(deadline)
	r, err := ftp.ReadReplyLimit(ftp.NewReader(c), 20)
	if err != nil {
		return "", false
	}
	switch r.Code {
	case 220, 120, 421:
		return strings.Join(r.Lines, " "), true
	}
	return "", false
}

// ProbeAll probes every listener, at most concurrency at a time, and
// returns the greetings of those that answered like FTP, by index.
func ProbeAll(ctx context.Context, ls []Listener, timeout time.Duration, concurrency int) map[int]string {
	if concurrency < 1 {
		concurrency = 1
	}
	out := map[int]string{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, concurrency)
	for i, l := range ls {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if g, ok := ProbeFTP(ctx, l, timeout); ok {
				mu.Lock()
				out[i] = g
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return out
}
