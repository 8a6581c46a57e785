package server

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/port21/port21/internal/audit"
	"github.com/port21/port21/internal/ftp"
	"github.com/port21/port21/internal/jail"
	"github.com/port21/port21/internal/users"
)

// resolve turns a client path into a virtual path, replying on error.
func (s *session) resolve(arg string) (string, bool) {
	vpath, err := jail.Resolve(s.cwd, arg)
	if err != nil {
		s.replyErr(err)
		return "", false
	}
	return vpath, true
}

func (s *session) cmdPWD(string) bool {
	s.reply(ftp.CodePathCreated, "%s is the current directory.", ftp.QuotePath(s.cwd))
	return true
}

func (s *session) cmdCWD(arg string) bool {
	if arg == "" {
		arg = "/"
	}
	vpath, ok := s.resolve(arg)
	if !ok {
		return true
	}
	fi, err := s.jail.Stat(vpath)
	if err != nil {
		s.replyErr(err)
		return true
	}
	if !fi.IsDir() {
		s.reply(ftp.CodeFileUnavailable, "Not a directory.")
		return true
	}
	s.cwd = vpath
	s.reply(ftp.CodeFileActionOK, "Directory changed to %s.", vpath)
	return true
}

func (s *session) cmdCDUP(string) bool { return s.cmdCWD("..") }

// change runs one file-system change on a client path, logs it for the
// audit trail and replies.
func (s *session) change(arg, event string, op func(vpath string) error, code int, done func(vpath string) string) bool {
	vpath, ok := s.resolve(arg)
	if !ok {
		return true
	}
	if err := op(vpath); err != nil {
		s.replyErr(err)
		return true
	}
	s.emit(audit.FileOp{Op: event, Path: vpath})
	s.reply(code, "%s", done(vpath))
	return true
}

func (s *session) cmdMKD(arg string) bool {
	return s.change(arg, "mkdir", s.jail.Mkdir, ftp.CodePathCreated, func(vpath string) string {
		return ftp.QuotePath(vpath) + " created."
	})
}

func (s *session) cmdRMD(arg string) bool {
	return s.change(arg, "rmdir", s.jail.RemoveDir, ftp.CodeFileActionOK, func(string) string { return "Directory removed." })
}

func (s *session) cmdDELE(arg string) bool {
	return s.change(arg, "delete", s.jail.RemoveFile, ftp.CodeFileActionOK, func(string) string { return "File deleted." })
}

func (s *session) cmdRNFR(arg string) bool {
	vpath, ok := s.resolve(arg)
	if !ok {
		return true
	}
	if _, err := s.jail.Lstat(vpath); err != nil {
		s.replyErr(err)
		return true
	}
	s.renameFrom = vpath
	s.reply(ftp.CodePendingMore, "Ready for RNTO.")
	return true
}

func (s *session) cmdRNTO(arg string) bool {
	from := s.renameFrom
	s.renameFrom = ""
	if from == "" {
		s.reply(ftp.CodeBadSequence, "Send RNFR first.")
		return true
	}
	to, ok := s.resolve(arg)
	if !ok {
		return true
	}
	// A rename replaces an existing target: that is an overwrite.
	if _, err := s.jail.Lstat(to); err == nil && !s.user.Can(users.PermOverwrite) {
		s.reply(ftp.CodeFileUnavailable, "Permission denied: %s.", users.PermOverwrite.Refusal())
		return true
	}
	if err := s.jail.Rename(from, to); err != nil {
		s.replyErr(err)
		return true
	}
	s.emit(audit.FileOp{Op: "rename", Path: from, To: to})
	s.reply(ftp.CodeFileActionOK, "Rename successful.")
	return true
}

// statFile stats a path that must be a regular file.
func (s *session) statFile(arg string) (string, fs.FileInfo, bool) {
	vpath, ok := s.resolve(arg)
	if !ok {
		return "", nil, false
	}
	fi, err := s.jail.Stat(vpath)
	if err != nil {
		s.replyErr(err)
		return "", nil, false
	}
	if !fi.Mode().IsRegular() {
		s.reply(ftp.CodeFileUnavailable, "Not a regular file.")
		return "", nil, false
	}
	return vpath, fi, true
}

