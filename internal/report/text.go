package report

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// oneLine makes hostile text safe to show on one line of a terminal or a
// page. Control characters, including the ESC that starts an ANSI sequence,
// and the invisible formatting characters that reorder or hide text
// (bidirectional overrides, zero-width characters) are shown as Go-style
// escapes (\x1b, \u202e) instead of acting on the display; line breaks
// become a visible \n; invalid UTF-8 bytes become \xNN. Ordinary text,
// including non-Latin scripts, passes through unchanged.
func oneLine(s string) string { return visible(s, false) }

// multiLine is oneLine for a block such as a <pre>: line breaks are kept
// (CRLF and lone CR become LF, as a reader expects), tabs too.
func multiLine(s string) string { return visible(s, true) }

func visible(s string, keepLines bool) string {
	if isPlain(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case keepLines && r == '\r':
			if i+1 >= len(s) || s[i+1] != '\n' {
				b.WriteByte('\n')
			}
		case keepLines && (r == '\n' || r == '\t'):
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteByte(' ')
		case hidden(r):
			if r < 0x100 {
				fmt.Fprintf(&b, `\x%02x`, r)
			} else {
				fmt.Fprintf(&b, `\u%04x`, r)
			}
		default:
			b.WriteRune(r)
		}
		i += size
	}
	return b.String()
}

// isPlain reports whether s can be shown as it is: the common case, checked
// first so that clean text is not copied.
func isPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}

// hidden reports whether r would act on a display rather than appear on it:
// C0 and C1 controls, DEL, format characters (Unicode category Cf:
// bidirectional controls, zero-width joiners and spaces, the BOM) and the
// Unicode line and paragraph separators, which some displays break on.
func hidden(r rune) bool {
	return unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp)
}
