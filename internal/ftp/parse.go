package ftp

import "strings"

// Parsing of what a server sends, for clients such as the scanner. Every
// byte here comes from a server that may be hostile: the parsers accept
// only the forms they know and say so, and never panic.

// ListedLine is one line of a Unix `ls -l` style LIST listing, as parsed.
type ListedLine struct {
	Mode string // the ten mode characters, "drwxrwxrwx"
	Name string // for a symbolic link, the link's own name
}

// Dir reports whether the entry is a directory.
func (l ListedLine) Dir() bool { return strings.HasPrefix(l.Mode, "d") }

// WorldWritable reports whether the mode bits let others write: the bit
// nmap's ftp-anon reads to print "[NSE: writeable]".
func (l ListedLine) WorldWritable() bool { return len(l.Mode) >= 10 && l.Mode[8] == 'w' }

// ParseListLine parses one line of a Unix `ls -l` style listing, the form
// vsftpd, ProFTPD, Pure-FTPd and port21 send for LIST: a mode, a link count,
// owner, group, size, three date fields and the name, which may hold
// spaces. ok is false for lines of any other form (totals, DOS listings,
// garbage) and for names no command could carry (sendableName). As with
// every ls -l parser, a name's leading blanks are lost in the columns.
func ParseListLine(line string) (ListedLine, bool) {
	line = strings.TrimRight(line, "\r\n")
	rest := line
	var fields [8]string
	for i := range fields {
		rest = strings.TrimLeft(rest, " \t")
		j := strings.IndexAny(rest, " \t")
		if j < 0 {
			return ListedLine{}, false
		}
		fields[i], rest = rest[:j], rest[j:]
	}
	name := strings.TrimLeft(rest, " \t")
	mode := fields[0]
	if len(mode) < 10 || !strings.ContainsRune("-dlbcps", rune(mode[0])) {
		return ListedLine{}, false
	}
	for _, r := range mode[1:10] {
		if !strings.ContainsRune("rwxsStT-", r) {
			return ListedLine{}, false
		}
	}
	if mode[0] == 'l' {
		// The blank before "->" may be the columns' own, when the link's
		// name is empty: "14:49  -> target" names nothing, not "-> target".
		if strings.HasPrefix(name, "-> ") {
			return ListedLine{}, false
		}
		name, _, _ = strings.Cut(name, " -> ")
	}
	if !sendableName(name) {
		return ListedLine{}, false
	}
	return ListedLine{Mode: mode[:10], Name: name}, true
}

// sendableName reports whether a listed name, or a feature, can be sent
// back in a command at all: not empty, and no CR, LF or NUL, which would
// end the command line early and let the server's listing inject a command
// of its choosing ("x\rDELE y") into the client's RETR or DELE. A line
// reader leaves a CR or NUL inside a line, so the parsers must refuse them
// themselves.
func sendableName(name string) bool {
	return name != "" && !strings.ContainsAny(name, "\r\n\x00")
}

// MLSxLine is one entry of an MLSD listing or MLST reply (RFC 3659): its
// facts, keys in lower case, and its name.
type MLSxLine struct {
	Facts map[string]string
	Name  string
}

// Type is the entry's type fact, lower case: "file", "dir", "cdir", "pdir"
// or an OS-specific one.
func (m MLSxLine) Type() string { return strings.ToLower(m.Facts["type"]) }

// Dir reports whether the entry is a directory (type dir or cdir).
func (m MLSxLine) Dir() bool { t := m.Type(); return t == "dir" || t == "cdir" }

// CanCreate reports whether the perm fact lets the logged-in user create
// files ('c') or directories ('m') in the directory: RFC 3659's own answer
// to "may I write here", for this user, not for everyone.
func (m MLSxLine) CanCreate() bool {
	p, ok := m.Facts["perm"]
	return ok && m.Dir() && strings.ContainsAny(strings.ToLower(p), "cm")
}

// ParseMLSxLine parses "fact=value;fact=value; name". ok is false for a
// line without the space before the name or with a malformed fact.
func ParseMLSxLine(line string) (MLSxLine, bool) {
	line = strings.TrimRight(line, "\r\n")
	facts, name, ok := strings.Cut(line, " ")
	if !ok || !sendableName(name) {
		return MLSxLine{}, false
	}
	m := MLSxLine{Facts: map[string]string{}, Name: name}
	for f := range strings.SplitSeq(facts, ";") {
		if f == "" {
			continue
		}
		k, v, ok := strings.Cut(f, "=")
		if !ok || k == "" {
			return MLSxLine{}, false
		}
		m.Facts[strings.ToLower(k)] = v
	}
	return m, true
}

// ParseFeatures returns the feature lines of a 211 FEAT reply, trimmed, at
// most max of them; nil when the reply is not a feature list. A line with a
// CR or NUL inside is no feature: clients send features' words back (OPTS
// MLST facts, AUTH and LANG arguments), so such a line is skipped, as
// listing names are (sendableName).
func ParseFeatures(r Reply, max int) []string {
	if r.Code != 211 || len(r.Lines) < 3 {
		return nil
	}
	var out []string
	for _, l := range r.Lines[1 : len(r.Lines)-1] {
		if l = strings.TrimSpace(l); sendableName(l) && len(out) < max {
			out = append(out, l)
		}
	}
	return out
}

// HasFeature reports whether feats lists name, alone or with parameters
// ("MLST type*;size*;"), case-insensitively.
func HasFeature(feats []string, name string) bool {
	for _, f := range feats {
		if strings.EqualFold(f, name) || len(f) > len(name) && strings.EqualFold(f[:len(name)+1], name+" ") {
			return true
		}
	}
	return false
}
