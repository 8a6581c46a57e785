package server

import (
	"runtime"
	"runtime/debug"
	"sync"
	"time"
)

// releaseAfter is how long the server must have been quiet (no transfer
// running, no login, no session ending) before it gives the memory it no
// longer uses back to the system.
const releaseAfter = 2 * time.Second

// idleRelease gives memory back once the server settles. A large transfer
// over TLS takes a megabyte buffer from Server.tlsBuffers and crypto/tls
// grows its own, and a burst of logins grows handshake state and stacks;
// after them Go keeps the freed heap for reuse, and the pool keeps its
// buffers until garbage collections that an idle server does not run for
// minutes, so a server that had moved a few gigabytes sat on megabytes it
// no longer needed. Two collections empty the pool (its victim cache
// survives one) and shrink oversized stacks; FreeOSMemory then returns
// every free page. Both cost a millisecond or two on an idle heap, and a
// busy server never reaches them.
type idleRelease struct {
	mu      sync.Mutex
	running int
	gen     uint64 // counts transfers started and pokes
	armed   uint64 // gen when the timer was last set: anything since, and it does nothing
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
	r.arm()
}

// poke counts a session's login or end: what a burst of sessions took
// (handshakes' buffers, stacks grown by them) goes back once they settle.
func (r *idleRelease) poke() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.gen++
	r.arm()
}

// arm sets the timer if no transfer runs; r.mu is held.
func (r *idleRelease) arm() {
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
