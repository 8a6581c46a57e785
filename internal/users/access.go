package users

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Perm is one right an account may have over the files in its home. An
// account's Perms is a set of them.
type Perm uint16

// The permissions, named as `port21 user --perms` takes them.
const (
	PermList      Perm = 1 << iota // list directories, see sizes and times
	PermDownload                   // read files (RETR, HASH)
	PermUpload                     // create new files
	PermOverwrite                  // replace or change existing files (STOR over, APPE, MFMT, rename onto)
	PermDelete                     // delete files
	PermRename                     // rename files and directories
	PermMkdir                      // create directories
	PermRmdir                      // remove directories
)

// PermAll is every permission; PermReadOnly is what --read-only leaves.
const (
	PermAll      = PermList | PermDownload | PermUpload | PermOverwrite | PermDelete | PermRename | PermMkdir | PermRmdir
	PermReadOnly = PermList | PermDownload
)

// ErrBadPerm reports an unknown permission name.
var ErrBadPerm = errors.New("unknown permission")

var permNames = []struct {
	p    Perm
	name string
	verb string // what a refusal says the account may not do
}{
	{PermList, "list", "list directories"},
	{PermDownload, "download", "download files"},
	{PermUpload, "upload", "upload files"},
	{PermOverwrite, "overwrite", "overwrite or change existing files"},
	{PermDelete, "delete", "delete files"},
	{PermRename, "rename", "rename files or directories"},
	{PermMkdir, "mkdir", "create directories"},
	{PermRmdir, "rmdir", "remove directories"},
}

// ParsePerms parses a comma-separated list of permission names ("list,
// download"), or "all". The error wraps ErrBadPerm and names the word.
func ParsePerms(s string) (Perm, error) {
	var ps Perm
	for _, w := range strings.Split(s, ",") {
		w = strings.ToLower(strings.TrimSpace(w))
		if w == "" {
			continue
		}
		if w == "all" {
			ps |= PermAll
			continue
		}
		found := false
		for _, n := range permNames {
			if n.name == w {
				ps |= n.p
				found = true
			}
		}
		if !found {
			return 0, fmt.Errorf("%w %q; use any of list,download,upload,overwrite,delete,rename,mkdir,rmdir or all", ErrBadPerm, w)
		}
	}
	if ps == 0 {
		return 0, fmt.Errorf("%w: empty list", ErrBadPerm)
	}
	return ps, nil
}

// String lists the permissions by name, comma-separated.
func (p Perm) String() string {
	var names []string
	for _, n := range permNames {
		if p&n.p != 0 {
			names = append(names, n.name)
		}
	}
	return strings.Join(names, ",")
}

// Refusal is the reason given to a client refused p: "may not upload
// files".
func (p Perm) Refusal() string {
	var verbs []string
	for _, n := range permNames {
		if p&n.p != 0 {
			verbs = append(verbs, n.verb)
		}
	}
	return "this account may not " + strings.Join(verbs, " or ")
}

// Effective is the set of permissions the account has: Perms (zero means
// all, as for accounts made before permissions existed), less every write
// when ReadOnly.
func (u User) Effective() Perm {
	p := u.Perms
	if p == 0 {
		p = PermAll
	}
	if u.ReadOnly {
		p &= PermReadOnly
	}
	return p
}

// Can reports whether the account has every permission in p.
func (u User) Can(p Perm) bool { return u.Effective()&p == p }

// Blocked returns why the account may not log in or stay logged in at now
// ("account disabled", "account expired"), or "" when it may.
func (u User) Blocked(now time.Time) string {
	switch {
	case u.Disabled:
		return "account disabled"
	case !u.Expires.IsZero() && !now.Before(u.Expires):
		return "account expired"
	}
	return ""
}
