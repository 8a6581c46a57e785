package ftp

import (
	"errors"
	"strconv"
)

// Sentinel errors. Parsers wrap them with the offending input, quoted and
// truncated, so that callers can test with errors.Is and still log something
// useful. A server maps all of them to 500 or 501 except ErrUnsupportedProtocol,
// which RFC 2428 answers with 522.
var (
	// ErrEmptyCommand reports an empty command line. Clients send them by
	// accident (an extra CRLF); a server may ignore them or answer 500.
	ErrEmptyCommand = errors.New("ftp: empty command line")
	// ErrBadVerb reports a command name that is not three or four ASCII
	// letters, optionally followed by up to three digits (XSHA256).
	ErrBadVerb = errors.New("ftp: bad command verb")
	// ErrNUL reports a NUL byte in a command line. No legitimate path or
	// argument contains one, and C code downstream would truncate at it.
	ErrNUL = errors.New("ftp: NUL byte in command line")
	// ErrBadChar reports a CR or LF inside a command line: a line ending
	// smuggled into an argument.
	ErrBadChar = errors.New("ftp: CR or LF inside command line")
	// ErrLineTooLong reports a control line longer than MaxLineLength. The
	// Reader has already skipped the rest of the line, so the session can
	// answer 500 and carry on.
	ErrLineTooLong = errors.New("ftp: control line too long")

	// ErrMalformedReply reports a reply line that does not start with a
	// three-digit code followed by a space or a hyphen.
	ErrMalformedReply = errors.New("ftp: malformed reply")
	// ErrReplyTooLong reports a multi-line reply with more lines than the
	// caller allowed.
	ErrReplyTooLong = errors.New("ftp: reply has too many lines")

	// ErrBadAddress reports a malformed or out-of-range host-port argument
	// (PORT, EPRT, EPSV) or passive-mode reply (PASV, EPSV).
	ErrBadAddress = errors.New("ftp: bad address")
	// ErrUnsupportedProtocol reports a well-formed EPRT or EPSV network
	// protocol number other than 1 (IPv4) or 2 (IPv6); RFC 2428 wants a 522
	// reply to it, not 501.
	ErrUnsupportedProtocol = errors.New("ftp: unsupported network protocol")
	// ErrNotIPv4 reports an attempt to format a non-IPv4 address for PORT,
	// whose syntax has room for IPv4 only.
	ErrNotIPv4 = errors.New("ftp: address is not IPv4")

	// ErrBadTime reports a malformed or out-of-range RFC 3659 time value.
	ErrBadTime = errors.New("ftp: bad time value")
	// ErrBadQuotedPath reports a 257-style quoted path without its quotes.
	ErrBadQuotedPath = errors.New("ftp: bad quoted path")
)

// maxQuoted bounds how much hostile input an error message repeats.
const maxQuoted = 64

// quote returns s as a Go-quoted string for an error message, truncated to
// maxQuoted bytes so that a 4 KiB line does not end up in every log entry.
func quote(s string) string {
	if len(s) > maxQuoted {
		return strconv.Quote(s[:maxQuoted]) + "..."
	}
	return strconv.Quote(s)
}
