package ftp

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

// The fuzz targets check that parsers never panic and that whatever parses
// formats back to something that parses to the same value.

func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{"USER alice", "user alice", "NOOP", "NOOP ", "CWD  a b ", "PASS \xff", "GET / HTTP/1.1", "US\x00R", "A\rB", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		c, err := ParseCommand(line)
		if err != nil {
			if !errors.Is(err, ErrEmptyCommand) && !errors.Is(err, ErrBadVerb) && !errors.Is(err, ErrNUL) && !errors.Is(err, ErrBadChar) {
				t.Fatalf("ParseCommand(%q): unexpected error %v", line, err)
			}
			return
		}
		if !validVerb(c.Verb) || strings.ToUpper(c.Verb) != c.Verb {
			t.Fatalf("ParseCommand(%q) gave verb %q", line, c.Verb)
		}
		_ = c.String()
		var b bytes.Buffer
		if _, err := c.WriteTo(&b); err != nil {
			t.Fatalf("WriteTo of parsed %#v: %v", c, err)
		}
		wire, ok := strings.CutSuffix(b.String(), "\r\n")
		if !ok {
			t.Fatalf("WriteTo wrote %q without CRLF", b.String())
		}
		c2, err := ParseCommand(wire)
		if err != nil || c2 != c {
			t.Fatalf("ParseCommand(%q) = %#v; reparsing %q gave %#v, %v", line, c, wire, c2, err)
		}
	})
}

// telnetLine encodes a line as a well-behaved client sends it.
func telnetLine(line string) []byte {
	return append(appendTelnetData(nil, line), '\r', '\n')
}

func FuzzReader(f *testing.F) {
	for _, s := range []string{
		"USER a\r\nPASS b\r\n", "NOOP\nQUIT\n", "\xff\xf4\xff\xf2ABOR\r\n", "STOR \xff\xffx\r\n",
		"A\xff\xfa\x18\xff\xff\xff\xf0B\n", "A\xff\xfb\nB\r\n", "x\r\r\n", "tail",
		strings.Repeat("b", MaxLineLength) + "\nOK\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(fuzzReaderBody)
}

func fuzzReaderBody(t *testing.T, data []byte) {
	{
		r := NewReader(bytes.NewReader(data))
		reread := NewReader(nil)
		var lines []string
		var errs []error
		for i := 0; i < len(data)+1; i++ {
			line, err := r.ReadLine()
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				break
			}
			if err != nil && !errors.Is(err, ErrLineTooLong) {
				t.Fatalf("ReadLine: unexpected error %v", err)
			}
			if len(line) > MaxLineLength || strings.Contains(line, "\n") {
				t.Fatalf("ReadLine returned %d bytes: %q", len(line), line)
			}
			lines, errs = append(lines, line), append(errs, err)

			if err == nil {
				wire := telnetLine(line)
				reread.Reset(bytes.NewReader(wire))
				got, err := reread.ReadLine()
				switch {
				case len(wire) > MaxLineLength:
					if !errors.Is(err, ErrLineTooLong) {
						t.Fatalf("re-reading %d-byte %q: %v, want ErrLineTooLong", len(wire), wire, err)
					}
				case err != nil || got != line:
					t.Fatalf("re-reading %q gave %q, %v; want %q", wire, got, err, line)
				}
			}
		}

		// ReadCommand sees the same lines as ReadLine and parses them.
		r = NewReader(bytes.NewReader(data))
		for i := range lines {
			cmd, err := r.ReadCommand()
			if errs[i] != nil {
				if !errors.Is(err, errs[i]) {
					t.Fatalf("line %d: ReadCommand error %v, ReadLine error %v", i, err, errs[i])
				}
				continue
			}
			want, wantErr := ParseCommand(lines[i])
			if cmd != want || (err == nil) != (wantErr == nil) {
				t.Fatalf("line %d: ReadCommand = %#v, %v; ParseCommand = %#v, %v", i, cmd, err, want, wantErr)
			}
		}
	}
}

