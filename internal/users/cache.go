package users

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"sync"
	"time"
)

// verifiedCache remembers recent successful verifications, so that a client
// that logs in again and again with the same password (a backup job, a
// device polling every minute) does not pay for argon2id every time, while
// every failed guess still does. SFTPGo's password cache makes the same
// trade.
//
// Entries are keyed by HMAC-SHA256 under a random per-process key of the
// stored hash and the password: the cache never holds a password, its keys
// are worthless outside this process, and changing a password (a new hash)
// misses the cache at once.
type verifiedCache struct {
	key [32]byte
	ttl time.Duration
	max int
	now func() time.Time

	mu      sync.Mutex
	entries map[[32]byte]time.Time // expiry
}

func newVerifiedCache(ttl time.Duration, max int) *verifiedCache {
	c := &verifiedCache{ttl: ttl, max: max, now: time.Now, entries: map[[32]byte]time.Time{}}
	rand.Read(c.key[:]) // never fails (crypto/rand documents it)
	return c
}

func (c *verifiedCache) mac(encoded, password string) [32]byte {
	m := hmac.New(sha256.New, c.key[:])
	m.Write([]byte(encoded))
	m.Write([]byte{0})
	m.Write([]byte(password))
	var sum [32]byte
	m.Sum(sum[:0])
	return sum
}

// hit reports whether encoded and password verified within the TTL.
func (c *verifiedCache) hit(encoded, password string) bool {
	k := c.mac(encoded, password)
	c.mu.Lock()
	defer c.mu.Unlock()
	exp, ok := c.entries[k]
	if ok && c.now().Before(exp) {
		return true
	}
	delete(c.entries, k)
	return false
}

// add records a successful verification. When full it drops expired
// entries, then everything: the cache is an optimisation, never a source of
// truth, and an attacker cannot fill it without knowing passwords.
func (c *verifiedCache) add(encoded, password string) {
	k := c.mac(encoded, password)
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.max {
		for e, exp := range c.entries {
			if !now.Before(exp) {
				delete(c.entries, e)
			}
		}
		if len(c.entries) >= c.max {
			clear(c.entries)
		}
	}
	c.entries[k] = now.Add(c.ttl)
}
