package ftp

import (
	"fmt"
	"io"
	"iter"
	"strconv"
	"strings"
)

// Reply is a server reply: a three-digit code and one or more lines of text.
type Reply struct {
	Code int
	// Lines holds the text, one element per line. An element containing CR or
	// LF is split into several lines when the reply is written, so text taken
	// from errors or file names can never end the reply early or forge
	// another one. No lines at all is written as one empty line.
	Lines []string
}

// NewReply returns a reply with a single line of text (which, like any
// element of Lines, may still contain line breaks).
func NewReply(code int, text string) Reply {
	return Reply{Code: code, Lines: []string{text}}
}

// FeatReply returns the reply to FEAT (RFC 2389): the features, one per line,
// each indented by a space between "211-Features:" and "211 End".
func FeatReply(features []string) Reply {
	lines := make([]string, 0, len(features)+2)
	lines = append(lines, "Features:")
	for _, f := range features {
		lines = append(lines, " "+f)
	}
	lines = append(lines, "End")
	return Reply{Code: CodeSystemStatus, Lines: lines}
}

// String returns the reply exactly as it is sent on the wire.
//
// One line of text is sent as "200 text\r\n". Several lines use the
// multi-line form of RFC 959 section 4.2: the first line carries the code and
// a hyphen, the last the code and a space, and the lines between are sent as
// they are, except that one starting with a digit is indented by a space so
// that no client can take it for the last line. A 0xFF byte is doubled, as
// Telnet requires of data on the control connection.
func (r Reply) String() string {
	return string(r.appendWire(nil))
}

// WriteTo writes the reply to w in a single Write, so that it leaves in one
// TLS record or TCP segment where possible and is never interleaved.
func (r Reply) WriteTo(w io.Writer) (int64, error) {
	n, err := w.Write(r.appendWire(nil))
	if err != nil {
		return int64(n), fmt.Errorf("ftp: write reply %d: %w", r.Code, err)
	}
	return int64(n), nil
}

func (r Reply) appendWire(b []byte) []byte {
	last := -1
	for range textLines(r.Lines) {
		last++
	}
	i := 0
	for line := range textLines(r.Lines) {
		switch {
		case i == last:
			b = strconv.AppendInt(b, int64(r.Code), 10)
			b = append(b, ' ')
		case i == 0:
			b = strconv.AppendInt(b, int64(r.Code), 10)
			b = append(b, '-')
		case line != "" && isDigit(line[0]):
			b = append(b, ' ')
		}
		b = appendTelnetData(b, line)
		b = append(b, '\r', '\n')
		i++
	}
	return b
}

// textLines yields the lines of text in lines, treating CR LF, a lone CR and
// a lone LF inside an element as line breaks. It yields at least one line.
func textLines(lines []string) iter.Seq[string] {
	return func(yield func(string) bool) {
		if len(lines) == 0 {
			yield("")
			return
		}
		for _, s := range lines {
			for {
				i := strings.IndexAny(s, "\r\n")
				if i < 0 {
					break
				}
				if !yield(s[:i]) {
					return
				}
				if s[i] == '\r' && i+1 < len(s) && s[i+1] == '\n' {
					i++
				}
				s = s[i+1:]
			}
			if !yield(s) {
				return
			}
		}
	}
}

// appendTelnetData appends s with every IAC byte doubled.
func appendTelnetData(b []byte, s string) []byte {
	for {
		i := strings.IndexByte(s, telnetIAC)
		if i < 0 {
			return append(b, s...)
		}
		b = append(b, s[:i+1]...)
		b = append(b, telnetIAC)
		s = s[i+1:]
	}
}

// Message returns the text of the reply, its lines joined by "\n".
func (r Reply) Message() string {
	return strings.Join(r.Lines, "\n")
}

// Preliminary reports a 1xx reply: the command was accepted and another
// reply will follow before the next command may be sent.
func (r Reply) Preliminary() bool { return r.Code >= 100 && r.Code < 200 }

// Completion reports a 2xx reply: the command succeeded.
func (r Reply) Completion() bool { return r.Code >= 200 && r.Code < 300 }

// Intermediate reports a 3xx reply: the command was accepted and needs a
// follow-up command (PASS after USER, RNTO after RNFR).
func (r Reply) Intermediate() bool { return r.Code >= 300 && r.Code < 400 }

// Positive reports a 1xx, 2xx or 3xx reply.
func (r Reply) Positive() bool { return r.Code >= 100 && r.Code < 400 }

// Transient reports a 4xx reply: the command failed but may succeed if
// repeated unchanged.
func (r Reply) Transient() bool { return r.Code >= 400 && r.Code < 500 }

// Permanent reports a 5xx reply: the command failed and will fail again.
func (r Reply) Permanent() bool { return r.Code >= 500 && r.Code < 600 }

