package ftp

import (
	"bytes"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// readAll reads lines until an error other than ErrLineTooLong and returns
// them with ErrLineTooLong shown as "<too long>", and the final error.
func readAll(r *Reader) ([]string, error) {
	var lines []string
	for {
		line, err := r.ReadLine()
		switch {
		case errors.Is(err, ErrLineTooLong):
			lines = append(lines, "<too long>")
		case err != nil:
			return lines, err
		default:
			lines = append(lines, line)
		}
	}
}

func TestReaderReadLine(t *testing.T) {
	long := strings.Repeat("a", 5000)
	fits := strings.Repeat("b", MaxLineLength-2) // plus CRLF: exactly the limit
	tests := []struct {
		name  string
		input string
		want  []string
		err   error
	}{
		{"CRLF", "USER a\r\nPASS b\r\n", []string{"USER a", "PASS b"}, io.EOF},
		{"bare LF", "USER a\nPASS b\n", []string{"USER a", "PASS b"}, io.EOF},
		{"mixed endings", "A\r\nB\nC\r\n", []string{"A", "B", "C"}, io.EOF},
		{"empty lines", "\r\n\n", []string{"", ""}, io.EOF},
		{"CR inside kept", "A\rB\r\n", []string{"A\rB"}, io.EOF},
		{"double CR keeps one", "A\r\r\n", []string{"A\r"}, io.EOF},
		{"no input", "", nil, io.EOF},
		{"unterminated", "USER a", nil, io.ErrUnexpectedEOF},
		{"unterminated after line", "NOOP\r\nQU", []string{"NOOP"}, io.ErrUnexpectedEOF},
		{"IAC IP IAC DM before ABOR", "\xff\xf4\xff\xf2ABOR\r\n", []string{"ABOR"}, io.EOF},
		{"IAC mid-line", "AB\xff\xf1OR\r\n", []string{"ABOR"}, io.EOF},
		{"IAC IAC is data", "STOR \xff\xffx\r\n", []string{"STOR \xffx"}, io.EOF},
		{"IAC WILL option", "NO\xff\xfb\x01OP\r\n", []string{"NOOP"}, io.EOF},
		{"IAC DONT option LF", "NO\xff\xfe\nOP\r\n", []string{"NOOP"}, io.EOF},
		{"IAC SB ... IAC SE", "NO\xff\xfa\x18\x00xterm\xff\xf0OP\r\n", []string{"NOOP"}, io.EOF},
		{"IAC IAC inside SB", "A\xff\xfa\xff\xff\xff\xf0B\n", []string{"AB"}, io.EOF},
		{"IAC before CR", "A\xff\r\n", []string{"A"}, io.EOF},
		{"5000-byte line then next", long + "\r\nNOOP\r\n", []string{"<too long>", "NOOP"}, io.EOF},
		{"5000-byte bare-LF line", long + "\nNOOP\n", []string{"<too long>", "NOOP"}, io.EOF},
		{"exactly the limit", fits + "\r\n", []string{fits}, io.EOF},
		{"one over the limit", fits + "b\r\n" + "X\n", []string{"<too long>", "X"}, io.EOF},
		{"long line never ended", long, nil, io.ErrUnexpectedEOF},
		{"IAC counts toward limit", strings.Repeat("\xff\xf1", MaxLineLength/2) + "\n", []string{"<too long>"}, io.EOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readAll(NewReader(strings.NewReader(tt.input)))
			if err != tt.err {
				t.Errorf("final error = %v, want %v", err, tt.err)
			}
			if strings.Join(got, "|") != strings.Join(tt.want, "|") || len(got) != len(tt.want) {
				t.Errorf("lines = %q, want %q", got, tt.want)
			}
		})
	}
}

// byteReader returns its input one byte per Read, as a slow network might.
type byteReader struct{ s string }

