package users

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/argon2"
)

// MaxPasswordLen is the longest password, in bytes, that Hasher accepts.
// argon2id's cost does not depend much on the password's length, but the
// legacy crypt schemes' does (sha512-crypt hashes the password once per
// round), so a bound keeps a megabyte "password" from costing seconds of CPU.
const MaxPasswordLen = 1024

// argon2Params are argon2id's cost parameters and output sizes.
type argon2Params struct {
	memory  uint32 // KiB
	time    uint32 // passes over memory
	threads uint8  // lanes
	saltLen int    // bytes
	keyLen  int    // bytes
}

// defaultParams are the parameters new hashes get: m=64 MiB, t=2, p=2.
//
// RFC 9106 section 4 recommends t=1 with m=2 GiB, or, where memory is
// constrained, t=3 with m=64 MiB; both with p=4. A server verifying logins is
// memory-constrained (it may verify several at once) and time-constrained (a
// login should cost well under a tenth of a second, or users feel it and a
// login flood ties up the CPU). So this keeps the RFC's 64 MiB, which is what
// makes each guess expensive on GPUs for someone who stole the database, and
// spends the time budget on two passes instead of three, with two lanes to
// match the small 2-core machines the server targets. Measured on such a
// machine (shared with other load): t=1 about 60 ms, t=2 about 110 ms, t=3
// about 190 ms. With the default semaphore of one slot per core, a login
// flood costs at most 2 x 64 MiB and two cores.
//
// The salt is 16 bytes and the key 32, as RFC 9106 recommends. Raising any
// of these later is safe: Verify reports older hashes as needing a rehash.
func defaultParams() argon2Params {
	return argon2Params{memory: 64 * 1024, time: 2, threads: 2, saltLen: 16, keyLen: 32}
}

// Limits on stored hashes. Hashes come from the administrator, not from the
// network, but a corrupt or careless entry must not let one login take
// gigabytes of memory or minutes of CPU: Verify refuses anything above these.
const (
	maxArgon2Memory  = 256 * 1024 // KiB, i.e. 256 MiB
	maxArgon2Time    = 32
	maxArgon2Threads = 64
	minArgon2Salt    = 8
	maxArgon2Salt    = 64
	minArgon2Key     = 16
	maxArgon2Key     = 128
)

// Hasher hashes and verifies passwords.
//
// argon2id is memory-hard, which is the point, but it also means a login
// flood could exhaust the server's memory if every attempt hashed at once. A
// Hasher therefore runs at most a fixed number of hash computations
// concurrently; the others wait for a slot, and give up when their context
// is cancelled. The queue is bounded too, in length and in time: an
// unbounded queue let a flood of wrong passwords delay a real login for
// tens of seconds (issue 7). Beyond the bound calls fail at once with
// ErrBusy, which the server answers "busy, try again" without counting a
// failed login.
//
// A Hasher is safe for concurrent use.
type Hasher struct {
	sem    chan struct{}
	params argon2Params
	// waiters counts callers waiting for a slot, at most maxWaiting, each
	// for at most maxWait.
	waiters    atomic.Int64
	maxWaiting int64
	maxWait    time.Duration
	// dummySalt feeds DummyVerify: random per Hasher so the dummy work cannot
	// be precomputed, and fixed so DummyVerify does not read crypto/rand.
	dummySalt []byte
	// verified remembers recent successful verifications (see verifiedCache).
	verified *verifiedCache
	// freeing is set while a return of memory to the OS is scheduled;
	// lastEnd is when the last computation ended, as time since born (a
	// monotonic clock); free gives the memory back (tests replace it).
	freeing   atomic.Bool
	lastEnd   atomic.Int64
	born      time.Time
	freeAfter time.Duration
	free      func()
	// hook and waiting, when set (by tests only), run while a slot is held
	// and just before waiting for one, so tests can observe the concurrency
	// without relying on timing.
	hook, waiting func()
}

// NewHasher returns a Hasher that runs at most maxConcurrent hash
// computations at a time. maxConcurrent <= 0 means one per CPU
// (runtime.GOMAXPROCS), which keeps a flood of logins from taking more than
// the machine's cores and maxConcurrent*64 MiB of memory.
//
// At most 8 callers per slot wait, each for at most 5 s; the others get
// ErrBusy. At about 0.1 s per hash the queue drains in under a second, so a
// real login waits at most about that long behind a flood, instead of
// timing out.
func NewHasher(maxConcurrent int) *Hasher {
	return newHasher(maxConcurrent, defaultParams())
}

