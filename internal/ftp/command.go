package ftp

import (
	"fmt"
	"io"
	"strings"
)

// Command is one request line from the client.
type Command struct {
	// Verb is the command name in upper case. RFC 959 makes command names
	// case-insensitive; normalising once here means the server can switch on
	// plain string constants.
	Verb string
	// Arg is everything after the first space following the verb, byte for
	// byte. Paths may contain spaces, including leading and trailing ones, so
	// nothing is trimmed: "CWD  a" has Arg " a". Arg is not checked for valid
	// UTF-8; that is the file system layer's business.
	Arg string
}

// String returns the command as it should appear in logs: "VERB arg", or
// "VERB" when there is no argument. The argument of PASS is always shown as
// "****", whatever it was, so that a password never reaches a log and an
// empty password is indistinguishable from a long one.
func (c Command) String() string {
	switch {
	case strings.EqualFold(c.Verb, "PASS"):
		return "PASS ****"
	case c.Arg == "":
		return c.Verb
	}
	return c.Verb + " " + c.Arg
}

// WriteTo writes c as a request line, "VERB arg\r\n", in a single Write. It is
// meant for clients such as the scanner and, unlike String, sends PASS in the
// clear. It refuses a command that ParseCommand would refuse, so that an
// argument taken from user input cannot smuggle a second command onto the
// connection.
func (c Command) WriteTo(w io.Writer) (int64, error) {
	if !validVerb(c.Verb) {
		return 0, fmt.Errorf("%w %s", ErrBadVerb, quote(c.Verb))
	}
	if err := checkLine(c.Arg); err != nil {
		return 0, err
	}
	b := make([]byte, 0, len(c.Verb)+1+len(c.Arg)+2)
	b = append(b, strings.ToUpper(c.Verb)...)
	if c.Arg != "" {
		b = append(b, ' ')
		b = append(b, c.Arg...)
	}
	b = append(b, '\r', '\n')
	n, err := w.Write(b)
	if err != nil {
		return int64(n), fmt.Errorf("ftp: write command %s: %w", c.Verb, err)
	}
	return int64(n), nil
}

// ParseCommand parses one command line, given without its line ending (as
// Reader.ReadLine returns it). The verb is everything up to the first space
// and must be three or four ASCII letters; the argument is the rest of the
// line after that space, unmodified.
//
// It returns ErrEmptyCommand for an empty line, ErrNUL or ErrBadChar if the
// line contains a NUL, CR or LF anywhere, and ErrBadVerb for any other verb.
func ParseCommand(line string) (Command, error) {
	if line == "" {
		return Command{}, ErrEmptyCommand
	}
	if err := checkLine(line); err != nil {
		return Command{}, err
	}
	verb, arg, _ := strings.Cut(line, " ")
	if !validVerb(verb) {
		return Command{}, fmt.Errorf("%w %s", ErrBadVerb, quote(verb))
	}
	// strings.ToUpper returns its argument without allocating when it is
	// already upper-case ASCII, which is what nearly every client sends.
	return Command{Verb: strings.ToUpper(verb), Arg: arg}, nil
}

// checkLine rejects the bytes that must never appear inside a command line.
func checkLine(s string) error {
	i := strings.IndexAny(s, "\x00\r\n")
	switch {
	case i < 0:
		return nil
	case s[i] == 0:
		return fmt.Errorf("%w: %s", ErrNUL, quote(s))
	default:
		return fmt.Errorf("%w: %s", ErrBadChar, quote(s))
	}
}

// validVerb reports whether v is three or four ASCII letters, optionally
// followed by up to three digits. Every command in the FTP RFCs has the
// letters-only shape, the digits are for XSHA256 and friends, and anything
// else is more likely an HTTP request or a binary probe than a typo.
func validVerb(v string) bool {
	letters := 0
	for letters < len(v) && letters < 4 && isLetter(v[letters]) {
		letters++
	}
	if letters < 3 {
		return false
	}
	// Digits may follow the letters, as in XSHA256 and XSHA1 (the hash
	// commands of ProFTPD's mod_digest and Serv-U), and nothing else.
	digits := v[letters:]
	if len(digits) > 3 {
		return false
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return false
		}
	}
	return true
}

func isLetter(c byte) bool {
	c |= 0x20 // fold ASCII upper case onto lower case
	return c >= 'a' && c <= 'z'
}
