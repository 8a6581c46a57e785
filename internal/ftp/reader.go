package ftp

import (
	"bufio"
	"fmt"
	"io"
)

// MaxLineLength bounds a control line in bytes as they arrive on the wire,
// counting Telnet sequences and the line ending. RFC 959 sets no limit; 4096
// bytes is plenty for any path a client can reasonably send and small enough
// that a client cannot make the server buffer much.
const MaxLineLength = 4096

// Telnet command bytes (RFC 854) that can appear on an FTP control
// connection. Clients send "IAC IP IAC DM" before ABOR to interrupt a
// transfer, and some still negotiate options.
const (
	telnetSE   = 240 // end of subnegotiation
	telnetSB   = 250 // start of subnegotiation
	telnetWILL = 251
	telnetDONT = 254
	telnetIAC  = 255 // interpret as command
)

// Reader reads lines from a control connection. It accepts CRLF and also a
// bare LF, which some clients (lftp among them) send; it removes Telnet
// command sequences, keeping only the data bytes; and it never buffers more
// than MaxLineLength bytes of a line, however long the line is.
//
// A Reader is not safe for concurrent use.
type Reader struct {
	br   *bufio.Reader
	line []byte // reused between calls; never longer than MaxLineLength
}

// NewReader returns a Reader that reads from r through a buffer of its own.
func NewReader(r io.Reader) *Reader {
	return &Reader{br: bufio.NewReaderSize(r, MaxLineLength)}
}

// Telnet decoder states.
const (
	stateData   = iota // ordinary bytes
	stateIAC           // after IAC: a command byte follows
	stateOption        // after IAC WILL/WONT/DO/DONT: an option byte follows
	stateSB            // inside IAC SB ... IAC SE
	stateSBIAC         // after IAC inside a subnegotiation
)

// ReadLine reads one line and returns it without its line ending (LF, or CR
// LF) and with Telnet sequences removed: IAC IAC yields one 0xFF data byte,
// IAC WILL/WONT/DO/DONT consume an option byte, IAC SB ... IAC SE is dropped
// whole, and IAC followed by any other byte (IP, DM, NOP, ...) is dropped.
// Telnet negotiation is not answered: FTP clients do not need it.
//
// A line longer than MaxLineLength is consumed up to and including its LF
// and reported as ErrLineTooLong; the next call reads the line after it.
// ReadLine returns io.EOF if the connection ends cleanly between lines and
// io.ErrUnexpectedEOF if it ends inside one: a command without its line
// ending may be truncated and must not be executed. Other read errors are
// returned wrapped; the partial line is then lost.
func (r *Reader) ReadLine() (string, error) {
	r.line = r.line[:0]
	state := stateData
	n := 0 // wire bytes of this line so far
	for {
		// ReadSlice hands out at most one buffer's worth, ending at the first
		// LF if there is one, so memory stays bounded however long the line.
		chunk, err := r.br.ReadSlice('\n')
		for len(chunk) > 0 {
			if state == stateData {
				// Plain bytes are copied in bulk; only LF and IAC need
				// the state machine below.
				k := 0
				for k < len(chunk) && chunk[k] != '\n' && chunk[k] != telnetIAC {
					k++
				}
				r.store(chunk[:k], n)
				n += k
				if chunk = chunk[k:]; len(chunk) == 0 {
					break
				}
			}
			c := chunk[0]
			chunk = chunk[1:]
			n++
			switch state {
			case stateData: // c is LF or IAC
				if c == telnetIAC {
					state = stateIAC
					continue
				}
				// The LF ending the line: the last byte ReadSlice returned.
				if n > MaxLineLength {
					return "", ErrLineTooLong
				}
				return string(trimCR(r.line)), nil
			case stateIAC:
				switch {
				case c == telnetIAC: // an escaped 0xFF data byte
					if n <= MaxLineLength {
						r.line = append(r.line, telnetIAC)
					}
					state = stateData
				case c >= telnetWILL && c <= telnetDONT:
					state = stateOption
				case c == telnetSB:
					state = stateSB
				default:
					state = stateData
				}
			case stateOption:
				state = stateData
			case stateSB:
				if c == telnetIAC {
					state = stateSBIAC
				}
			case stateSBIAC:
				if c == telnetSE {
					state = stateData
				} else {
					state = stateSB
				}
			}
		}
		// The chunk ended without finishing the line: it filled the buffer,
		// or its LF was a Telnet option byte, or the input ended.
		switch {
		case err == nil, err == bufio.ErrBufferFull:
			continue
		case err == io.EOF && n == 0:
			return "", io.EOF
		case err == io.EOF:
			return "", io.ErrUnexpectedEOF
		default:
			return "", fmt.Errorf("ftp: read control line: %w", err)
		}
	}
}

// store appends data bytes that follow the first n wire bytes of the line,
// keeping only what fits within MaxLineLength. Past the limit ReadLine
// still decodes, to find the real end of the line, but stores nothing.
func (r *Reader) store(p []byte, n int) {
	if room := MaxLineLength - n; room < len(p) {
		p = p[:max(room, 0)]
	}
	r.line = append(r.line, p...)
}

// trimCR removes one trailing CR, turning a CRLF ending into nothing.
func trimCR(b []byte) []byte {
	if len(b) > 0 && b[len(b)-1] == '\r' {
		return b[:len(b)-1]
	}
	return b
}

// ReadCommand reads one line and parses it with ParseCommand. Errors from
// reading and from parsing are returned as they are; a server answers
// ErrLineTooLong and the parse errors with 500 and reads the next command.
func (r *Reader) ReadCommand() (Command, error) {
	line, err := r.ReadLine()
	if err != nil {
		return Command{}, err
	}
	return ParseCommand(line)
}

// Buffered returns the number of bytes received but not yet read. After
// AUTH TLS these bytes arrived before the TLS handshake, in plain text: a man
// in the middle may have appended commands there (CVE-2011-1575), so the
// server must discard them, never execute them. Reset does that.
func (r *Reader) Buffered() int {
	return r.br.Buffered()
}

// Reset discards any buffered input and makes r read from src, reusing the
// buffer. The server calls it with the TLS connection after AUTH TLS.
func (r *Reader) Reset(src io.Reader) {
	r.br.Reset(src)
	r.line = r.line[:0]
}
