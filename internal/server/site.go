package server

import (
	"errors"
	"io/fs"
	"strconv"
	"strings"

	"github.com/port21/port21/internal/audit"
	"github.com/port21/port21/internal/ftp"
	"github.com/port21/port21/internal/users"
)

// siteCommands are the SITE subcommands, for SITE HELP.
var siteCommands = []string{
	"CHMOD <mode> <path>  set permission bits (octal, e.g. 640); group write and others' bits are always cleared",
	"HELP                 this list",
}

func (s *session) cmdSITE(arg string) bool {
	name, rest := subcommand(arg)
	switch strings.ToUpper(name) {
	case "HELP":
		lines := append([]string{"SITE commands:"}, siteCommands...)
		s.send(ftp.Reply{Code: ftp.CodeHelp, Lines: append(lines, "End of SITE help.")})
	case "CHMOD":
		s.siteChmod(rest)
	default:
		s.reply(ftp.CodeNotImplemented, "SITE %s not supported; SITE HELP lists what is.", strings.ToUpper(name))
	}
	return true
}

// siteChmod serves SITE CHMOD (PHP's ftp_chmod, FileZilla's "File
// permissions", WinSCP). The client chooses the owner's bits; of the
// group's only read and search are kept, and others get nothing, so no file
// in a home ever becomes group- or world-writable, or readable by everyone,
// through FTP (what port21 creates is 0640 and 0750, see package jail).
// Setuid, setgid and sticky bits are refused.
func (s *session) siteChmod(arg string) {
	if s.refused(true, users.PermOverwrite) {
		return
	}
	mode, _, name, err := parseChmod(arg)
	switch {
	case errors.Is(err, errArgSyntax):
		s.reply(ftp.CodeParamSyntaxError, "Syntax: SITE CHMOD <mode> <path>")
		return
	case errors.Is(err, errArgSpecials):
		s.reply(ftp.CodeFileUnavailable, "Setuid, setgid and sticky bits are not allowed.")
		return
	case err != nil:
		s.reply(ftp.CodeParamSyntaxError, "Bad mode: want octal permission bits, e.g. 644.")
		return
	}
	vpath, ok := s.resolve(name)
	if !ok {
		return
	}
	if err := s.jail.Chmod(vpath, mode); err != nil {
		s.replyErr(err)
		return
	}
	s.emit(audit.FileOp{Op: "chmod", Path: vpath, To: "0" + strconv.FormatUint(uint64(mode), 8)})
	// PHP's ftp_chmod succeeds on 200 only.
	s.reply(ftp.CodeOK, "SITE CHMOD command ok; mode is now 0%o.", uint32(mode))
}

// chmodPolicy keeps the owner bits of asked and the group's read and
// search bits; the rest is cleared.
func chmodPolicy(asked fs.FileMode) fs.FileMode {
	return asked & 0o750
}