// NewHasherQueue is NewHasher with the queue's bounds: at most maxWaiting
// callers wait for a slot (0: 8 per slot; negative: none), each for at most
// maxWait (0: 5 s).
func NewHasherQueue(maxConcurrent, maxWaiting int, maxWait time.Duration) *Hasher {
	return newHasherQueue(maxConcurrent, maxWaiting, maxWait, defaultParams())
}

func newHasher(maxConcurrent int, p argon2Params) *Hasher {
	return newHasherQueue(maxConcurrent, 0, 0, p)
}

func newHasherQueue(maxConcurrent, maxWaiting int, maxWait time.Duration, p argon2Params) *Hasher {
	if maxConcurrent <= 0 {
		maxConcurrent = runtime.GOMAXPROCS(0)
	}
	switch {
	case maxWaiting == 0:
		maxWaiting = 8 * maxConcurrent
	case maxWaiting < 0:
		maxWaiting = 0
	}
	if maxWait <= 0 {
		maxWait = 5 * time.Second
	}
	salt := make([]byte, p.saltLen)
	rand.Read(salt) // never fails (crypto/rand documents it)
	return &Hasher{
		sem:        make(chan struct{}, maxConcurrent),
		params:     p,
		maxWaiting: int64(maxWaiting),
		maxWait:    maxWait,
		dummySalt:  salt,
		verified:   newVerifiedCache(15*time.Minute, 4096),
		born:       time.Now(),
		freeAfter:  freeAfter,
		free:       debug.FreeOSMemory,
	}
}

// ValidatePassword reports whether password may be hashed: it must be
// non-empty and at most MaxPasswordLen bytes. The error wraps ErrBadPassword.
func ValidatePassword(password string) error {
	switch {
	case password == "":
		return fmt.Errorf("%w: empty", ErrBadPassword)
	case len(password) > MaxPasswordLen:
		return fmt.Errorf("%w: longer than %d bytes", ErrBadPassword, MaxPasswordLen)
	}
	return nil
}

// acquire waits for a hashing slot. It returns ctx.Err() if ctx is done
// first, even when a slot is free, so a cancelled login never starts work,
// and an error wrapping ErrBusy when the queue is full or the wait too long.
func (h *Hasher) acquire(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if h.waiting != nil {
		h.waiting()
	}
	select {
	case h.sem <- struct{}{}:
		return h.acquired()
	default:
	}
	if h.waiters.Add(1) > h.maxWaiting {
		h.waiters.Add(-1)
		return fmt.Errorf("users: %w: %d already waiting", ErrBusy, h.maxWaiting)
	}
	defer h.waiters.Add(-1)
	t := time.NewTimer(h.maxWait)
	defer t.Stop()
	select {
	case h.sem <- struct{}{}:
		return h.acquired()
	case <-t.C:
		return fmt.Errorf("users: %w: no slot within %v", ErrBusy, h.maxWait)
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (h *Hasher) acquired() error {
	if h.hook != nil {
		h.hook()
	}
	return nil
}

func (h *Hasher) release() {
	h.lastEnd.Store(int64(time.Since(h.born)))
	<-h.sem
	if len(h.sem) == 0 && h.freeing.CompareAndSwap(false, true) {
		time.AfterFunc(h.freeAfter, h.freeMemory)
	}
}

// freeAfter is how long the Hasher must have been quiet (no computation
// running or ended since) before it gives memory back: logins that follow
// each other reuse the same memory. Each computation allocates its whole
// memory cost at once, and on a VM faulting 64 MiB of fresh pages in costs
// more CPU than the hash (348 against 110-128 ms here), so memory given
// back between two logins triples the second's cost. The wait used to run
// from the first computation of a burst, and memory went back in the middle
// of any stream of logins slower than five a second.
const freeAfter = time.Second

// freeMemory gives the memory of finished argon2id computations back to the
// OS once the Hasher has been quiet for freeAfter, and otherwise waits
// again. Without it the runtime would keep that heap, and the process's
// resident size, for minutes after a single login: an idle server would
// stay as big as its busiest moment.
func (h *Hasher) freeMemory() {
	if len(h.sem) > 0 {
		time.AfterFunc(h.freeAfter, h.freeMemory) // a computation runs: wait from its end
		return
	}
	end := h.lastEnd.Load()
	if quiet := time.Since(h.born) - time.Duration(end); quiet < h.freeAfter {
		time.AfterFunc(h.freeAfter-quiet, h.freeMemory)
		return
	}
	h.free()
	h.freeing.Store(false)
	// One that ended meanwhile found freeing set and scheduled nothing.
	if h.lastEnd.Load() != end && h.freeing.CompareAndSwap(false, true) {
		time.AfterFunc(h.freeAfter, h.freeMemory)
	}
}

// Hash returns the argon2id hash of password as a PHC string,
// "$argon2id$v=19$m=65536,t=2,p=2$<salt>$<key>", with salt and key in
// unpadded standard base64. It waits for a hashing slot and returns
// ctx.Err() if ctx is done first.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	if err := ValidatePassword(password); err != nil {
		return "", fmt.Errorf("users: hash: %w", err)
	}
	salt := make([]byte, h.params.saltLen)
	rand.Read(salt)
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	p := h.params
	key := argon2.IDKey([]byte(password), salt, p.time, p.memory, p.threads, uint32(p.keyLen))
	return encodeArgon2id(p, salt, key), nil
}

