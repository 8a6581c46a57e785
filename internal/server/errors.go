package server

import (
	"errors"
	"io/fs"
	"syscall"

	"github.com/port21/port21/internal/ftp"
	"github.com/port21/port21/internal/jail"
)

// errReply maps a file-system error to the reply a client sees. It is the
// only place that does: OS errors carry real paths and details that belong
// in the log, never on the wire.
func errReply(err error) (int, string) {
	switch {
	case errors.Is(err, jail.ErrBadName), errors.Is(err, syscall.ENAMETOOLONG):
		return ftp.CodeBadFileName, "File name not allowed."
	case errors.Is(err, jail.ErrIsRoot):
		return ftp.CodeFileUnavailable, "Not allowed on the home directory itself."
	case errors.Is(err, jail.ErrBadOffset):
		return codeBadRestart, "Restart offset is beyond the end of the file."
	case errors.Is(err, jail.ErrNotRegular):
		return ftp.CodeFileUnavailable, "Not a regular file."
	case errors.Is(err, fs.ErrNotExist):
		return ftp.CodeFileUnavailable, "No such file or directory."
	case errors.Is(err, fs.ErrExist):
		return ftp.CodeFileUnavailable, "File exists."
	case errors.Is(err, fs.ErrPermission):
		return ftp.CodeFileUnavailable, "Permission denied."
	case errors.Is(err, syscall.ENOTEMPTY):
		return ftp.CodeFileUnavailable, "Directory not empty."
	case errors.Is(err, syscall.ENOTDIR):
		return ftp.CodeFileUnavailable, "Not a directory."
	case errors.Is(err, syscall.EISDIR):
		return ftp.CodeFileUnavailable, "Is a directory."
	case errors.Is(err, syscall.ENOSPC):
		return ftp.CodeInsufficientStorage, "Insufficient storage space."
	case errors.Is(err, syscall.EDQUOT):
		return ftp.CodeExceededStorage, "Storage quota exceeded."
	default:
		return ftp.CodeLocalError, "Local error in processing."
	}
}

// replyErr replies with errReply's mapping and logs unexpected errors.
func (s *session) replyErr(err error) {
	code, msg := errReply(err)
	if code == ftp.CodeLocalError {
		s.log.Error("file operation failed", "err", err)
	} else {
		s.log.Debug("file operation refused", "err", err)
	}
	s.reply(code, "%s", msg)
}

// codeBadRestart is RFC 3659 5.4's reply to a REST offset that cannot be
// honoured ("554 Requested action not taken: invalid REST parameter").
const codeBadRestart = 554
