package users

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
)

// maxShadowLine bounds one line of a shadow file; real lines are a few
// hundred bytes.
const maxShadowLine = 64 << 10

// ShadowEntry is one account read by ParseShadow.
type ShadowEntry struct {
	Line int    // 1-based line number, for messages
	Name string // the login name, as in the file
	Hash string // the password field; a secret
	// Err says why the entry cannot be imported (locked account, no
	// password, invalid name, unsupported hash); nil when it can. It wraps
	// ErrBadName or ErrBadHash.
	Err error
}

// ParseShadow reads account lines of the form "name:hash[:more fields]", as
// in /etc/shadow (shadow(5)) and Pure-FTPd's pureftpd.passwd, so that
// existing accounts can be moved to port21 without resetting their
// passwords. Blank lines and lines starting with '#' are skipped. Every other
// line yields an entry; entries that cannot be imported carry an Err, so the
// caller can report them. Locked ("!..." or "*") and passwordless accounts
// are never importable: an account nobody could log in to must not become
// one anybody can. The error is non-nil only when reading fails or a line is
// longer than 64 KiB.
func ParseShadow(r io.Reader) ([]ShadowEntry, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxShadowLine)
	var entries []ShadowEntry
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSuffix(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		e := ShadowEntry{Line: n}
		name, rest, ok := strings.Cut(line, ":")
		e.Name = name
		e.Hash, _, _ = strings.Cut(rest, ":")
		switch {
		case !ok:
			e.Err = fmt.Errorf("%w: line has no ':' after the name", ErrBadHash)
		case ValidateName(name) != nil:
			e.Err = ValidateName(name)
		case e.Hash == "":
			e.Err = fmt.Errorf("%w: account has no password", ErrBadHash)
		case e.Hash[0] == '!' || e.Hash[0] == '*':
			e.Err = fmt.Errorf("%w: account is locked", ErrBadHash)
		default:
			e.Err = ValidateHash(e.Hash)
		}
		entries = append(entries, e)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return entries, fmt.Errorf("users: shadow file: line %d is longer than %d bytes", n+1, maxShadowLine)
		}
		return entries, fmt.Errorf("users: shadow file: %w", err)
	}
	return entries, nil
}
