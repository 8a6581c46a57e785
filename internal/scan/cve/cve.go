// Package cve is port21's curated dataset of known vulnerabilities in FTP
// server products, and the version matching that applies it to a product
// and version found by a scan.
//
// The dataset is data.json in this directory, compiled into the binary, so a
// scan needs no network access and every release says exactly what it knows.
// Each entry names its sources; ranges use the product's own version
// numbering, the one its banner shows. A match on a version is evidence, not
// proof (distributions backport fixes without changing the version), which
// is why findings built from it are marked with basis "version" unless a
// safe probe confirms them.
package cve

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/port21/port21/internal/finding"
)

//go:embed data.json
var embedded []byte

// Range is a span of affected versions: from Introduced (inclusive; empty
// means from the first release) to Fixed (exclusive) or LastAffected
// (inclusive); with neither, every version from Introduced on is affected.
type Range struct {
	Introduced   string `json:"introduced,omitempty"`
	Fixed        string `json:"fixed,omitempty"`
	LastAffected string `json:"last_affected,omitempty"`
}

// Contains reports whether version v lies in r.
func (r Range) Contains(v string) bool {
	if r.Introduced != "" && Compare(v, r.Introduced) < 0 {
		return false
	}
	if r.Fixed != "" && Compare(v, r.Fixed) >= 0 {
		return false
	}
	if r.LastAffected != "" && Compare(v, r.LastAffected) > 0 {
		return false
	}
	return true
}

// Entry is one known vulnerability of one product.
type Entry struct {
	// ID is the finding id: the CVE id, or a descriptive id for the rare
	// vulnerability without one.
	ID       string           `json:"id"`
	Product  string           `json:"product"` // as internal/scan/fingerprint names it
	Affected []Range          `json:"affected"`
	Severity finding.Severity `json:"severity"`
	Title    string           `json:"title"`
	Detail   string           `json:"detail"`
	Fix      string           `json:"fix"`
	// Probe names the safe probe that confirms the entry, if there is one:
	// "proftpd-mod_copy" or "vsftpd-backdoor-port".
	Probe string `json:"probe,omitempty"`
	// KEV is true when CISA lists the vulnerability as exploited in the wild.
	KEV        bool     `json:"kev,omitempty"`
	References []string `json:"references"`
	// Sources are where the entry's facts were taken from, for review.
	Sources []string `json:"sources"`
}

// Affects reports whether the entry applies to version v of its product.
func (e Entry) Affects(v string) bool {
	for _, r := range e.Affected {
		if r.Contains(v) {
			return true
		}
	}
	return false
}

// DB is a loaded dataset. It is read-only after Parse and safe for
// concurrent use.
type DB struct {
	entries []Entry
}

// ErrBadData reports a dataset that fails validation.
var ErrBadData = errors.New("cve: bad dataset")

var idPattern = regexp.MustCompile(`^(CVE-\d{4}-\d{4,}|[a-z0-9][a-z0-9.-]+)$`)

// Load returns the dataset compiled into the binary.
func Load() (*DB, error) {
	return Parse(embedded)
}

// Parse decodes and validates a dataset: unknown keys, an entry without
// sources or references, a malformed id, an empty range or one whose bounds
// are out of order are errors.
func Parse(data []byte) (*DB, error) {
	var doc struct {
		Comment string  `json:"comment"`
		Entries []Entry `json:"entries"`
	}
	d := json.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	if err := d.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadData, err)
	}
	seen := map[string]bool{}
	for i, e := range doc.Entries {
		bad := func(why string) error { return fmt.Errorf("%w: entry %d (%s): %s", ErrBadData, i, e.ID, why) }
		switch {
		case !idPattern.MatchString(e.ID):
			return nil, bad("malformed id")
		case seen[e.ID+"\x00"+e.Product]:
			return nil, bad("duplicate id for the product")
		case e.Product == "" || e.Title == "" || e.Fix == "":
			return nil, bad("product, title and fix are required")
		case len(e.Sources) == 0 || len(e.References) == 0:
			return nil, bad("sources and references are required")
		case len(e.Affected) == 0:
			return nil, bad("no affected ranges")
		}
		seen[e.ID+"\x00"+e.Product] = true
		for _, r := range e.Affected {
			if r.Fixed != "" && r.LastAffected != "" {
				return nil, bad("a range has both fixed and last_affected")
			}
			if r.Introduced != "" && (r.Fixed != "" && Compare(r.Introduced, r.Fixed) >= 0 ||
				r.LastAffected != "" && Compare(r.Introduced, r.LastAffected) > 0) {
				return nil, bad("a range ends before it starts")
			}
		}
	}
	return &DB{entries: doc.Entries}, nil
}