// Verify reports whether password matches the encoded hash, in time that
// does not depend on how much of it matches.
//
// encoded may be an argon2id PHC string, as Hash makes, or a legacy crypt
// string imported from /etc/shadow, vsftpd (PAM) or Pure-FTPd: bcrypt
// ($2a$, $2b$, $2y$), sha512-crypt ($6$), sha256-crypt ($5$) or yescrypt
// ($y$). needsRehash is true when the password matched but the hash is
// legacy or argon2id with weaker parameters than Hash uses now: the caller
// should then store a fresh Hash of the password, since after a successful
// login is the only time it is known.
//
// err is non-nil, and ok false, when the password is unacceptable
// (ErrBadPassword), encoded cannot be used (ErrBadHash), or ctx is done
// before a hashing slot frees up (ctx.Err()), or the Hasher is overloaded
// (ErrBusy).
func (h *Hasher) Verify(ctx context.Context, encoded, password string) (ok, needsRehash bool, err error) {
	if err := ValidatePassword(password); err != nil {
		return false, false, fmt.Errorf("users: verify: %w", err)
	}
	v, err := parseHash(encoded)
	if err != nil {
		return false, false, fmt.Errorf("users: verify: %w", err)
	}
	if h.verified.hit(encoded, password) {
		return true, false, nil
	}
	if err := h.acquire(ctx); err != nil {
		return false, false, err
	}
	defer h.release()
	ok, err = v.verify(password)
	if err != nil {
		return false, false, fmt.Errorf("users: verify: %w", err)
	}
	if !ok {
		return false, false, nil
	}
	// A hash due for rehashing is about to change, so it is not cached.
	if v.weakerThan(h.params) {
		return true, true, nil
	}
	h.verified.add(encoded, password)
	return true, false, nil
}

// DummyVerify does the work of verifying password against a current argon2id
// hash and throws the result away. The server calls it for unknown user
// names so that a failed login takes as long whether or not the name exists,
// which keeps attackers from finding valid names by timing. Like Verify, it
// returns at once for a password Verify would refuse, and returns the same
// errors as Verify when it cannot get a slot (ErrBusy, ctx.Err()): the
// caller must treat an overloaded unknown-user check exactly as an
// overloaded real one, or the difference would reveal the name.
func (h *Hasher) DummyVerify(ctx context.Context, password string) error {
	if ValidatePassword(password) != nil {
		return nil
	}
	if err := h.acquire(ctx); err != nil {
		return err
	}
	defer h.release()
	p := h.params
	key := argon2.IDKey([]byte(password), h.dummySalt, p.time, p.memory, p.threads, uint32(p.keyLen))
	// Compare as Verify would, against a key that cannot match.
	subtle.ConstantTimeCompare(key, h.dummySalt)
	return nil
}

// ValidateHash reports whether Verify can use encoded: it parses the hash and
// checks its scheme and cost parameters without computing anything. Use it
// to check a hash being imported. The error wraps ErrBadHash.
func ValidateHash(encoded string) error {
	_, err := parseHash(encoded)
	return err
}

// verifier is a parsed password hash.
type verifier interface {
	verify(password string) (bool, error)
	// weakerThan reports whether the hash should be replaced by one made
	// with the current parameters.
	weakerThan(current argon2Params) bool
}

// parseHash recognises the scheme of encoded and parses it. Errors wrap
// ErrBadHash and never quote the hash, which is a secret.
func parseHash(encoded string) (verifier, error) {
	switch {
	case encoded == "":
		return nil, fmt.Errorf("%w: empty", ErrBadHash)
	case strings.HasPrefix(encoded, "$argon2id$"):
		return parseArgon2id(encoded)
	case strings.HasPrefix(encoded, "$argon2"):
		return nil, fmt.Errorf("%w: only the argon2id variant of argon2 is supported", ErrBadHash)
	default:
		return parseLegacy(encoded)
	}
}