func FuzzReadReply(f *testing.F) {
	for _, s := range []string{
		"220 ready\r\n", "220\r\n", "230-Welcome\r\n to\r\n230 in\r\n",
		"211-a\r\n211-b\r\n 211 c\r\n212 d\r\n211\r\n", "257 \"\xff\xff\"\r\n", "211-a\r\nb\r\n",
		"hello\r\n", "550 a\rb\r\n", "211-x\r\n1abc\r\n211 y\r\n150 next\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewReader(bytes.NewReader(data))
		for range 20 {
			reply, err := ReadReplyLimit(r, 50)
			if err != nil {
				// The reader may be mid-reply; stop rather than resync.
				return
			}
			if reply.Code < 100 || reply.Code > 699 || len(reply.Lines) == 0 || len(reply.Lines) > 50 {
				t.Fatalf("ReadReply gave %#v", reply)
			}
			wire := reply.String()
			again, err := ReadReply(NewReader(strings.NewReader(wire)))
			if errors.Is(err, ErrLineTooLong) {
				// Indentation or a CR added to a line at the limit.
				continue
			}
			if err != nil {
				t.Fatalf("re-reading %q (from %#v): %v", wire, reply, err)
			}
			if again.String() != wire {
				t.Fatalf("reply %#v wrote %q, which reads back as %#v writing %q", reply, wire, again, again.String())
			}
		}
	})
}

func FuzzParsePORT(f *testing.F) {
	for _, s := range []string{"127,0,0,1,4,1", "0,0,0,0,0,0", "256,0,0,1,4,1", "+1,2,3,4,5,6", "1,2,3,4,5,6,7", "001,002,003,004,005,006"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, arg string) {
		ap, err := ParsePORT(arg)
		if err != nil {
			if !errors.Is(err, ErrBadAddress) {
				t.Fatalf("ParsePORT(%q): unexpected error %v", arg, err)
			}
			return
		}
		if !ap.Addr().Is4() || ap.Port() == 0 {
			t.Fatalf("ParsePORT(%q) = %v", arg, ap)
		}
		s, err := FormatPORT(ap)
		if err != nil {
			t.Fatalf("FormatPORT(%v): %v", ap, err)
		}
		if ap2, err := ParsePORT(s); err != nil || ap2 != ap {
			t.Fatalf("ParsePORT(%q) = %v, but %q parses as %v, %v", arg, ap, s, ap2, err)
		}
	})
}

func FuzzParseEPRT(f *testing.F) {
	for _, s := range []string{"|1|132.235.1.2|6275|", "|2|::1|5282|", "~1~1.2.3.4~1~", "|2|::ffff:1.2.3.4|21|", "|2|fe80::1%eth0|21|", "|3|x|1|", "1111.2.3.411111"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, arg string) {
		ap, err := ParseEPRT(arg)
		if err != nil {
			if !errors.Is(err, ErrBadAddress) && !errors.Is(err, ErrUnsupportedProtocol) {
				t.Fatalf("ParseEPRT(%q): unexpected error %v", arg, err)
			}
			return
		}
		if a := ap.Addr(); a.Zone() != "" || a.Is4In6() || ap.Port() == 0 {
			t.Fatalf("ParseEPRT(%q) = %v", arg, ap)
		}
		s := FormatEPRT(ap)
		if ap2, err := ParseEPRT(s); err != nil || ap2 != ap {
			t.Fatalf("ParseEPRT(%q) = %v, but %q parses as %v, %v", arg, ap, s, ap2, err)
		}
	})
}

