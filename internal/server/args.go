package server

import (
	"errors"
	"io/fs"
	"strconv"
	"strings"
	"time"

	"github.com/port21/port21/internal/ftp"
)

// The argument parsers of commands whose handlers would otherwise parse
// inline. Every argument is what a client chose to send, so each parser is
// a pure function of it, kept apart from the handler's effects, so that it
// can be fuzzed (args_fuzz_test.go) without a session.

// Errors of the argument parsers; the handlers map each to its reply.
var (
	errArgSyntax   = errors.New("bad argument syntax")
	errArgBadTime  = errors.New("bad time")
	errArgBadMode  = errors.New("bad mode")
	errArgSpecials = errors.New("setuid, setgid or sticky bit")
)

// parseREST parses REST's byte offset: decimal, non-negative, surrounding
// blanks ignored (strconv.ParseInt, so a sign and leading zeros pass).
func parseREST(arg string) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(arg), 10, 64)
	if err != nil || n < 0 {
		return 0, errArgSyntax
	}
	return n, nil
}

// parseMFMT parses "YYYYMMDDHHMMSS[.sss] path" (draft-somers-ftp-mfxx): the
// path is everything after the first space, so it may hold spaces.
func parseMFMT(arg string) (time.Time, string, error) {
	stamp, name, ok := strings.Cut(arg, " ")
	if !ok || name == "" {
		return time.Time{}, "", errArgSyntax
	}
	t, err := ftp.ParseTime(stamp)
	if err != nil {
		return time.Time{}, "", errArgBadTime
	}
	return t, name, nil
}

// hashPath is the path argument of HASH (short false) or of an X-hash
// command (short true): mod_digest and Serv-U accept the latter's path in
// double quotes, so one pair around it is removed.
func hashPath(arg string, short bool) string {
	if short && len(arg) >= 2 && strings.HasPrefix(arg, `"`) && strings.HasSuffix(arg, `"`) {
		return arg[1 : len(arg)-1]
	}
	return arg
}

// subcommand splits the argument of OPTS and SITE into the subcommand's
// name, as sent (the handlers match it case-insensitively), and the rest
// after the first space.
func subcommand(arg string) (name, rest string) {
	name, rest, _ = strings.Cut(arg, " ")
	return name, rest
}

// parseChmod parses SITE CHMOD's "<octal mode> <path>" (leading blanks
// ignored; the path is everything after the first space) and returns the
// mode chmodPolicy leaves of it and the mode's text as sent, for the log.
// Setuid, setgid and sticky bits are refused, not silently dropped, so the
// client learns that they did not apply.
func parseChmod(arg string) (mode fs.FileMode, modeText, name string, err error) {
	modeText, name, ok := strings.Cut(strings.TrimLeft(arg, " "), " ")
	if !ok || name == "" {
		return 0, "", "", errArgSyntax
	}
	m, err := strconv.ParseUint(modeText, 8, 32)
	if err != nil || m > 0o7777 {
		return 0, "", "", errArgBadMode
	}
	if m&0o7000 != 0 {
		return 0, "", "", errArgSpecials
	}
	return chmodPolicy(fs.FileMode(m)), modeText, name, nil
}
