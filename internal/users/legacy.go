package users

import (
	"fmt"
	"strings"

	"github.com/go-crypt/crypt/algorithm"
	"github.com/go-crypt/crypt/algorithm/bcrypt"
	"github.com/go-crypt/crypt/algorithm/scrypt"
	"github.com/go-crypt/crypt/algorithm/shacrypt"
	"github.com/go-crypt/x/yescrypt"
)

// Limits on legacy hashes' costs. The defaults of the systems these hashes
// come from are far below them (bcrypt 10-12, sha-crypt 5000 rounds, yescrypt
// 16 MiB); they only stop a corrupt or hostile entry from making one login
// take minutes or gigabytes.
const (
	maxBcryptCost      = 16         // 2^16 rounds: a few seconds
	minSHACryptRounds  = 1000       // glibc clamps anything lower to 1000 and writes that
	maxSHACryptRounds  = 10_000_000 // a few seconds
	maxSHACryptSalt    = 16         // glibc truncates longer salts and writes 16
	maxYescryptMemory  = 256 << 20  // bytes: 128 * r * N
	maxYescryptBlockSz = 32         // r; libxcrypt never writes more
)

// crypt64 is the alphabet of crypt(3)'s base64, used by sha-crypt and
// yescrypt (bcrypt uses the same characters in another order).
const crypt64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

func isCrypt64(s string) bool {
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(crypt64, s[i]) < 0 {
			return false
		}
	}
	return true
}

// legacyHash is a hash imported from another system, verified with
// github.com/go-crypt/crypt. It is always due for a rehash.
type legacyHash struct {
	digest algorithm.Digest
}

func (l legacyHash) verify(password string) (bool, error) {
	ok, err := l.digest.MatchAdvanced(password)
	if err != nil {
		return false, fmt.Errorf("%w: %v", ErrBadHash, err)
	}
	return ok, nil
}

func (legacyHash) weakerThan(argon2Params) bool { return true }

// parseLegacy checks a crypt string's shape and costs itself, strictly and
// against this package's limits, before handing it to go-crypt: the library
// is lenient (bcrypt costs below 4 silently become 10, for one) and has no
// notion of a cost too high to compute at login.
func parseLegacy(s string) (verifier, error) {
	fields := strings.Split(s, "$")
	if len(fields) < 4 || fields[0] != "" {
		return nil, fmt.Errorf("%w: not a PHC or crypt string", ErrBadHash)
	}
	var (
		decode func(string) (algorithm.Digest, error)
		err    error
	)
	switch id := fields[1]; id {
	case "2a", "2b", "2y":
		err = checkBcrypt(fields)
		decode = bcrypt.DecodeVariant(bcrypt.VariantStandard)
	case "5", "6":
		err = checkSHACrypt(fields)
		decode = shacrypt.Decode
	case "y":
		err = checkYescrypt(fields)
		decode = scrypt.DecodeVariant(scrypt.VariantYescrypt)
	case "1":
		return nil, fmt.Errorf("%w: md5-crypt ($1$) is too weak to accept; set a new password", ErrBadHash)
	default:
		return nil, fmt.Errorf("%w: unsupported scheme $%s$ (want argon2id, bcrypt, sha512-crypt, sha256-crypt or yescrypt)",
			ErrBadHash, printableID(id))
	}
	if err != nil {
		return nil, err
	}
	d, err := decode(s)
	if err != nil {
		// go-crypt's errors do not quote the hash.
		return nil, fmt.Errorf("%w: %v", ErrBadHash, err)
	}
	return legacyHash{digest: d}, nil
}

// printableID returns a scheme identifier fit for an error message.
func printableID(id string) string {
	if len(id) > 16 || !isCrypt64(strings.ReplaceAll(id, "-", "")) {
		return "?"
	}
	return id
}

