package server

import (
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"hash/crc32"
	"io"
	"strings"
)

// hashNames are the HASH algorithms (draft-bryan-ftpext-hash), default
// first. MD5 and SHA-1 are for integrity checks by old clients, not
// security.
var hashNames = []string{"SHA-256", "SHA-1", "MD5", "CRC32"}

// defaultHash is the algorithm of a new session.
const defaultHash = "SHA-256"

func newHash(algo string) hash.Hash {
	switch algo {
	case "SHA-1":
		return sha1.New()
	case "MD5":
		return md5.New()
	case "CRC32":
		return crc32.NewIEEE()
	default:
		return sha256.New()
	}
}

func canonicalHash(name string) (string, bool) {
	for _, n := range hashNames {
		if strings.EqualFold(strings.TrimSpace(name), n) {
			return n, true
		}
	}
	return "", false
}

// hashFeature is the FEAT line; '*' marks the selected algorithm.
func hashFeature(selected string) string {
	parts := make([]string, len(hashNames))
	for i, n := range hashNames {
		parts[i] = n
		if n == selected {
			parts[i] += "*"
		}
	}
	return "HASH " + strings.Join(parts, ";")
}

// hashFile hashes r, stopping early if ctx is done.
func hashFile(ctx context.Context, algo string, r io.Reader) (string, int64, error) {
	h := newHash(algo)
	buf := make([]byte, 256<<10)
	var n int64
	for {
		if err := ctx.Err(); err != nil {
			return "", n, err
		}
		m, err := r.Read(buf)
		h.Write(buf[:m])
		n += int64(m)
		if err == io.EOF {
			return hex.EncodeToString(h.Sum(nil)), n, nil
		}
		if err != nil {
			return "", n, err
		}
	}
}
