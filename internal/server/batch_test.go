package server

import (
	"bytes"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// countingConn counts the writes that reach the connection, and can make
// each one take a while, as a slow client's would.
type countingConn struct {
	net.Conn
	mu     sync.Mutex
	writes []int
	delay  time.Duration
}

func (c *countingConn) Write(b []byte) (int, error) {
	c.mu.Lock()
	c.writes = append(c.writes, len(b))
	delay := c.delay
	c.mu.Unlock()
	time.Sleep(delay)
	return c.Conn.Write(b)
}

func (c *countingConn) SetDeadline(time.Time) error { return nil }

// TestStallConnBatch: a download's records reach the client whole and in
// order, in fewer writes than records, none larger than maxBatch; once
// writes go slowly the batch shrinks back to minBatch, so that a slow
// client still gets a write within each data-timeout.
func TestStallConnBatch(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	cc := &countingConn{Conn: a}
	w := &stallConn{Conn: cc, timeout: time.Minute}
	var want bytes.Buffer
	got := make(chan []byte)
	go func() {
		all, _ := io.ReadAll(b)
		got <- all
	}()
	write := func(from, to int) {
		t.Helper()
		for i := from; i < to; i++ {
			rec := bytes.Repeat([]byte{byte(i)}, maxRecord-100+i%7) // records differ in length
			want.Write(rec)
			if _, err := w.Write(rec); err != nil {
				t.Fatal(err)
			}
		}
	}
	w.startBatch(make([]byte, 0, maxBatch))
	write(0, 40)
	fast := len(cc.writes)
	if fast > 40/4 || w.limit != maxBatch {
		t.Errorf("%d writes for 40 records, batch limit %d (want maxBatch %d): not batched", fast, w.limit, maxBatch)
	}
	w.timeout = 40 * time.Millisecond
	cc.mu.Lock()
	cc.delay = 30 * time.Millisecond // over half the data-timeout
	cc.mu.Unlock()
	write(40, 60)
	if w.limit != minBatch {
		t.Errorf("batch limit %d after slow writes, want minBatch %d", w.limit, minBatch)
	}
	if err := w.endBatch(); err != nil {
		t.Fatal(err)
	}
	a.Close()
	if !bytes.Equal(<-got, want.Bytes()) {
		t.Fatal("the client did not get the records whole and in order")
	}
	for _, n := range cc.writes {
		if n > maxBatch {
			t.Errorf("a write of %d bytes, more than maxBatch %d", n, maxBatch)
		}
	}
}
