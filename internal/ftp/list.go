package ftp

import (
	"cmp"
	"io/fs"
	"strconv"
	"time"
	"unicode/utf8"
)

// ListEntry describes one file for a LIST line.
type ListEntry struct {
	Name string
	Mode fs.FileMode
	Size int64
	// ModTime is shown in UTC, like MDTM, so that the two agree and the
	// server's time zone does not leak.
	ModTime time.Time
	// Nlink is the link count; values below 1 are shown as 1.
	Nlink int
	// Owner and Group are shown as given; empty ones as "ftp". The server
	// passes fixed names so that no real user or group ID leaks.
	Owner, Group string
	// LinkTarget, if set on a symbolic link, is shown as "name -> target".
	LinkTarget string
}

// sixMonths is how old a file can be before ls -l shows its year instead of
// its time of day: half of an average Gregorian year, as GNU ls computes it.
const sixMonths = 31556952 / 2 * time.Second

// ListLine formats e as one line of a LIST reply, without a line ending,
// exactly as GNU ls -l and vsftpd do, since that is the format FileZilla,
// WinSCP, lftp and curl parse:
//
//	-rw-r--r--    1 ftp      ftp          1234 Nov 24 14:35 name
//
// A file modified within six months before now shows its time of day; an
// older one, or one dated in the future, shows the year ("Jan  2  2024").
// Control characters in the name or link target are shown as '?': CR and
// LF would split the line and could forge listing entries, and the others
// are terminal escapes.
func ListLine(e ListEntry, now time.Time) string {
	return string(AppendListLine(make([]byte, 0, 64+len(e.Name)), e, now))
}

// AppendListLine appends ListLine(e, now) to b, so that a listing can be
// built in one buffer.
func AppendListLine(b []byte, e ListEntry, now time.Time) []byte {
	b = appendMode(b, e.Mode)
	b = append(b, ' ')
	b = appendPadLeft(b, strconv.Itoa(max(e.Nlink, 1)), 4)
	b = append(b, ' ')
	b = appendPadRight(b, cmp.Or(e.Owner, "ftp"), 8)
	b = append(b, ' ')
	b = appendPadRight(b, cmp.Or(e.Group, "ftp"), 8)
	b = append(b, ' ')
	b = appendPadLeft(b, strconv.FormatInt(max(e.Size, 0), 10), 8)
	b = append(b, ' ')

	t := e.ModTime.UTC()
	if t.After(now.Add(-sixMonths)) && !t.After(now) {
		b = t.AppendFormat(b, "Jan _2 15:04")
	} else {
		b = t.AppendFormat(b, "Jan _2  2006")
	}
	b = append(b, ' ')
	b = appendLineSafe(b, e.Name)
	if e.Mode&fs.ModeSymlink != 0 && e.LinkTarget != "" {
		b = append(b, " -> "...)
		b = appendLineSafe(b, e.LinkTarget)
	}
	return b
}

// appendMode appends the ten-character ls form of a file mode, such as
// "drwxr-xr-x" or "-rwsr-xr-T". fs.FileMode.String uses a different form.
func appendMode(b []byte, m fs.FileMode) []byte {
	var kind byte
	switch {
	case m&fs.ModeDir != 0:
		kind = 'd'
	case m&fs.ModeSymlink != 0:
		kind = 'l'
	case m&fs.ModeNamedPipe != 0:
		kind = 'p'
	case m&fs.ModeSocket != 0:
		kind = 's'
	case m&fs.ModeCharDevice != 0:
		kind = 'c'
	case m&fs.ModeDevice != 0:
		kind = 'b'
	case m&fs.ModeIrregular != 0:
		kind = '?'
	default:
		kind = '-'
	}
	b = append(b, kind)
	const rwx = "rwxrwxrwx"
	start := len(b)
	for i := range 9 {
		if m&(1<<(8-i)) != 0 {
			b = append(b, rwx[i])
		} else {
			b = append(b, '-')
		}
	}
	// The set-ID and sticky bits take the place of an execute bit: lower
	// case if that bit is set too, upper case if not.
	special := func(bit fs.FileMode, pos int, c byte) {
		if m&bit == 0 {
			return
		}
		if b[start+pos] == 'x' {
			b[start+pos] = c
		} else {
			b[start+pos] = c - 'a' + 'A'
		}
	}
	special(fs.ModeSetuid, 2, 's')
	special(fs.ModeSetgid, 5, 's')
	special(fs.ModeSticky, 8, 't')
	return b
}

// appendPadLeft appends s right-aligned in a field of width bytes.
func appendPadLeft(b []byte, s string, width int) []byte {
	for range width - len(s) {
		b = append(b, ' ')
	}
	return append(b, s...)
}

// appendPadRight appends s left-aligned in a field of width bytes.
func appendPadRight(b []byte, s string, width int) []byte {
	b = append(b, s...)
	for range width - len(s) {
		b = append(b, ' ')
	}
	return b
}

// appendLineSafe appends s with every control character replaced by '?',
// as vsftpd does: C0 (CR and LF would split the line and could forge
// entries), DEL, and C1 (U+0080 to U+009F, or such a raw byte outside valid
// UTF-8), which a terminal would run as escape sequences.
func appendLineSafe(b []byte, s string) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < 0x80 {
			if c < 0x20 || c == 0x7f {
				c = '?'
			}
			b = append(b, c)
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			r = rune(c)
		}
		if r >= 0x80 && r <= 0x9f {
			b = append(b, '?')
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return b
}

// AppendName appends a file name for an NLST line: the name with control
// characters replaced by '?', as in LIST and MLSD.
func AppendName(b []byte, name string) []byte { return appendLineSafe(b, name) }
