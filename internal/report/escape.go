package report

import (
	"fmt"
	"io"
	"unicode/utf8"
)

// jsonSafe wraps w for the JSON writers (JSON, JSON Lines, SARIF). Go's
// encoder leaves C1 controls (U+0080-U+009F, U+009B is a CSI that moves a
// terminal's cursor) and bidirectional overrides (U+202E) raw inside
// strings, and a directory name from a hostile server is such a string: a
// person reading the file with cat or in an editor would see it reordered or
// act on its escapes. Each is rewritten as a \uXXXX escape, which decodes to
// the same text. json.Encoder hands each value over in one Write, so no
// rune is split between calls.
func jsonSafe(w io.Writer) io.Writer { return jsonSafeWriter{w} }

type jsonSafeWriter struct{ w io.Writer }

func (j jsonSafeWriter) Write(p []byte) (int, error) {
	if !hasInvisible(p) {
		return j.w.Write(p)
	}
	out := make([]byte, 0, len(p)+32)
	for i := 0; i < len(p); {
		r, size := utf8.DecodeRune(p[i:])
		if invisible(r) {
			out = fmt.Appendf(out, `\u%04x`, r)
		} else {
			out = append(out, p[i:i+size]...)
		}
		i += size
	}
	if _, err := j.w.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}

func hasInvisible(p []byte) bool {
	for i := 0; i < len(p); {
		if p[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRune(p[i:])
		if invisible(r) {
			return true
		}
		i += size
	}
	return false
}

// invisible reports the runes that change how text around them is shown:
// C1 controls, bidirectional marks, embeddings, overrides and isolates,
// zero-width characters and the byte-order mark.
func invisible(r rune) bool {
	switch {
	case r >= 0x80 && r <= 0x9f,
		r == 0x061c,
		r >= 0x200b && r <= 0x200f,
		r >= 0x2028 && r <= 0x202e,
		r >= 0x2060 && r <= 0x2069,
		r == 0xfeff:
		return true
	}
	return false
}
