package ftp

import (
	"errors"
	"strings"
	"testing"
)

func TestParseCommand(t *testing.T) {
	tests := []struct {
		line string
		want Command
		err  error
	}{
		{"USER alice", Command{"USER", "alice"}, nil},
		{"user alice", Command{"USER", "alice"}, nil},
		{"uSeR alice", Command{"USER", "alice"}, nil},
		{"NOOP", Command{"NOOP", ""}, nil},
		{"NOOP ", Command{"NOOP", ""}, nil},
		{"PWD", Command{"PWD", ""}, nil},
		{"CWD  leading space", Command{"CWD", " leading space"}, nil},
		{"STOR trailing space ", Command{"STOR", "trailing space "}, nil},
		{"RETR a b  c", Command{"RETR", "a b  c"}, nil},
		{"PASS ", Command{"PASS", ""}, nil},
		{"STOR \xff\xfe", Command{"STOR", "\xff\xfe"}, nil},
		{"MKD ディレクトリ", Command{"MKD", "ディレクトリ"}, nil},
		{"STOR a\tb", Command{"STOR", "a\tb"}, nil},

		{"", Command{}, ErrEmptyCommand},
		{" USER a", Command{}, ErrBadVerb},
		{"US", Command{}, ErrBadVerb},
		{"USERS a", Command{}, ErrBadVerb},
		{"GET / HTTP/1.1", Command{"GET", "/ HTTP/1.1"}, nil}, // well-formed; the server answers 502
		{"POST/ HTTP/1.1", Command{}, ErrBadVerb},
		{"US3R a", Command{}, ErrBadVerb},
		{"XSHA256 f", Command{"XSHA256", "f"}, nil},
		{"xsha1 f", Command{"XSHA1", "f"}, nil},
		{"XSHA2561 f", Command{}, ErrBadVerb},
		{"USE1R a", Command{}, ErrBadVerb},
		{"123", Command{}, ErrBadVerb},
		{"USER\ta", Command{}, ErrBadVerb},
		{"ÜSER a", Command{}, ErrBadVerb},
		{"\x16\x03\x01\x02", Command{}, ErrBadVerb}, // a TLS ClientHello
		{"USER a\x00b", Command{}, ErrNUL},
		{"US\x00R", Command{}, ErrNUL},
		{"USER a\rb", Command{}, ErrBadChar},
		{"USER a\nPASS b", Command{}, ErrBadChar},
		{"USER a\r", Command{}, ErrBadChar},
	}
	for _, tt := range tests {
		got, err := ParseCommand(tt.line)
		if !errors.Is(err, tt.err) || (tt.err == nil && err != nil) {
			t.Errorf("ParseCommand(%q) error = %v, want %v", tt.line, err, tt.err)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseCommand(%q) = %#v, want %#v", tt.line, got, tt.want)
		}
	}
}

func TestParseCommandErrorQuotesInput(t *testing.T) {
	_, err := ParseCommand(strings.Repeat("X", 1000))
	if !errors.Is(err, ErrBadVerb) {
		t.Fatalf("err = %v, want ErrBadVerb", err)
	}
	if msg := err.Error(); len(msg) > 120 || !strings.Contains(msg, `"XXX`) {
		t.Errorf("error message %q should quote a truncated verb", msg)
	}
}

func TestCommandString(t *testing.T) {
	tests := []struct {
		c    Command
		want string
	}{
		{Command{"USER", "alice"}, "USER alice"},
		{Command{"PASS", "hunter2"}, "PASS ****"},
		{Command{"PASS", ""}, "PASS ****"},
		{Command{"pass", "hunter2"}, "PASS ****"},
		{Command{"NOOP", ""}, "NOOP"},
		{Command{"CWD", " x"}, "CWD  x"},
	}
	for _, tt := range tests {
		if got := tt.c.String(); got != tt.want {
			t.Errorf("%#v.String() = %q, want %q", tt.c, got, tt.want)
		}
	}
}

func TestCommandWriteTo(t *testing.T) {
	tests := []struct {
		c    Command
		want string
		err  error
	}{
		{Command{"USER", "alice"}, "USER alice\r\n", nil},
		{Command{"pass", "hunter2"}, "PASS hunter2\r\n", nil},
		{Command{"FEAT", ""}, "FEAT\r\n", nil},
		{Command{"STOR", " x "}, "STOR  x \r\n", nil},
		{Command{"USER", "a\r\nDELE b"}, "", ErrBadChar},
		{Command{"USER", "a\x00"}, "", ErrNUL},
		{Command{"USER x", "y"}, "", ErrBadVerb},
		{Command{"", ""}, "", ErrBadVerb},
	}
	for _, tt := range tests {
		var b strings.Builder
		n, err := tt.c.WriteTo(&b)
		if !errors.Is(err, tt.err) || (tt.err == nil && err != nil) {
			t.Errorf("%#v.WriteTo error = %v, want %v", tt.c, err, tt.err)
			continue
		}
		if b.String() != tt.want || n != int64(len(tt.want)) {
			t.Errorf("%#v.WriteTo wrote %q (n=%d), want %q", tt.c, b.String(), n, tt.want)
		}
	}
}

func TestParseCommandNoAllocUpperCase(t *testing.T) {
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := ParseCommand("RETR some/file.txt"); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("ParseCommand allocated %v times for an upper-case verb, want 0", allocs)
	}
}
