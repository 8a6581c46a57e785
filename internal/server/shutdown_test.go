package server

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Shutdown ends every session and everything they started: a passive port
// waiting, a download the client stopped reading, a HASH of a huge file.
// Serve returns only when the server's wait group is empty, and then no
// goroutine of the package is left (the one leak this found: a dropped
// passive plan waited forever for a connection a transfer had taken).
func TestShutdownLeavesNoGoroutines(t *testing.T) {
	ts := startServer(t)
	ts.addUser(t, "alice", nil)
	home := ts.home("alice")
	writeFile(t, filepath.Join(home, "big"), bytes.Repeat([]byte("z"), 32<<20))
	writeFile(t, filepath.Join(home, "huge"), nil)
	if err := os.Truncate(filepath.Join(home, "huge"), 64<<30); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- ts.srv.Serve(ctx, ln, false) }()
	other := *ts
	other.addr = ln.Addr().String()

	done1 := other.raw(t) // a finished transfer, so its plan was dropped
	done1.login("alice", clientTLS())
	done1.transfer("NLST", nil, 226)

	waiting := other.raw(t) // a passive port nobody connects to
	waiting.login("alice", clientTLS())
	waiting.epsv()

	stalled := other.raw(t) // a download the client stopped reading
	cfg := clientTLS()
	stalled.login("alice", cfg)
	addr := stalled.epsv()
	stalled.send("RETR big")
	dc, err := dialData(t, addr, "", cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer dc.Close()
	stalled.expect(150)

	hashing := other.raw(t)
	hashing.login("alice", clientTLS())
	hashing.send("HASH huge")
	time.Sleep(100 * time.Millisecond)

	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after shutdown")
	}
	var left []string
	for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		left = serverGoroutines()
		if len(left) == 0 || time.Now().After(deadline) {
			break
		}
	}
	if len(left) > 0 {
		t.Errorf("%d goroutines of the server outlived its shutdown:\n%s", len(left), strings.Join(left, "\n\n"))
	}
}

// serverGoroutines returns the stacks of goroutines running server code,
// leaving out the tests and the Serve loop of startServer's own listener.
func serverGoroutines() []string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if !strings.Contains(g, "port21/internal/server.") ||
			strings.Contains(g, "internal/server.Test") ||
			strings.Contains(g, "internal/server.(*Server).Serve(") ||
			strings.Contains(g, "internal/server.startServer") {
			continue
		}
		out = append(out, g)
	}
	return out
}
