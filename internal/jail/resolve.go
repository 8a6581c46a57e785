package jail

import (
	"path"
	"strings"
)

// Resolve joins a client-supplied argument to the current virtual directory
// cwd and cleans the result.
//
// The result is always absolute, clean and at or below "/": ".." at the top
// stays at "/", exactly as it does after chroot, so "../../etc" from "/" is
// "/etc" inside the jail. An absolute arg replaces cwd; an empty arg means
// cwd itself. Only '/' separates names: a backslash or "%2e%2e" is an
// ordinary part of a file name.
//
// Names containing NUL, CR or LF are refused with ErrBadName: no file system
// call accepts NUL, and CR or LF in a name could be echoed into a reply and
// forge extra protocol lines.
func Resolve(cwd, arg string) (string, error) {
	if hasBadByte(cwd) || hasBadByte(arg) {
		return "", ErrBadName
	}
	p := arg
	if !strings.HasPrefix(arg, "/") {
		p = cwd + "/" + arg
	}
	// Rooting the path before cleaning makes Clean drop every ".." that
	// would climb above "/".
	return path.Clean("/" + p), nil
}

// hasBadByte reports whether s contains a byte that may not appear in a
// virtual path: NUL, CR or LF.
func hasBadByte(s string) bool {
	return strings.ContainsAny(s, "\x00\r\n")
}
