// Package users keeps port21's virtual accounts: who may log in, with which
// password, from where, and into which home directory.
//
// Accounts are virtual: they are rows in a database (see Store: an embedded
// SQLite file, or PostgreSQL shared by several nodes), not system users, so
// an FTP login never grants a shell or any file outside the account's home. Passwords are stored as argon2id hashes (see Hasher); hashes
// imported from /etc/shadow, vsftpd or Pure-FTPd are accepted too and are
// upgraded to argon2id at the user's next successful login.
package users

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// Errors callers test for with errors.Is. Errors returned by this package wrap
// them with the detail of what went wrong.
var (
	// ErrNotFound reports that no account has the given name.
	ErrNotFound = errors.New("user not found")
	// ErrExists reports that an account with the given name already exists.
	ErrExists = errors.New("user already exists")
	// ErrBadName reports a user name that ValidateName rejects.
	ErrBadName = errors.New("invalid user name")
	// ErrBadPassword reports a password that cannot be hashed or verified:
	// empty, or longer than MaxPasswordLen.
	ErrBadPassword = errors.New("invalid password")
	// ErrBadHash reports an encoded password hash that is malformed, of an
	// unsupported scheme, or whose cost parameters are beyond the limits this
	// package is willing to compute.
	ErrBadHash = errors.New("invalid password hash")
	// ErrBusy reports that a password could not be checked because too many
	// checks are running or waiting (see Hasher). It says nothing about the
	// password, so callers must not count it as a failed login.
	ErrBusy = errors.New("too many password checks at once")
	// ErrHashChanged reports that a conditional hash update found another
	// hash than the one it was meant to replace (see Store.ReplaceHash).
	ErrHashChanged = errors.New("password hash changed meanwhile")
	// ErrBadPrefix reports an allow-list entry that is neither a CIDR nor an
	// IP address.
	ErrBadPrefix = errors.New("not a CIDR or IP address")
)

// MaxNameLen is the longest user name ValidateName accepts.
const MaxNameLen = 64

// User is one virtual account.
type User struct {
	// Name is the login name, as accepted by ValidateName. Names are
	// case-sensitive, as on Unix: "Bob" and "bob" are different accounts.
	Name string
	// Home is the absolute host path of the account's root directory. The
	// empty string means <data-dir>/home/<Name>; the server resolves it, so
	// moving the data directory moves the default homes with it.
	Home string
	// Hash is the encoded password hash (a PHC string for argon2id, a crypt
	// string for imported legacy schemes). It is a secret: never log it and
	// never show it to anyone.
	Hash string
	// ReadOnly forbids every command that changes the file system.
	ReadOnly bool
	// Allow lists the networks the account may log in from. Empty means from
	// anywhere.
	Allow []netip.Prefix
	// AllowCleartext lets the account log in without AUTH TLS, which sends
	// its password in clear over the network. Because that is only ever safe
	// on a trusted network, it applies only to clients in Allow, and an
	// account with an empty Allow may log in in clear from loopback only
	// ("anywhere" is never a trusted network). See CleartextAllowedFrom.
	AllowCleartext bool
	// TLSReuseOptional lets data connections skip resuming the control
	// connection's TLS session. Resumption proves the data connection comes
	// from the same client as the control connection, but some clients
	// (Python's ftplib, for one) cannot do it.
	TLSReuseOptional bool
	// Perms is what the account may do with its files; zero means every
	// permission (see Effective). ReadOnly takes the writes away on top.
	Perms Perm
	// Expires, when not zero, is when the account stops working: logins
	// fail and live sessions end (see Blocked).
	Expires time.Time
	// Disabled stops the account like an expiry, until enabled again.
	Disabled bool
	// QuotaBytes and QuotaFiles cap what the home may hold (regular files,
	// bytes and count); zero means no limit.
	QuotaBytes int64
	QuotaFiles int64
	// RateUp and RateDown cap the account's transfer rates in bytes per
	// second, over all its sessions together; zero means no limit.
	RateUp, RateDown int64
	// MaxSessions caps the account's concurrent sessions; zero means no
	// limit.
	MaxSessions int
	// Created and Updated are set by the Store.
	Created, Updated time.Time
}

