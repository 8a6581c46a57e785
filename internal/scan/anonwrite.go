package scan

import (
	"bufio"
	"cmp"
	"context"
	"io"
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/port21/port21/internal/finding"
	"github.com/port21/port21/internal/ftp"
)

// Bounds of the anonymous directory listing. A hostile server may send an
// endless listing; the scanner reads this much and no more.
const (
	maxListBytes   = 64 << 10
	maxListEntries = 200
	// maxWriteDirs is how many subdirectories --intrusive tries to store a
	// file in after the login directory refused it.
	maxWriteDirs = 3
	// listTimeout bounds the reading of one listing.
	listTimeout = 10 * time.Second
)

// dirEntry is one line of an `ls -l` style listing the scanner cares about.
type dirEntry struct {
	mode string // "drwxrwxrwx"
	name string
	line string // the line as received, cleaned, for evidence
}

// dir reports whether the entry is a directory.
func (e dirEntry) dir() bool { return strings.HasPrefix(e.mode, "d") }

// worldWritable reports whether the mode bits let others write: the bit
// nmap's ftp-anon reads to print "[NSE: writeable]".
func (e dirEntry) worldWritable() bool { return len(e.mode) >= 10 && e.mode[8] == 'w' }

// uploadNames are directory names that, by convention, are the anonymous
// upload drop box.
var uploadNames = map[string]bool{"upload": true, "uploads": true, "incoming": true}

// parseListLine parses one LIST line (ftp.ParseListLine) and keeps it
// only when its name could be sent back safely in a command.
func parseListLine(line string) (dirEntry, bool) {
	l, ok := ftp.ParseListLine(line)
	if !ok || !safeName(l.Name) {
		return dirEntry{}, false
	}
	return dirEntry{mode: l.Mode, name: l.Name, line: clean(strings.TrimRight(line, "\r\n"), 512)}, true
}

