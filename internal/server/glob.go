package server

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"
)

// maxGlobMatches bounds what one wildcard listing returns: `mdelete *` on
// a huge directory should not turn into a million DELEs, and a client that
// wants everything lists the directory itself.
const maxGlobMatches = 10000

// errNoMatch is a wildcard that matches nothing.
var errNoMatch = fmt.Errorf("no file matches the pattern: %w", fs.ErrNotExist)

// hasMeta reports whether s contains a path.Match wildcard.
func hasMeta(s string) bool { return strings.ContainsAny(s, `*?[`) }

// globTarget splits a listing path whose last component is a pattern
// (`*.txt`, `dir/file?.bin`, `[ab]*`), as tnftp's and ncftp's mget and
// mdelete send. It reports false when the path has no pattern there or has
// one further up: patterns are matched in one directory, never
// recursively.
func globTarget(vpath string) (dir, pattern string, ok bool) {
	dir, pattern = path.Split(vpath)
	if !hasMeta(pattern) || hasMeta(dir) {
		return "", "", false
	}
	if _, err := path.Match(pattern, ""); err != nil {
		return "", "", false
	}
	return path.Clean(dir), pattern, true
}

// nlstPrefix is what NLST puts in front of each name a pattern matched: the
// directory part of the client's own argument, as vsftpd and ProFTPD do
// (`NLST dir/*.txt` answers `dir/a.txt`), so that the names work as they
// are in the client's next RETR or DELE. It is the client's own text, so it
// reveals nothing.
func nlstPrefix(arg string) string {
	if i := strings.LastIndexByte(arg, '/'); i >= 0 {
		return arg[:i+1]
	}
	return ""
}

// openGlob opens a wildcard listing of dir, reading until the first match
// so that a pattern that matches nothing gets a plain 550 before any data
// connection is used. The batch that held it is kept for next.
func (s *session) openGlob(dir, pattern string) (*listSource, error) {
	fi, err := s.jail.Stat(dir)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return nil, errNoMatch
	}
	d, err := s.jail.OpenDir(dir)
	if err != nil {
		return nil, err
	}
	src := &listSource{dir: d, pattern: pattern}
	for {
		if err := s.ctx.Err(); err != nil {
			src.close()
			return nil, err
		}
		es, err := src.next()
		if len(es) > 0 {
			src.pending = es
			if errors.Is(err, io.EOF) {
				src.eof = true
			}
			return src, nil
		}
		if errors.Is(err, io.EOF) {
			src.close()
			return nil, errNoMatch
		}
		if err != nil {
			src.close()
			return nil, err
		}
	}
}