// AllowedFrom reports whether the account may log in from addr: true when
// Allow is empty, otherwise when some prefix in Allow contains addr. An
// IPv4-mapped IPv6 address (::ffff:a.b.c.d, as seen on dual-stack listeners)
// is treated as the IPv4 address it carries, and an IPv6 zone is ignored, so
// the same allow list works whatever socket the client came in on.
func (u User) AllowedFrom(addr netip.Addr) bool {
	return len(u.Allow) == 0 || anyContains(u.Allow, addr)
}

// anyContains reports whether some prefix of allow contains addr, read as
// AllowedFrom reads it.
func anyContains(allow []netip.Prefix, addr netip.Addr) bool {
	a := addr.Unmap().WithZone("")
	if !a.IsValid() {
		return false
	}
	for _, p := range allow {
		if NormalizePrefix(p).Contains(a) {
			return true
		}
	}
	return false
}

// CleartextAllowedFrom reports whether the account may log in from addr
// before AUTH TLS: it must have AllowCleartext, and addr must be in Allow, or
// be a loopback address when Allow is empty.
func (u User) CleartextAllowedFrom(addr netip.Addr) bool {
	if !u.AllowCleartext {
		return false
	}
	if len(u.Allow) == 0 {
		return addr.Unmap().IsLoopback()
	}
	return u.AllowedFrom(addr)
}

// ValidateName reports whether name is acceptable as a user name: 1 to 64
// characters from [A-Za-z0-9._@-], not starting with '.' or '-'. The rules
// keep names safe as a directory name (the default home is named after the
// user: no '/', no "..", no hidden files), as a command-line argument (no
// leading '-') and in logs (no spaces or control characters). The error wraps
// ErrBadName and says why.
func ValidateName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: empty", ErrBadName)
	case len(name) > MaxNameLen:
		return fmt.Errorf("%w: longer than %d characters", ErrBadName, MaxNameLen)
	case name[0] == '.' || name[0] == '-':
		return fmt.Errorf("%w: %q starts with %q", ErrBadName, name, name[0])
	}
	for i := 0; i < len(name); i++ {
		if !nameChar(name[i]) {
			return fmt.Errorf("%w: %q contains %q; use only letters, digits and . _ @ -", ErrBadName, name, rune(name[i]))
		}
	}
	return nil
}

func nameChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	case c == '.', c == '_', c == '@', c == '-':
		return true
	}
	return false
}

// ParsePrefix parses one allow-list entry: a CIDR ("192.0.2.0/24",
// "2001:db8::/32") or a bare IP address, which means that single host (/32 or
// /128). Host bits are cleared ("10.1.2.3/8" is 10.0.0.0/8) and an
// IPv4-mapped IPv6 prefix is turned into its IPv4 form, so equal networks
// always compare equal. Zoned addresses are refused: a zone names a local
// interface, not a network. The error wraps ErrBadPrefix.
func ParsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	var p netip.Prefix
	if strings.Contains(s, "/") {
		var err error
		if p, err = netip.ParsePrefix(s); err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is %w", s, ErrBadPrefix)
		}
	} else {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("%q is %w", s, ErrBadPrefix)
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	return NormalizePrefix(p), nil
}

// NormalizePrefix clears p's host bits and turns an IPv4-mapped IPv6 prefix
// of at least /96 (::ffff:0:0/96 and narrower) into the IPv4 prefix it
// covers. Other prefixes, including invalid ones, are returned masked or
// unchanged.
func NormalizePrefix(p netip.Prefix) netip.Prefix {
	if !p.IsValid() {
		return p
	}
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p.Masked()
}
