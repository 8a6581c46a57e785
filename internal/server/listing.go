package server

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/port21/port21/internal/audit"
	"github.com/port21/port21/internal/ftp"
	"github.com/port21/port21/internal/jail"
)

// Listings are streamed: the directory is read listBatch entries at a time,
// each batch is sorted by name, formatted and written to the data
// connection before the next is read. A directory of up to listBatch
// entries is therefore listed fully sorted; a bigger one comes in sorted
// runs of listBatch, in the file system's order. Clients sort listings
// themselves, and sorting a whole directory would mean holding it in
// memory, which is what let one MLSD of 100,000 files take 116 MB.
const (
	listBatch = 512
	// listFlush is how much formatted listing is buffered before a write.
	listFlush = 32 << 10
	// maxListings bounds the listings running at once, server-wide: each
	// holds a directory handle and a batch, and reads the disk.
	maxListings = 32
	// listingWait is how long a listing waits for a free slot before the
	// client is told to retry.
	listingWait = 2 * time.Second
	// maxStatEntries bounds STAT of a directory, which answers on the
	// control connection: the rest is for LIST or MLSD. It stays well
	// below the 1000-line replies that clients (port21's own reader
	// included) accept.
	maxStatEntries = 500
)

// listLimits is the server-wide state of listings.
type listLimits struct {
	slots chan struct{}
	// key makes MLSx "unique" facts opaque: an HMAC of the device and
	// inode, so they identify files without revealing either number.
	key [32]byte
}

func newListLimits(n int) *listLimits {
	l := &listLimits{slots: make(chan struct{}, n)}
	rand.Read(l.key[:])
	return l
}

// acquire takes a listing slot, waiting up to listingWait; release gives it
// back.
func (l *listLimits) acquire() (release func(), ok bool) {
	t := time.NewTimer(listingWait)
	defer t.Stop()
	select {
	case l.slots <- struct{}{}:
		return func() { <-l.slots }, true
	case <-t.C:
		return nil, false
	}
}

// unique returns the opaque "unique" fact of a file.
func (l *listLimits) unique(dev, ino uint64) string {
	m := hmac.New(sha256.New, l.key[:])
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], dev)
	binary.BigEndian.PutUint64(b[8:], ino)
	m.Write(b[:])
	return hex.EncodeToString(m.Sum(nil)[:12])
}

// entry is one listed name with the information every format needs.
type entry struct {
	name   string
	info   fs.FileInfo
	kind   string // an MLSD type fact that overrides the file's: cdir or pdir
	prefix string // put before the name by NLST (see nlstPrefix)
}

// listSource yields what LIST, NLST, MLSD and STAT show for a path: the
// directory's entries in batches, or the file itself.
type listSource struct {
	dir  *jail.Dir
	file *entry // set when the path is not a directory; nil once returned

	pattern string  // a wildcard the names must match (see globTarget)
	matched int     // names matched so far, up to maxGlobMatches
	pending []entry // returned before the directory is read on
	eof     bool    // the directory is read to its end
	prefix  string  // put before each name by NLST (see nlstPrefix)
}

// openListing opens what vpath lists, so that a bad path is refused before
// the data connection is used.
//
// A path that does not exist but ends in a wildcard lists what matches it
// in its directory; a name that exists is always itself, so a file really
// named `*` stays reachable.
func (s *session) openListing(vpath string) (*listSource, error) {
	fi, err := s.jail.Stat(vpath)
	if errors.Is(err, fs.ErrNotExist) {
		if dir, pattern, ok := globTarget(vpath); ok {
			return s.openGlob(dir, pattern)
		}
	}
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return &listSource{file: &entry{name: path.Base(vpath), info: fi}}, nil
	}
	d, err := s.jail.OpenDir(vpath)
	if err != nil {
		return nil, err
	}
	return &listSource{dir: d}, nil
}

func (l *listSource) isDir() bool { return l.dir != nil && l.pattern == "" }

