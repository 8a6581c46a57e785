package jail

import (
	"path"
	"strings"
	"unicode/utf8"
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
// Names containing a control character are refused with ErrBadName: C0
// (NUL to 0x1F, including CR and LF), DEL and C1 (U+0080 to U+009F, or a
// raw byte 0x80 to 0x9F that is not part of valid UTF-8). No file system call
// accepts NUL; CR or LF could forge extra protocol lines in a reply; the
// others are terminal escapes that a listing would carry into a client's
// terminal. Refusing them here stops them from being created (MKD, STOR,
// RNTO, ...) and from being echoed in a reply. Files that already have such
// names (made on the host) cannot be addressed; listings show them with '?'.
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

// hasBadByte reports whether s contains a character that may not appear in
// a virtual path: a C0 control, DEL or a C1 control. A byte that is not
// valid UTF-8 is judged as Latin-1, where 0x80 to 0x9F are C1 too.
func hasBadByte(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < 0x80 {
			if c < 0x20 || c == 0x7f {
				return true
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			r = rune(c)
		}
		if r >= 0x80 && r <= 0x9f {
			return true
		}
		i += size
	}
	return false
}

// hasLineBreak reports whether s contains NUL, CR or LF: names that no
// client could address at all and that could split a listing's lines.
func hasLineBreak(s string) bool {
	return strings.ContainsAny(s, "\x00\r\n")
}