// Negative reports a 4xx or 5xx reply.
func (r Reply) Negative() bool { return r.Code >= 400 && r.Code < 600 }

// Protected reports a 6xx reply, whose text is a protected reply under an
// RFC 2228 security mechanism.
func (r Reply) Protected() bool { return r.Code >= 600 && r.Code < 700 }

// DefaultMaxReplyLines is the number of lines ReadReply accepts in one
// reply. It is far more than any sane reply (a FEAT list, a STAT of a large
// directory) and little enough memory.
const DefaultMaxReplyLines = 1000

// ReadReply reads one reply, single- or multi-line, of at most
// DefaultMaxReplyLines lines. It is ReadReplyLimit(r, 0).
func ReadReply(r *Reader) (Reply, error) {
	return ReadReplyLimit(r, 0)
}

// ReadReplyLimit reads one reply of at most maxLines lines (if maxLines <= 0,
// DefaultMaxReplyLines), each bounded by MaxLineLength.
//
// The first line must be a code from 100 to 699 followed by a space, a
// hyphen or nothing at all. A hyphen starts a multi-line reply, which ends at
// the first later line consisting of the same code followed by a space or by
// nothing. Lines in between are returned exactly as received, including any
// indentation or "211-" prefix; the first and last lines are returned
// without their code and separator.
//
// ReadReplyLimit returns the Reader's errors as they are (io.EOF if the
// connection ends before the reply starts), io.ErrUnexpectedEOF wrapped if it
// ends inside one,
// ErrMalformedReply for a bad first line and ErrReplyTooLong if there are
// too many lines.
func ReadReplyLimit(r *Reader, maxLines int) (Reply, error) {
	if maxLines <= 0 {
		maxLines = DefaultMaxReplyLines
	}
	line, err := r.ReadLine()
	if err != nil {
		return Reply{}, err
	}
	code, sep, text, ok := splitReplyLine(line)
	if !ok {
		return Reply{}, fmt.Errorf("%w: %s", ErrMalformedReply, quote(line))
	}
	if sep != '-' {
		return Reply{Code: code, Lines: []string{text}}, nil
	}
	lines := []string{text}
	for {
		if len(lines) >= maxLines {
			return Reply{}, fmt.Errorf("%w: %d reply has more than %d lines", ErrReplyTooLong, code, maxLines)
		}
		line, err := r.ReadLine()
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		if err != nil {
			return Reply{}, fmt.Errorf("ftp: read reply %d: %w", code, err)
		}
		if c, s, t, ok := splitReplyLine(line); ok && c == code && s != '-' {
			return Reply{Code: code, Lines: append(lines, t)}, nil
		}
		lines = append(lines, line)
	}
}

// splitReplyLine splits a line of the form "NNN text", "NNN-text" or "NNN"
// into its code, separator (' ', '-' or 0) and text.
func splitReplyLine(line string) (code int, sep byte, text string, ok bool) {
	if len(line) < 3 || line[0] < '1' || line[0] > '6' || !isDigit(line[1]) || !isDigit(line[2]) {
		return 0, 0, "", false
	}
	code = int(line[0]-'0')*100 + int(line[1]-'0')*10 + int(line[2]-'0')
	if len(line) == 3 {
		return code, 0, "", true
	}
	if line[3] != ' ' && line[3] != '-' {
		return 0, 0, "", false
	}
	return code, line[3], line[4:], true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// QuotePath quotes a path for a 257 reply as RFC 959 appendix II asks: in
// double quotes, with every double quote inside it doubled, so that
// `a"b` becomes `"a""b"`. Line breaks are left alone; Reply splits on them.
func QuotePath(p string) string {
	return `"` + strings.ReplaceAll(p, `"`, `""`) + `"`
}

// UnquotePath undoes QuotePath on the start of a 257 reply's text and
// returns the path and the text after the closing quote, as in
// `"/a""b" created` -> `/a"b`, ` created`. It returns ErrBadQuotedPath if
// the text does not start with a double quote or the quote is not closed.
func UnquotePath(text string) (path, rest string, err error) {
	if !strings.HasPrefix(text, `"`) {
		return "", "", fmt.Errorf("%w: %s", ErrBadQuotedPath, quote(text))
	}
	var b strings.Builder
	s := text[1:]
	for {
		i := strings.IndexByte(s, '"')
		if i < 0 {
			return "", "", fmt.Errorf("%w: %s", ErrBadQuotedPath, quote(text))
		}
		b.WriteString(s[:i])
		if i+1 < len(s) && s[i+1] == '"' {
			b.WriteByte('"')
			s = s[i+2:]
			continue
		}
		return b.String(), s[i+1:], nil
	}
}