// argon2idHash is a parsed argon2id PHC string.
type argon2idHash struct {
	params    argon2Params
	salt, key []byte
}

func encodeArgon2id(p argon2Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.memory, p.time, p.threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// parseArgon2id parses "$argon2id$v=19$m=M,t=T,p=P$salt$key" strictly: the
// version must be 19 (the only one golang.org/x/crypto/argon2 computes), the
// parameters must appear in that order with canonical decimal values, salt
// and key must be canonical unpadded base64, and every value must be within
// the package's limits.
func parseArgon2id(s string) (*argon2idHash, error) {
	bad := func(why string) error { return fmt.Errorf("%w: argon2id: %s", ErrBadHash, why) }
	fields := strings.Split(s, "$")
	// "", "argon2id", "v=19", "m=..,t=..,p=..", salt, key
	if len(fields) != 6 || fields[0] != "" || fields[1] != "argon2id" {
		return nil, bad("want $argon2id$v=19$m=M,t=T,p=P$salt$key")
	}
	v, ok := strings.CutPrefix(fields[2], "v=")
	if !ok {
		return nil, bad("missing version")
	}
	if n, err := parseDecimal(v, 0xff); err != nil || n != argon2.Version {
		return nil, bad(fmt.Sprintf("unsupported version (want v=%d)", argon2.Version))
	}
	params := strings.Split(fields[3], ",")
	if len(params) != 3 {
		return nil, bad("want parameters m=M,t=T,p=P")
	}
	var vals [3]uint64
	for i, name := range []string{"m", "t", "p"} {
		val, ok := strings.CutPrefix(params[i], name+"=")
		if !ok {
			return nil, bad("want parameters m=M,t=T,p=P")
		}
		n, err := parseDecimal(val, 1<<32-1)
		if err != nil {
			return nil, bad(fmt.Sprintf("parameter %s: %v", name, err))
		}
		vals[i] = n
	}
	m, t, p := vals[0], vals[1], vals[2]
	switch {
	case p < 1 || p > maxArgon2Threads:
		return nil, bad(fmt.Sprintf("p=%d outside 1..%d", p, maxArgon2Threads))
	case t < 1 || t > maxArgon2Time:
		return nil, bad(fmt.Sprintf("t=%d outside 1..%d", t, maxArgon2Time))
	case m < 8*p || m > maxArgon2Memory:
		return nil, bad(fmt.Sprintf("m=%d outside 8*p..%d", m, maxArgon2Memory))
	}
	enc := base64.RawStdEncoding.Strict()
	salt, err := enc.DecodeString(fields[4])
	if err != nil || len(salt) < minArgon2Salt || len(salt) > maxArgon2Salt {
		return nil, bad(fmt.Sprintf("salt must be %d to %d bytes of unpadded base64", minArgon2Salt, maxArgon2Salt))
	}
	key, err := enc.DecodeString(fields[5])
	if err != nil || len(key) < minArgon2Key || len(key) > maxArgon2Key {
		return nil, bad(fmt.Sprintf("key must be %d to %d bytes of unpadded base64", minArgon2Key, maxArgon2Key))
	}
	return &argon2idHash{
		params: argon2Params{memory: uint32(m), time: uint32(t), threads: uint8(p), saltLen: len(salt), keyLen: len(key)},
		salt:   salt,
		key:    key,
	}, nil
}

// parseDecimal parses a canonical decimal number (no sign, no leading zeros)
// no larger than max.
func parseDecimal(s string, max uint64) (uint64, error) {
	if s == "" || (len(s) > 1 && s[0] == '0') {
		return 0, fmt.Errorf("%q is not a canonical decimal number", s)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("%q is not a canonical decimal number", s)
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n > max {
		return 0, fmt.Errorf("%q is out of range", s)
	}
	return n, nil
}

func (a *argon2idHash) verify(password string) (bool, error) {
	p := a.params
	key := argon2.IDKey([]byte(password), a.salt, p.time, p.memory, p.threads, uint32(len(a.key)))
	return subtle.ConstantTimeCompare(key, a.key) == 1, nil
}

// weakerThan is true when the hash costs less memory or fewer passes than
// current, or has a shorter salt or key. A different lane count alone is not
// weaker: it changes parallelism, not the total work.
func (a *argon2idHash) weakerThan(current argon2Params) bool {
	p := a.params
	return p.memory < current.memory || p.time < current.time ||
		p.saltLen < current.saltLen || p.keyLen < current.keyLen
}