func (s *session) cmdSIZE(arg string) bool {
	if _, fi, ok := s.statFile(arg); ok {
		s.reply(ftp.CodeFileStatus, "%d", fi.Size())
	}
	return true
}

// cmdMDTM answers a file's time (RFC 3659), or, with a time before the
// path, sets it like MFMT: the vsftpd extension that rclone and other
// clients use. A name that exists as given is always a query, so a file
// called "20240101000000 notes" can still be asked about. Setting is a
// write, refused for read-only accounts.
func (s *session) cmdMDTM(arg string) bool {
	if stamp, name, ok := strings.Cut(arg, " "); ok && name != "" {
		if _, err := ftp.ParseTime(stamp); err == nil && !s.exists(arg) {
			if s.refused(true, users.PermOverwrite) { // what MFMT needs
				return true
			}
			return s.cmdMFMT(arg)
		}
	}
	if _, fi, ok := s.statFile(arg); ok {
		s.reply(ftp.CodeFileStatus, "%s", ftp.FormatTime(fi.ModTime()))
	}
	return true
}

// exists reports whether the client path arg names something.
func (s *session) exists(arg string) bool {
	vpath, err := jail.Resolve(s.cwd, arg)
	if err != nil {
		return false
	}
	_, err = s.jail.Stat(vpath)
	return err == nil
}

func (s *session) cmdMFMT(arg string) bool {
	t, name, err := parseMFMT(arg)
	switch {
	case errors.Is(err, errArgSyntax):
		s.reply(ftp.CodeParamSyntaxError, "Syntax: MFMT YYYYMMDDHHMMSS path")
		return true
	case err != nil:
		s.reply(ftp.CodeParamSyntaxError, "Bad time: want YYYYMMDDHHMMSS in UTC.")
		return true
	}
	vpath, ok := s.resolve(name)
	if !ok {
		return true
	}
	if err := s.jail.Chtimes(vpath, t); err != nil {
		s.replyErr(err)
		return true
	}
	s.reply(ftp.CodeFileStatus, "Modify=%s; %s", ftp.FormatTime(t), path.Base(vpath))
	return true
}

func (s *session) cmdHASH(arg string) bool { return s.runHash(arg, s.hashAlgo, false) }

// listArgs strips the ls-style options (-a, -la, ...) that clients put in
// front of LIST and NLST paths; port21 always lists everything.
func listArgs(arg string) string {
	for {
		arg = strings.TrimLeft(arg, " ")
		if !strings.HasPrefix(arg, "-") {
			return arg
		}
		opt, rest, _ := strings.Cut(arg, " ")
		if strings.ContainsAny(opt[1:], "/") {
			return arg
		}
		arg = rest
	}
}

func (s *session) cmdMLST(arg string) bool {
	vpath, ok := s.resolve(arg)
	if !ok {
		return true
	}
	fi, err := s.jail.Stat(vpath)
	if err != nil {
		s.replyErr(err)
		return true
	}
	f := s.factsOf(entry{name: vpath, info: fi})
	// RFC 3659 7.2: the facts line of MLST starts with a space.
	s.send(ftp.Reply{Code: ftp.CodeFileActionOK, Lines: []string{"Listing " + vpath, " " + f.Format(s.facts), "End"}})
	return true
}

func (s *session) cmdSTAT(arg string) bool {
	if arg == "" {
		lines := []string{"port21 status:"}
		lines = append(lines, fmt.Sprintf("Connected from %s", s.remote.Addr()))
		if s.user != nil {
			lines = append(lines, "Logged in as "+s.user.Name)
		} else {
			lines = append(lines, "Not logged in")
		}
		lines = append(lines, fmt.Sprintf("TYPE: %s; control TLS: %v; data protection: %c", s.typeName(), s.tlsOn, s.prot))
		if s.xfer != nil {
			lines = append(lines, "A transfer is in progress")
		}
		lines = append(lines, "End of status")
		s.send(ftp.Reply{Code: ftp.CodeSystemStatus, Lines: lines})
		return true
	}
	if s.user == nil {
		s.reply(ftp.CodeNotLoggedIn, "Please log in with USER and PASS first.")
		return true
	}
	vpath, ok := s.resolve(listArgs(arg))
	if !ok {
		return true
	}
	s.statListing(vpath)
	return true
}