func FuzzParsePASVReply(f *testing.F) {
	for _, s := range []string{"Entering Passive Mode (192,168,1,2,4,1).", "=10,0,0,1,0,21", "(1,2,3,4,0,0)", "(999,1,1,1,1,1) (1,2,3,4,5,6)", "1,2,3,4,5,6,7"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		ap, err := ParsePASVReply(text)
		if err != nil {
			if !errors.Is(err, ErrBadAddress) {
				t.Fatalf("ParsePASVReply(%q): unexpected error %v", text, err)
			}
			return
		}
		s := FormatPASV(ap)
		if ap2, err := ParsePASVReply(s); err != nil || ap2 != ap {
			t.Fatalf("ParsePASVReply(%q) = %v, but %q parses as %v, %v", text, ap, s, ap2, err)
		}
	})
}

func FuzzParseEPSVReply(f *testing.F) {
	for _, s := range []string{"Entering Extended Passive Mode (|||6446|)", "(!!!1!)", "(|||0|)", "(|||65536|)", "((|||21|)", "(111211)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		port, err := ParseEPSVReply(text)
		if err != nil {
			if !errors.Is(err, ErrBadAddress) {
				t.Fatalf("ParseEPSVReply(%q): unexpected error %v", text, err)
			}
			return
		}
		if port == 0 {
			t.Fatalf("ParseEPSVReply(%q) = 0", text)
		}
		s := FormatEPSV(port)
		if p2, err := ParseEPSVReply(s); err != nil || p2 != port {
			t.Fatalf("ParseEPSVReply(%q) = %d, but %q parses as %d, %v", text, port, s, p2, err)
		}
	})
}

func FuzzParseEPSVArg(f *testing.F) {
	for _, s := range []string{"", "1", "2", "ALL", "all", "3", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, arg string) {
		proto, all, err := ParseEPSVArg(arg)
		if err != nil {
			if !errors.Is(err, ErrBadAddress) && !errors.Is(err, ErrUnsupportedProtocol) {
				t.Fatalf("ParseEPSVArg(%q): unexpected error %v", arg, err)
			}
			return
		}
		if proto < 0 || proto > 2 || (all && proto != 0) {
			t.Fatalf("ParseEPSVArg(%q) = %d, %v", arg, proto, all)
		}
	})
}

func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"20261124143500", "20261124143500.5", "20240229000000", "20230229000000", "99991231235960", "10000101000000.000000000001", "0999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tm, err := ParseTime(s)
		if err != nil {
			if !errors.Is(err, ErrBadTime) {
				t.Fatalf("ParseTime(%q): unexpected error %v", s, err)
			}
			return
		}
		if y := tm.Year(); y < 1000 || y > 9999 {
			t.Fatalf("ParseTime(%q) = %v", s, tm)
		}
		out := FormatTime(tm)
		tm2, err := ParseTime(out)
		if err != nil || !tm2.Equal(tm.Truncate(time.Second)) {
			t.Fatalf("ParseTime(%q) = %v, but %q parses as %v, %v", s, tm, out, tm2, err)
		}
	})
}

func FuzzParseFactList(f *testing.F) {
	for _, s := range []string{"type;size;", "Type;SIZE", "unix.mode;perm;;", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		set, echo := ParseFactList(s)
		if set&^AllFacts != 0 {
			t.Fatalf("ParseFactList(%q) = %b", s, set)
		}
		if set2, echo2 := ParseFactList(echo); set2 != set || echo2 != echo {
			t.Fatalf("ParseFactList(%q) echoes %q, which parses as %b, %q", s, echo, set2, echo2)
		}
	})
}

func FuzzUnquotePath(f *testing.F) {
	for _, s := range []string{`"/" is current`, `"a""b" created`, `"unterminated`, `none`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		path, rest, err := UnquotePath(text)
		if err != nil {
			if !errors.Is(err, ErrBadQuotedPath) {
				t.Fatalf("UnquotePath(%q): unexpected error %v", text, err)
			}
			return
		}
		if got := QuotePath(path) + rest; got != text {
			t.Fatalf("UnquotePath(%q) = %q, %q, which quotes back as %q", text, path, rest, got)
		}
	})
}
