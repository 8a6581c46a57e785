// Package audit is the server's event model and the logs made of it: the
// server emits typed events (connect, tls, login, refusals, bans,
// transfers, file operations, disconnect) into one Sink, which writes the
// audit log, the classic xferlog (one line per file transfer, as wu-ftpd
// and vsftpd write it) and hands each event to the metrics. Log files can
// be reopened after logrotate (SIGUSR1). Every field a client controls is
// escaped, so that no file or user name can forge or split a line.
package audit

import (
	"fmt"
	"net/netip"
	"os"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// File is a log file opened for appending that can be reopened, after
// logrotate has moved it away. Safe for concurrent use.
type File struct {
	path string
	mu   sync.Mutex
	f    *os.File
}

// OpenFile opens (or creates, mode 0600) path for appending.
func OpenFile(path string) (*File, error) {
	lf := &File{path: path}
	if err := lf.Reopen(); err != nil {
		return nil, err
	}
	return lf, nil
}

// Reopen closes the file and opens path again; on error the old file
// stays in use.
func (lf *File) Reopen() error {
	f, err := os.OpenFile(lf.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("audit: open %s: %w", lf.path, err)
	}
	lf.mu.Lock()
	old := lf.f
	lf.f = f
	lf.mu.Unlock()
	if old != nil {
		old.Close()
	}
	return nil
}

// Write appends p, one whole write per call (a log line).
func (lf *File) Write(p []byte) (int, error) {
	lf.mu.Lock()
	defer lf.mu.Unlock()
	return lf.f.Write(p)
}

// Close closes the file.
func (lf *File) Close() error {
	lf.mu.Lock()
	defer lf.mu.Unlock()
	return lf.f.Close()
}

// Transfer is one finished file transfer.
type Transfer struct {
	Start    time.Time
	Duration time.Duration
	Remote   netip.Addr
	Bytes    int64
	// Path is the path the client sees (inside its home), as it named it:
	// hostile input.
	Path      string
	Upload    bool
	ASCII     bool
	User      string // the account; hostile input too
	Anonymous bool
	Complete  bool
	// Op is the command (RETR, STOR, APPE, STOU, LIST, NLST, MLSD), Code
	// the final reply's code and Err why it failed, for the audit log.
	Op   string
	Code int
	Err  string
}

// IsFile reports whether t moved a file (the xferlog's business), not a
// listing.
func (t Transfer) IsFile() bool { return t.Upload || t.Op == "RETR" }

// Xferlog writes transfers in the wu-ftpd xferlog format (xferlog(5)), as
// vsftpd does with xferlog_std_format:
//
//	Thu Mar  4 08:12:30 2004 1 192.0.2.7 1055 /dir/file.txt b _ o r alice ftp 0 * c
//
// current time, seconds taken, client, bytes, file name (spaces as '_'),
// type (a/b), action (_), direction (o out, i in), access (a anonymous,
// r real), user, service, authentication method (0), user id (*), status
// (c complete, i incomplete). The user of an anonymous login is
// "anonymous": vsftpd writes the e-mail given as password there, port21
// never writes a password.
type Xferlog struct {
	W interface{ Write([]byte) (int, error) }
}

// Transfer writes one line.
func (x *Xferlog) Transfer(t Transfer) {
	x.W.Write([]byte(XferlogLine(t)))
}

// XferlogLine is t as one xferlog line, with its newline.
func XferlogLine(t Transfer) string {
	typ, dir, access, status := "b", "o", "r", "c"
	if t.ASCII {
		typ = "a"
	}
	if t.Upload {
		dir = "i"
	}
	user := t.User
	if t.Anonymous {
		access, user = "a", "anonymous"
	}
	if !t.Complete {
		status = "i"
	}
	end := t.Start.Add(t.Duration)
	secs := int64(t.Duration.Round(time.Second) / time.Second)
	return fmt.Sprintf("%s %d %s %d %s %s _ %s %s %s ftp 0 * %s\n",
		end.Format("Mon Jan _2 15:04:05 2006"), secs, t.Remote.String(), t.Bytes,
		Field(t.Path), typ, dir, access, Field(user), status)
}

// Field escapes s for a space-separated log line: a space becomes '_' (as
// vsftpd writes file names), a backslash "\\", and every control or
// invisible character, and every byte that is not UTF-8, a \xNN, \uNNNN or
// \UNNNNNNNN escape. So the result is one printable field: no CR or LF to start a
// forged line, no terminal escape, no bidirectional override.
func Field(s string) string {
	if s == "" {
		return "-"
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == ' ':
			b.WriteByte('_')
		case r == '\\':
			b.WriteString(`\\`)
		case r < 0x80 && (r < 0x20 || r == 0x7f):
			fmt.Fprintf(&b, `\x%02x`, r)
		case r > 0xffff && (!unicode.IsGraphic(r) || unicode.Is(unicode.Cf, r)):
			fmt.Fprintf(&b, `\U%08x`, r)
		case !unicode.IsGraphic(r) || unicode.Is(unicode.Cf, r) || unicode.IsSpace(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
		i += n
	}
	return b.String()
}