// checkBcrypt checks "$2b$CC$<22 salt chars><31 hash chars>".
func checkBcrypt(f []string) error {
	if len(f) != 4 || len(f[2]) != 2 || f[2][0] < '0' || f[2][0] > '9' || f[2][1] < '0' || f[2][1] > '9' {
		return fmt.Errorf("%w: bcrypt: want $%s$CC$ followed by 53 characters", ErrBadHash, f[1])
	}
	cost := int(f[2][0]-'0')*10 + int(f[2][1]-'0')
	if cost < 4 || cost > maxBcryptCost {
		return fmt.Errorf("%w: bcrypt: cost %d outside 4..%d", ErrBadHash, cost, maxBcryptCost)
	}
	if len(f[3]) != 53 || !isCrypt64(f[3]) {
		return fmt.Errorf("%w: bcrypt: want 53 characters of salt and hash", ErrBadHash)
	}
	return nil
}

// checkSHACrypt checks "$5$[rounds=N$]salt$hash" and "$6$...".
func checkSHACrypt(f []string) error {
	name, hashLen := "sha256-crypt", 43
	if f[1] == "6" {
		name, hashLen = "sha512-crypt", 86
	}
	rest := f[2:]
	if len(rest) == 3 {
		v, ok := strings.CutPrefix(rest[0], "rounds=")
		if !ok {
			return fmt.Errorf("%w: %s: want $%s$[rounds=N$]salt$hash", ErrBadHash, name, f[1])
		}
		n, err := parseDecimal(v, maxSHACryptRounds)
		if err != nil || n < minSHACryptRounds {
			return fmt.Errorf("%w: %s: rounds must be %d..%d", ErrBadHash, name, minSHACryptRounds, maxSHACryptRounds)
		}
		rest = rest[1:]
	}
	if len(rest) != 2 {
		return fmt.Errorf("%w: %s: want $%s$[rounds=N$]salt$hash", ErrBadHash, name, f[1])
	}
	// glibc allows any byte but '$' and ':' in a salt; we accept the
	// characters it generates, which is what every real hash has.
	if len(rest[0]) > maxSHACryptSalt || !isCrypt64(rest[0]) {
		return fmt.Errorf("%w: %s: salt must be at most %d characters of [./0-9A-Za-z]", ErrBadHash, name, maxSHACryptSalt)
	}
	if len(rest[1]) != hashLen || !isCrypt64(rest[1]) {
		return fmt.Errorf("%w: %s: hash must be %d characters of [./0-9A-Za-z]", ErrBadHash, name, hashLen)
	}
	return nil
}

// checkYescrypt checks "$y$jNR$salt$hash", the form libxcrypt writes with its
// default flags, which is the only one go-crypt computes.
func checkYescrypt(f []string) error {
	if len(f) != 5 {
		return fmt.Errorf("%w: yescrypt: want $y$param$salt$hash", ErrBadHash)
	}
	setting := f[2]
	if len(setting) != 3 || setting[0] != 'j' || !isCrypt64(setting) {
		return fmt.Errorf("%w: yescrypt: only libxcrypt's default flags ($y$j..$) are supported", ErrBadHash)
	}
	_, lnN, r, err := yescrypt.DecodeSetting([]byte(setting))
	if err != nil {
		return fmt.Errorf("%w: yescrypt: %v", ErrBadHash, err)
	}
	// N = 2^lnN; memory = 128 * r * N bytes. Refuse before shifting, so a
	// large exponent cannot overflow.
	if lnN < 1 || lnN > 30 || r < 1 || r > maxYescryptBlockSz || 128*r<<lnN > maxYescryptMemory {
		return fmt.Errorf("%w: yescrypt: parameters need more than %d MiB", ErrBadHash, maxYescryptMemory>>20)
	}
	if f[3] == "" || !isCrypt64(f[3]) || yescrypt.Decode64([]byte(f[3])) == nil {
		return fmt.Errorf("%w: yescrypt: bad salt encoding", ErrBadHash)
	}
	if key := yescrypt.Decode64([]byte(f[4])); len(key) != 32 || !isCrypt64(f[4]) {
		return fmt.Errorf("%w: yescrypt: hash must be 43 characters", ErrBadHash)
	}
	return nil
}