func (r *byteReader) Read(p []byte) (int, error) {
	if r.s == "" {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	p[0] = r.s[0]
	r.s = r.s[1:]
	return 1, nil
}

func TestReaderSplitReads(t *testing.T) {
	r := NewReader(&byteReader{"US\xff\xf4ER a\r\n\xff\xfb"})
	if line, err := r.ReadLine(); err != nil || line != "USER a" {
		t.Fatalf("ReadLine = %q, %v; want %q", line, err, "USER a")
	}
	if _, err := r.ReadLine(); err != io.ErrUnexpectedEOF {
		t.Fatalf("ReadLine at end = %v, want io.ErrUnexpectedEOF", err)
	}
}

// errReader fails with err after returning s.
type errReader struct {
	s   string
	err error
}

func (r *errReader) Read(p []byte) (int, error) {
	if r.s == "" {
		return 0, r.err
	}
	n := copy(p, r.s)
	r.s = r.s[n:]
	return n, nil
}

func TestReaderReadError(t *testing.T) {
	boom := errors.New("boom")
	r := NewReader(&errReader{"USER a\r\nPA", boom})
	if _, err := r.ReadLine(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.ReadLine(); !errors.Is(err, boom) {
		t.Fatalf("ReadLine error = %v, want it to wrap %v", err, boom)
	}
}

func TestReaderReadCommand(t *testing.T) {
	r := NewReader(strings.NewReader("user alice\r\nBAD!\r\n\r\nPASS x\n" + strings.Repeat("x", 5000) + "\nQUIT\r\n"))
	want := []struct {
		cmd Command
		err error
	}{
		{Command{"USER", "alice"}, nil},
		{Command{}, ErrBadVerb},
		{Command{}, ErrEmptyCommand},
		{Command{"PASS", "x"}, nil},
		{Command{}, ErrLineTooLong},
		{Command{"QUIT", ""}, nil},
		{Command{}, io.EOF},
	}
	for i, w := range want {
		cmd, err := r.ReadCommand()
		if !errors.Is(err, w.err) || (w.err == nil && err != nil) || cmd != w.cmd {
			t.Errorf("command %d = %#v, %v; want %#v, %v", i, cmd, err, w.cmd, w.err)
		}
	}
}

// TestReaderAuthTLSInjection plays CVE-2011-1575: a man in the middle
// appends a command to AUTH TLS in the same segment. The server must see
// it as buffered and drop it when it switches to TLS.
func TestReaderAuthTLSInjection(t *testing.T) {
	client, server := net.Pipe()
	defer client.Close()
	defer server.Close()
	go func() {
		// net.Pipe delivers a Write to the reader in one piece.
		client.Write([]byte("AUTH TLS\r\nDELE important\r\n"))
	}()
	r := NewReader(server)
	cmd, err := r.ReadCommand()
	if err != nil || cmd.Verb != "AUTH" {
		t.Fatalf("ReadCommand = %v, %v", cmd, err)
	}
	if n := r.Buffered(); n != len("DELE important\r\n") {
		t.Fatalf("Buffered = %d, want the injected command's %d bytes", n, len("DELE important\r\n"))
	}
	// Here the server would reply 234 and wrap the connection in TLS.
	r.Reset(strings.NewReader("PBSZ 0\r\n"))
	if r.Buffered() != 0 {
		t.Fatalf("Buffered after Reset = %d, want 0", r.Buffered())
	}
	cmd, err = r.ReadCommand()
	if err != nil || cmd != (Command{"PBSZ", "0"}) {
		t.Fatalf("after Reset ReadCommand = %v, %v; want PBSZ 0", cmd, err)
	}
}

func TestReaderTimeout(t *testing.T) {
	client, server := net.Pipe()
	defer client.Close()
	defer server.Close()
	server.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
	_, err := NewReader(server).ReadLine()
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("ReadLine error = %v, want a net.Error timeout", err)
	}
}

func TestReaderBoundedMemory(t *testing.T) {
	// 1 MiB without a line ending must not grow the line buffer past the limit.
	r := NewReader(io.MultiReader(bytes.NewReader(bytes.Repeat([]byte("z"), 1<<20)), strings.NewReader("\nOK\n")))
	if _, err := r.ReadLine(); !errors.Is(err, ErrLineTooLong) {
		t.Fatalf("err = %v, want ErrLineTooLong", err)
	}
	if cap(r.line) > 2*MaxLineLength {
		t.Errorf("line buffer grew to %d bytes", cap(r.line))
	}
	if line, err := r.ReadLine(); line != "OK" || err != nil {
		t.Errorf("next line = %q, %v; want OK", line, err)
	}
}
