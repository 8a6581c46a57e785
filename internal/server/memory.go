package server

import (
	"runtime"
	"runtime/debug"
	"sync"
	"time"
)

// releaseAfter is how long the server must have had no transfer running
// before it gives the memory the transfers used back to the system.
const releaseAfter = 2 * time.Second

// idleRelease gives memory back once transfers stop. A large transfer over
// TLS takes a megabyte buffer from Server.tlsBuffers and crypto/tls grows
// its own; after it, Go keeps the freed heap for reuse and the pool keeps
// its buffers until garbage collections that an idle server does not run
// for minutes, so a server that moved a few gigabytes sat on megabytes it
// no longer needed. Two collections empty the pool (its victim cache
// survives one); FreeOSMemory then returns every free page. Both cost a
// millisecond or two on an idle heap, and a busy server never reaches them.
type idleRelease struct {
	mu      sync.Mutex
	running int
	gen     uint64 // counts transfers started
	armed   uint64 // gen when the timer was last set: a transfer since, and it does nothing
	timer   *time.Timer
	after   time.Duration
	release func() // tests replace it
}

func newIdleRelease() *idleRelease {
	return &idleRelease{after: releaseAfter, release: func() {
		runtime.GC()
		debug.FreeOSMemory()
	}}
}

func (r *idleRelease) begin() {
	r.mu.Lock()
	r.running++
	r.gen++
	r.mu.Unlock()
}

func (r *idleRelease) end() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.running--
	if r.running > 0 {
		return
	}
	r.armed = r.gen
	if r.timer == nil {
		r.timer = time.AfterFunc(r.after, r.fire)
		return
	}
	r.timer.Reset(r.after)
}

func (r *idleRelease) fire() {
	r.mu.Lock()
	quiet := r.running == 0 && r.gen == r.armed
	r.mu.Unlock()
	if quiet {
		r.release()
	}
}