// safeName reports whether a name from a listing may be sent back in a
// command: no control characters (a CR or LF would inject a command), no
// slash, not "." or "..", and not absurdly long.
func safeName(name string) bool {
	if name == "" || name == "." || name == ".." || len(name) > 255 || strings.ContainsRune(name, '/') {
		return false
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

// dataCommand runs one command that moves data over a passive connection:
// it asks for a passive port, connects to the target's own address on it
// (never to an address a PASV reply names), sends cmd, lets body use the
// data connection, and reads the final reply. ok is false when the server
// refused or no data connection could be made, which is inconclusive. After
// one data connection failed, the next attempts are skipped: a passive port
// the scanner cannot reach (a firewall, NAT) would cost a connection
// time-out each.
func (a *audit) dataCommand(c *conn, cmd string, body func(net.Conn)) (ok bool, evs []finding.Evidence, err error) {
	if a.noData {
		return false, nil, nil
	}
	port, pev, err := a.passivePort(c)
	if err != nil || port == 0 {
		return false, nil, err
	}
	evs = append(evs, pev)
	if err := a.s.limiter.Wait(a.ctx); err != nil {
		return false, evs, err
	}
	dctx, cancel := context.WithTimeout(a.ctx, a.s.opts.ConnectTimeout)
	dc, derr := a.s.dial(dctx, "tcp", netip.AddrPortFrom(a.addr.Addr(), port).String())
	cancel()
	if derr != nil {
		a.noData = true
		return false, evs, nil
	}
	defer dc.Close()
	_ = dc.SetDeadline(a.deadline())
	r, ev, err := c.cmd(cmd)
	if err != nil {
		return false, evs, err
	}
	if r.Code != ftp.CodeFileStatusOK && r.Code != ftp.CodeDataConnOpen {
		return false, append(evs, ev), nil
	}
	body(dc)
	dc.Close()
	r2, err := c.reply()
	if err != nil {
		return false, evs, err
	}
	ev.Received += "\n" + replyText(r2)
	return r2.Completion(), append(evs, ev), nil
}

// listLogin lists the login directory over a plain data connection and
// returns its entries, at most maxListEntries of them from at most
// maxListBytes. A listing that cannot be had is no error: the checks that
// use it are then inconclusive.
func (a *audit) listLogin(c *conn) ([]dirEntry, error) {
	var entries []dirEntry
	noData := a.noData
	ok, evs, err := a.dataCommand(c, "LIST", func(dc net.Conn) {
		until := time.Now().Add(listTimeout)
		if d := a.deadline(); !d.IsZero() && d.Before(until) {
			until = d
		}
		_ = dc.SetReadDeadline(until)
		sc := bufio.NewScanner(io.LimitReader(dc, maxListBytes))
		sc.Buffer(make([]byte, 0, 4096), 4096)
		for sc.Scan() && len(entries) < maxListEntries {
			if e, ok := parseListLine(sc.Text()); ok {
				entries = append(entries, e)
			}
		}
	})
	if a.o.ProtC != nil && a.o.ProtC.Code == ftp.CodeOK && !noData && !a.noData && err == nil {
		// A clear data connection was made after PROT C: whether the
		// transfer went through decides data-cleartext-allowed.
		a.o.ClearData = &Login{Tried: true, OK: ok, Evidence: evs}
	}
	return entries, err
}

// listMLSD lists the login directory with MLSD, whose perm facts say
// what this session may do in each directory (RFC 3659), and returns the
// directories it may create files in.
func (a *audit) listMLSD(c *conn) ([]mlsdDir, error) {
	var dirs []mlsdDir
	_, _, err := a.dataCommand(c, "MLSD", func(dc net.Conn) {
		until := time.Now().Add(listTimeout)
		if d := a.deadline(); !d.IsZero() && d.Before(until) {
			until = d
		}
		_ = dc.SetReadDeadline(until)
		sc := bufio.NewScanner(io.LimitReader(dc, maxListBytes))
		sc.Buffer(make([]byte, 0, 4096), 4096)
		for n := 0; sc.Scan() && n < maxListEntries; n++ {
			if m, ok := ftp.ParseMLSxLine(sc.Text()); ok && m.CanCreate() && (m.Name == "." || safeName(m.Name)) {
				dirs = append(dirs, mlsdDir{name: m.Name, line: clean(sc.Text(), 512)})
			}
		}
	})
	return dirs, err
}

// mlsdDir is a directory an MLSD listing says the session may write to.
type mlsdDir struct {
	name string // "." for the listed directory itself
	line string // as received, cleaned, for evidence
}

// writeCandidates picks the subdirectories worth an upload attempt, best
// first: world-writable ones and conventional drop boxes (upload/,
// incoming/, pub/incoming/) before the others, at most maxWriteDirs.
func writeCandidates(entries []dirEntry) []string {
	type cand struct {
		path  string
		score int
	}
	var cands []cand
	for _, e := range entries {
		if !e.dir() {
			continue
		}
		score := 0
		if e.worldWritable() {
			score += 2
		}
		if uploadNames[strings.ToLower(e.name)] {
			score++
		}
		cands = append(cands, cand{e.name, score})
		if strings.EqualFold(e.name, "pub") {
			cands = append(cands, cand{e.name + "/incoming", 1})
		}
	}
	slices.SortStableFunc(cands, func(x, y cand) int { return cmp.Compare(y.score, x.score) })
	var out []string
	for _, c := range cands[:min(len(cands), maxWriteDirs)] {
		out = append(out, c.path)
	}
	return out
}

// anonymousWrite stores a small uniquely named file and deletes it: in the
// login directory, then, since real servers keep that read-only (vsftpd
// insists on it), in up to maxWriteDirs subdirectories from the listing.
// Every data connection goes to the target's own address.
func (a *audit) anonymousWrite(c *conn, entries []dirEntry) error {
	dirs := append([]string{""}, writeCandidates(entries)...)
	for _, dir := range dirs {
		if !a.noData {
			a.o.UploadTried = true
		}
		name := "port21-scan-" + randomName() + ".txt"
		if dir != "" {
			name = dir + "/" + name
		}
		ok, evs, err := a.dataCommand(c, "STOR "+name, func(dc net.Conn) {
			_, _ = io.WriteString(dc, "port21 scan write test; safe to delete\n")
		})
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		r, dev, err := c.cmd("DELE " + name)
		if err != nil {
			return err
		}
		where := "the login directory"
		if dir != "" {
			where = dir + "/"
		}
		sev := &evs[len(evs)-1]
		sev.Note = "an anonymous session stored a file in " + where + "; it was deleted at once"
		if !r.Completion() {
			sev.Note = "an anonymous session stored a file in " + where + "; deleting it failed: remove " + name + " by hand"
		}
		a.o.Upload = append(evs, dev)
		return nil
	}
	return nil
}