// next returns the next batch, sorted by name, and io.EOF at the end.
// Symbolic links that dangle or point outside the jail are left out, so
// clients never see a link they cannot follow; those inside are shown as
// what they point to.
func (l *listSource) next() ([]entry, error) {
	if len(l.pending) > 0 {
		es := l.pending
		l.pending = nil
		if l.eof {
			return es, io.EOF
		}
		return es, nil
	}
	if l.dir == nil {
		if l.file == nil {
			return nil, io.EOF
		}
		e := *l.file
		l.file = nil
		return []entry{e}, io.EOF
	}
	if l.eof {
		return nil, io.EOF
	}
	infos, err := l.dir.Next(listBatch)
	es := make([]entry, 0, len(infos))
	for _, fi := range infos {
		if fi.Mode()&fs.ModeSymlink != 0 {
			continue
		}
		if l.pattern != "" {
			if ok, _ := path.Match(l.pattern, fi.Name()); !ok {
				continue
			}
		}
		es = append(es, entry{name: fi.Name(), info: fi, prefix: l.prefix})
	}
	slices.SortFunc(es, func(a, b entry) int { return strings.Compare(a.name, b.name) })
	if l.pattern != "" {
		if l.matched+len(es) >= maxGlobMatches {
			es = es[:maxGlobMatches-l.matched]
			err = io.EOF
		}
		l.matched += len(es)
	}
	if errors.Is(err, io.EOF) {
		l.eof = true
	}
	return es, err
}

func (l *listSource) close() {
	if l.dir != nil {
		l.dir.Close()
	}
}