// Entries returns a copy of all entries, in dataset order.
func (db *DB) Entries() []Entry {
	return append([]Entry(nil), db.entries...)
}

// Match returns the entries that affect version of product (compared
// case-insensitively), in dataset order. An empty version matches nothing:
// without a version there is no evidence, only a product name.
func (db *DB) Match(product, version string) []Entry {
	if version == "" {
		return nil
	}
	var out []Entry
	for _, e := range db.entries {
		if strings.EqualFold(e.Product, product) && e.Affects(version) {
			out = append(out, e)
		}
	}
	return out
}

// Probes returns the entries for product that have a confirming probe,
// whatever the version: a probe can show a vulnerability that a hidden or
// backported version would not.
func (db *DB) Probes(product string) []Entry {
	var out []Entry
	for _, e := range db.entries {
		if strings.EqualFold(e.Product, product) && e.Probe != "" {
			out = append(out, e)
		}
	}
	return out
}

// Compare orders two version strings as FTP server products number them:
// numbers compare numerically ("1.10" > "1.9"); a pre-release word after a
// number (alpha, beta, pre, rc) sorts before the number alone ("1.3.5rc4" <
// "1.3.5"); any other letters are a later patch level ("1.3.5" < "1.3.5a" <
// "1.3.5b"). It returns -1, 0 or +1.
func Compare(a, b string) int {
	ta, tb := tokens(a), tokens(b)
	for i := 0; i < max(len(ta), len(tb)); i++ {
		var x, y token
		if i < len(ta) {
			x = ta[i]
		} else {
			x = token{kind: end}
		}
		if i < len(tb) {
			y = tb[i]
		} else {
			y = token{kind: end}
		}
		if c := x.compare(y); c != 0 {
			return c
		}
	}
	return 0
}

const (
	pre  = iota // alpha, beta, pre, rc: before the release
	end         // the end of the version
	word        // a patch letter: after the release
	num
)

type token struct {
	kind int
	n    uint64
	s    string
}

func (x token) compare(y token) int {
	if x.kind != y.kind {
		if x.kind < y.kind {
			return -1
		}
		return 1
	}
	switch x.kind {
	case num:
		switch {
		case x.n < y.n:
			return -1
		case x.n > y.n:
			return 1
		}
	case pre, word:
		return strings.Compare(x.s, y.s)
	}
	return 0
}

// preWords rank in this order, which strings.Compare happens to give.
var preWords = map[string]bool{"a": false, "alpha": true, "b": false, "beta": true, "pre": true, "rc": true, "dev": true}

func tokens(v string) []token {
	v = strings.ToLower(strings.TrimSpace(v))
	var out []token
	for i := 0; i < len(v); {
		c := v[i]
		switch {
		case c >= '0' && c <= '9':
			j := i
			var n uint64
			for j < len(v) && v[j] >= '0' && v[j] <= '9' {
				if n < 1<<59 {
					n = n*10 + uint64(v[j]-'0')
				}
				j++
			}
			out = append(out, token{kind: num, n: n})
			i = j
		case c >= 'a' && c <= 'z':
			j := i
			for j < len(v) && v[j] >= 'a' && v[j] <= 'z' {
				j++
			}
			w := v[i:j]
			kind := word
			if preWords[w] {
				kind = pre
			}
			out = append(out, token{kind: kind, s: w})
			i = j
		default:
			i++ // separators: . - _ and anything else
		}
	}
	return out
}
