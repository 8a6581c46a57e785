package server

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
	"syscall"

	"github.com/port21/port21/internal/ftp"
	"github.com/port21/port21/internal/jail"
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
	s.log.Info(event, "path", vpath)
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
	if err := s.jail.Rename(from, to); err != nil {
		s.replyErr(err)
		return true
	}
	s.log.Info("rename", "from", from, "to", to)
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

func (s *session) cmdMDTM(arg string) bool {
	if _, fi, ok := s.statFile(arg); ok {
		s.reply(ftp.CodeFileStatus, "%s", ftp.FormatTime(fi.ModTime()))
	}
	return true
}

func (s *session) cmdMFMT(arg string) bool {
	stamp, name, ok := strings.Cut(arg, " ")
	if !ok || name == "" {
		s.reply(ftp.CodeParamSyntaxError, "Syntax: MFMT YYYYMMDDHHMMSS path")
		return true
	}
	t, err := ftp.ParseTime(stamp)
	if err != nil {
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

func (s *session) cmdHASH(arg string) bool {
	vpath, f, err := s.openForRead(arg)
	if err != nil {
		s.replyErr(err)
		return true
	}
	defer f.Close()
	sum, n, err := hashFile(context.Background(), s.hashAlgo, f)
	if err != nil {
		s.replyErr(err)
		return true
	}
	// draft-bryan-ftpext-hash: "213 <algo> <start>-<end> <hash> <path>".
	s.reply(ftp.CodeFileStatus, "%s 0-%d %s %s", s.hashAlgo, n, sum, path.Base(vpath))
	return true
}

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

// entry is one listed name with the information every format needs.
type entry struct {
	name string
	info fs.FileInfo
}

// listing reads what LIST, NLST, MLSD and STAT show for vpath: the
// directory's entries, or the file itself. Symbolic links are shown as
// what they point to inside the jail, and left out when they dangle or
// point outside it, so clients never see a link they cannot follow.
func (s *session) listing(vpath string) (dir bool, entries []entry, err error) {
	fi, err := s.jail.Stat(vpath)
	if err != nil {
		return false, nil, err
	}
	if !fi.IsDir() {
		return false, []entry{{name: path.Base(vpath), info: fi}}, nil
	}
	infos, err := s.jail.ReadDir(vpath)
	if err != nil {
		return true, nil, err
	}
	for _, e := range infos {
		if e.Mode()&fs.ModeSymlink != 0 {
			target, err := s.jail.Stat(path.Join(vpath, e.Name()))
			if err != nil {
				continue
			}
			e = renamed{target, e.Name()}
		}
		entries = append(entries, entry{name: e.Name(), info: e})
	}
	return true, entries, nil
}

// renamed is a FileInfo shown under another name (a link's).
type renamed struct {
	fs.FileInfo
	name string
}

func (r renamed) Name() string { return r.name }

func (s *session) listEntry(e entry) ftp.ListEntry {
	mode := e.info.Mode()
	return ftp.ListEntry{
		Name:    e.name,
		Mode:    mode,
		Size:    e.info.Size(),
		ModTime: e.info.ModTime(),
		Nlink:   nlink(e.info),
		Owner:   "ftp",
		Group:   "ftp",
	}
}

func nlink(fi fs.FileInfo) int {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int(st.Nlink)
	}
	return 1
}

func (s *session) factsOf(e entry, typ string) ftp.Facts {
	f := ftp.Facts{
		Type:   typ,
		Modify: e.info.ModTime(),
		Name:   e.name,
		Perm:   ftp.PermFacts(e.info.IsDir(), true, !s.user.ReadOnly),
	}
	if typ == "" {
		f.Type = "file"
		if e.info.IsDir() {
			f.Type = "dir"
		}
	}
	if !e.info.IsDir() {
		f.Size, f.HasSize = e.info.Size(), true
	}
	if st, ok := e.info.Sys().(*syscall.Stat_t); ok {
		f.Unique = strconv.FormatUint(uint64(st.Dev), 16) + "g" + strconv.FormatUint(st.Ino, 16)
	}
	return f
}

func (s *session) cmdLIST(arg string) bool { return s.sendListing("LIST", listArgs(arg), s.formatLIST) }
func (s *session) cmdNLST(arg string) bool { return s.sendListing("NLST", listArgs(arg), s.formatNLST) }
func (s *session) cmdMLSD(arg string) bool {
	return s.sendListing("MLSD", arg, func(dir bool, es []entry) ([]byte, error) {
		if !dir {
			return nil, syscall.ENOTDIR
		}
		var b bytes.Buffer
		for _, e := range es {
			b.WriteString(s.factsOf(e, "").Format(s.facts))
			b.WriteString("\r\n")
		}
		return b.Bytes(), nil
	})
}

func (s *session) formatLIST(_ bool, es []entry) ([]byte, error) {
	var b bytes.Buffer
	now := s.srv.now()
	for _, e := range es {
		b.WriteString(ftp.ListLine(s.listEntry(e), now))
		b.WriteString("\r\n")
	}
	return b.Bytes(), nil
}

func (s *session) formatNLST(_ bool, es []entry) ([]byte, error) {
	var b bytes.Buffer
	for _, e := range es {
		b.WriteString(e.name)
		b.WriteString("\r\n")
	}
	return b.Bytes(), nil
}

// sendListing builds a listing before replying 150, so that a bad path
// gets a plain 550, then sends it over the data connection.
func (s *session) sendListing(op, arg string, format func(dir bool, es []entry) ([]byte, error)) bool {
	if !s.dataPolicy() {
		return true
	}
	vpath, err := jail.Resolve(s.cwd, arg)
	if err != nil {
		s.failData(err)
		return true
	}
	dir, es, err := s.listing(vpath)
	var body []byte
	if err == nil {
		body, err = format(dir, es)
	}
	if err != nil {
		s.failData(err)
		return true
	}
	s.runTransfer(op, vpath, "Here comes the directory listing.", nil, func(ctx context.Context, dc *dataConn) result {
		n, err := s.copyData(dc, dc.conn(), bytes.NewReader(body))
		if err == nil {
			err = dc.finishSend()
		} else {
			dc.abort()
		}
		if err != nil {
			return result{code: ftp.CodeTransferAborted, msg: "Connection closed; transfer aborted.", bytes: n, err: err}
		}
		return result{code: ftp.CodeTransferComplete, msg: "Directory send OK.", bytes: n}
	})
	return true
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
	f := s.factsOf(entry{name: vpath, info: fi}, "")
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
	_, es, err := s.listing(vpath)
	if err != nil {
		s.replyErr(err)
		return true
	}
	lines := []string{"Status of " + vpath + ":"}
	now := s.srv.now()
	for _, e := range es {
		lines = append(lines, ftp.ListLine(s.listEntry(e), now))
	}
	lines = append(lines, "End of status")
	s.send(ftp.Reply{Code: ftp.CodeFileStatus, Lines: lines})
	return true
}