func (s *session) listEntry(e entry) ftp.ListEntry {
	return ftp.ListEntry{
		Name:    e.name,
		Mode:    e.info.Mode(),
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

// factType is the RFC 3659 type fact of a file. Special files get the
// "OS.unix=" types section 7.5.1 allows, so a client never takes a FIFO
// or a device for a file it could download.
func factType(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "dir"
	case m.IsRegular():
		return "file"
	case m&fs.ModeSymlink != 0:
		return "OS.unix=slink"
	case m&fs.ModeNamedPipe != 0:
		return "OS.unix=fifo"
	case m&fs.ModeSocket != 0:
		return "OS.unix=socket"
	case m&fs.ModeCharDevice != 0:
		return "OS.unix=chardev"
	case m&fs.ModeDevice != 0:
		return "OS.unix=blockdev"
	}
	return "OS.unix=unknown"
}

func (s *session) factsOf(e entry) ftp.Facts {
	mode := e.info.Mode()
	write := !s.user.ReadOnly
	f := ftp.Facts{
		Type:   factType(mode),
		Modify: e.info.ModTime(),
		Name:   e.name,
	}
	if e.kind != "" {
		f.Type = e.kind
	}
	switch {
	case mode.IsDir() || mode.IsRegular():
		f.Perm = ftp.PermFacts(mode.IsDir(), true, write)
	case write:
		// A special file cannot be read or written, only deleted or renamed.
		f.Perm = "df"
	}
	if mode.IsRegular() {
		f.Size, f.HasSize = e.info.Size(), true
	}
	if st, ok := e.info.Sys().(*syscall.Stat_t); ok {
		f.Unique = s.srv.lists.unique(uint64(st.Dev), st.Ino)
	}
	return f
}

// A lineFormat appends one listing line, with its CRLF, to b.
type lineFormat func(b []byte, e entry) []byte

func (s *session) cmdLIST(arg string) bool {
	now := s.srv.now()
	return s.sendListing("LIST", listArgs(arg), func(b []byte, e entry) []byte {
		return append(ftp.AppendListLine(b, s.listEntry(e), now), '\r', '\n')
	})
}

func (s *session) cmdNLST(arg string) bool {
	return s.sendListing("NLST", listArgs(arg), func(b []byte, e entry) []byte {
		return append(ftp.AppendName(b, e.prefix+e.name), '\r', '\n')
	})
}

func (s *session) cmdMLSD(arg string) bool {
	return s.sendListing("MLSD", arg, func(b []byte, e entry) []byte {
		return append(s.factsOf(e).Append(b, s.facts), '\r', '\n')
	})
}

// dirEntries returns the cdir and pdir entries (RFC 3659 7.5.1) that MLSD
// of vpath starts with, for clients that chose their facts with OPTS MLST,
// type among them. Those parse MLSx fully; others, such as Go's
// jlaffaye/ftp, would show "." and ".." as folders. The home has no pdir:
// its parent is outside the jail.
func (s *session) dirEntries(vpath string) []entry {
	if !s.mlstAsked || s.facts&ftp.FactType == 0 {
		return nil
	}
	var es []entry
	if fi, err := s.jail.Stat(vpath); err == nil {
		es = append(es, entry{name: ".", info: fi, kind: "cdir"})
	}
	if vpath != "/" {
		if fi, err := s.jail.Stat(path.Dir(vpath)); err == nil {
			es = append(es, entry{name: "..", info: fi, kind: "pdir"})
		}
	}
	return es
}

// sendListing opens the listing before replying 150, so that a bad path
// gets a plain 550, then streams it over the data connection batch by
// batch.
func (s *session) sendListing(op, arg string, format lineFormat) bool {
	if !s.dataPolicy() {
		return true
	}
	vpath, err := jail.Resolve(s.cwd, arg)
	if err != nil {
		s.failData(err)
		return true
	}
	src, err := s.openListing(vpath)
	if err == nil && op == "MLSD" && src.file != nil {
		src.close()
		err = syscall.ENOTDIR
	}
	if err != nil {
		s.failData(err)
		return true
	}
	switch {
	case op == "NLST" && src.pattern != "":
		src.prefix = nlstPrefix(arg)
		for i := range src.pending {
			src.pending[i].prefix = src.prefix
		}
	case op == "MLSD" && src.isDir():
		src.pending = s.dirEntries(vpath)
	}
	release, ok := s.srv.lists.acquire()
	if !ok {
		src.close()
		s.data.close()
		s.data = nil
		s.emit(audit.Refused{Stage: audit.StageCommand, Reason: "listing-limit", Detail: op + " " + vpath})
		s.reply(ftp.CodeActionNotTaken, "Too many directory listings in progress; try again later.")
		return true
	}
	abandon := func() {
		src.close()
		release()
	}
	s.runTransfer(op, vpath, "Here comes the directory listing.", abandon, func(ctx context.Context, dc *dataConn) result {
		defer abandon()
		n, err := s.streamListing(ctx, dc, src, format)
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

// streamListing formats src batch by batch into a buffer of about
// listFlush bytes and writes it out whenever it fills.
//
// ctx is checked per batch: a wildcard that matches little in a huge
// directory reads it all without writing, so a closed connection alone
// would not stop it.
func (s *session) streamListing(ctx context.Context, dc *dataConn, src *listSource, format lineFormat) (int64, error) {
	w := dc.conn()
	timeout := s.srv.conf().DataTimeout.Duration
	buf := make([]byte, 0, listFlush+4096)
	var total int64
	flush := func() error {
		if len(buf) == 0 {
			return nil
		}
		// Under TLS the stallConn refreshes the deadline itself.
		if dc.tls == nil {
			dc.setDeadline(time.Now().Add(timeout))
		}
		n, err := w.Write(buf)
		total += int64(n)
		buf = buf[:0]
		return err
	}
	for {
		if err := ctx.Err(); err != nil {
			return total, fmt.Errorf("listing: %w", err)
		}
		es, err := src.next()
		if err != nil && !errors.Is(err, io.EOF) {
			return total, fmt.Errorf("listing: %w", err)
		}
		for _, e := range es {
			buf = format(buf, e)
			if len(buf) >= listFlush {
				if werr := flush(); werr != nil {
					return total, werr
				}
			}
		}
		if err != nil {
			return total, flush()
		}
	}
}

// statListing answers STAT of a path on the control connection, like
// LIST but bounded to maxStatEntries lines, and says so when it stops.
func (s *session) statListing(vpath string) {
	src, err := s.openListing(vpath)
	if err != nil {
		s.replyErr(err)
		return
	}
	defer src.close()
	lines := []string{"Status of " + vpath + ":"}
	now := s.srv.now()
	shown := 0
	truncated := false
	for !truncated {
		if err := s.ctx.Err(); err != nil {
			return // the session or the server is ending
		}
		es, err := src.next()
		if err != nil && !errors.Is(err, io.EOF) {
			s.replyErr(err)
			return
		}
		for _, e := range es {
			if shown == maxStatEntries {
				truncated = true
				break
			}
			lines = append(lines, ftp.ListLine(s.listEntry(e), now))
			shown++
		}
		if err != nil {
			break
		}
	}
	if truncated {
		lines = append(lines, fmt.Sprintf("Only the first %d entries are shown; use LIST or MLSD for all of them.", maxStatEntries))
	}
	lines = append(lines, "End of status")
	s.send(ftp.Reply{Code: ftp.CodeFileStatus, Lines: lines})
}
