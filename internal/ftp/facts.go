package ftp

import (
	"bytes"
	"strconv"
	"strings"
	"time"
)

// Facts describes one file for an MLST or MLSD line (RFC 3659 section 7).
type Facts struct {
	// Type is "file", "dir", "cdir" (the listed directory itself) or
	// "pdir" (its parent); the caller knows which.
	Type string
	// Size is shown only if HasSize is set, since a size of 0 is a real one.
	Size    int64
	HasSize bool
	// Modify is shown, in UTC, unless it is the zero time.
	Modify time.Time
	// Perm holds RFC 3659 permission letters, as PermFacts builds them.
	Perm string
	// Unique identifies the file across names (hard links, renames); it is
	// opaque to the client.
	Unique string
	// Name is the file name, or the full path for MLST. Control characters
	// in it are shown as '?'.
	Name string
}

// FactSet is a set of MLSx facts: those the client enabled with OPTS MLST,
// and so those Facts.Format writes.
type FactSet uint8

// The facts port21 supports, in the order they are written.
const (
	FactType FactSet = 1 << iota
	FactSize
	FactModify
	FactPerm
	FactUnique

	// AllFacts is every supported fact.
	AllFacts = FactType | FactSize | FactModify | FactPerm | FactUnique
	// DefaultFacts is the set enabled when a session starts.
	DefaultFacts = AllFacts
)

// name returns the lower-case name of a single fact.
func (s FactSet) name() string {
	switch s {
	case FactType:
		return "type"
	case FactSize:
		return "size"
	case FactModify:
		return "modify"
	case FactPerm:
		return "perm"
	case FactUnique:
		return "unique"
	}
	return ""
}

// Format returns the MLSx line for f, without a line ending, showing the
// enabled facts that have a value, in a fixed order, then one space and the
// name: "type=file;size=1234;modify=20261124143500;perm=adfrw;unique=803g1a; name".
// With no facts to show the line is " name", as RFC 3659 requires. A fact
// whose value contains a space, ';', CR or LF is left out rather than
// allowed to corrupt the line.
func (f Facts) Format(enabled FactSet) string {
	return string(f.Append(make([]byte, 0, 96+len(f.Name)), enabled))
}

// Append appends f.Format(enabled) to b, so that a listing can be built in
// one buffer.
func (f Facts) Append(b []byte, enabled FactSet) []byte {
	for fact := FactType; fact <= FactUnique; fact <<= 1 {
		if enabled&fact == 0 {
			continue
		}
		start := len(b)
		b = append(b, fact.name()...)
		b = append(b, '=')
		value := len(b)
		switch fact {
		case FactType:
			b = append(b, f.Type...)
		case FactSize:
			if f.HasSize {
				b = strconv.AppendInt(b, f.Size, 10)
			}
		case FactModify:
			if !f.Modify.IsZero() {
				b = appendTime(b, f.Modify)
			}
		case FactPerm:
			b = append(b, f.Perm...)
		case FactUnique:
			b = append(b, f.Unique...)
		}
		// A fact without a value is left out, and so is one whose value
		// would break the line's syntax.
		if len(b) == value || bytes.ContainsAny(b[value:], " ;\r\n") {
			b = b[:start]
			continue
		}
		b = append(b, ';')
	}
	b = append(b, ' ')
	return appendLineSafe(b, f.Name)
}

// ParseFactList parses the argument of "OPTS MLST", a list of fact names
// each followed by ';' ("type;size;"), and returns the supported facts it
// names and the canonical list to echo in the 200 reply. RFC 3659 has fact
// names case-insensitive and unknown ones silently ignored; an empty list
// disables every fact.
func ParseFactList(s string) (FactSet, string) {
	var set FactSet
	for name := range strings.SplitSeq(s, ";") {
		for fact := FactType; fact <= FactUnique; fact <<= 1 {
			if strings.EqualFold(name, fact.name()) {
				set |= fact
			}
		}
	}
	return set, set.String()
}

// String returns the facts in s as RFC 3659 lists them after OPTS MLST:
// each name followed by ';', as in "type;size;". The empty set is "".
func (s FactSet) String() string {
	var b strings.Builder
	for fact := FactType; fact <= FactUnique; fact <<= 1 {
		if s&fact != 0 {
			b.WriteString(fact.name())
			b.WriteByte(';')
		}
	}
	return b.String()
}

// Feature returns the MLST line for the FEAT reply: every supported fact,
// those in s marked with '*' as enabled, as in
// "MLST type*;size*;modify*;perm*;unique*;".
func (s FactSet) Feature() string {
	var b strings.Builder
	b.WriteString("MLST ")
	for fact := FactType; fact <= FactUnique; fact <<= 1 {
		b.WriteString(fact.name())
		if s&fact != 0 {
			b.WriteByte('*')
		}
		b.WriteByte(';')
	}
	return b.String()
}

// PermFacts returns the RFC 3659 perm fact for a file or directory the user
// may read and, or, write. For a file, reading grants r (RETR) and writing
// a, d, f and w (APPE, DELE, RNFR, STOR); for a directory, reading grants e
// and l (CWD, LIST) and writing c, d, f, m and p (create files, RMD, RNFR,
// MKD, delete contents). The letters are in alphabetical order.
func PermFacts(dir, read, write bool) string {
	switch {
	case dir && read && write:
		return "cdeflmp"
	case dir && read:
		return "el"
	case dir && write:
		return "cdfmp"
	case read && write:
		return "adfrw"
	case read:
		return "r"
	case write:
		return "adfw"
	}
	return ""
}
