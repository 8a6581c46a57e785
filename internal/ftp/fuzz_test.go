package ftp

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
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

// FuzzParseListLine feeds arbitrary LIST lines, as a hostile server sends
// them, to the client-side parser. A name it accepts is what a client sends
// back in RETR, STOR or DELE, so it must hold no CR, LF or NUL (which would
// end the command early or inject another); it is the tail of the line, so
// nothing is invented.
func FuzzParseListLine(f *testing.F) {
	// GNU ls / vsftpd, ProFTPD, Pure-FTPd (with its own column widths),
	// busybox, a symlink, a DOS listing (IIS), a total line, an injection.
	for _, s := range []string{
		"drwxr-xr-x    2 0        0            4096 Nov 24 16:47 pub",
		"-rw-r--r--   1 ftp      ftp       1048576 Jan  1  2020 big file.bin\r\n",
		"drwxrwxrwx   2 ftp      ftp          4096 Nov 24 16:47 incoming",
		"-rw-r--r--    1 1000       1000              17 Nov 24 16:47 readme",
		"lrwxrwxrwx    1 0        0               4 Nov 24 16:47 up -> upload",
		"crw-rw-rw-   1 root     root       1,   3 Nov 24 16:47 null",
		"-rwsr-xr-T 1 0 0 0 Nov 24 16:47 odd",
		"11-24-26  04:47PM       <DIR>          upload", "total 8", "",
		"-rw-r--r-- 1 0 0 1 Nov 24 16:47 x\rDELE y",
		"-rw-r--r-- 1 0 0 1 Nov 24 16:47 x\x00y",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		l, ok := ParseListLine(line)
		if !ok {
			if l != (ListedLine{}) {
				t.Fatalf("refused %q but returned %+v", line, l)
			}
			return
		}
		if len(l.Mode) != 10 || !strings.HasPrefix(strings.TrimLeft(line, " \t"), l.Mode) {
			t.Fatalf("ParseListLine(%q) gave mode %q", line, l.Mode)
		}
		if l.Name == "" || strings.ContainsAny(l.Name, "\r\n\x00") || strings.TrimLeft(l.Name, " \t") != l.Name {
			t.Fatalf("ParseListLine(%q) gave name %q", line, l.Name)
		}
		if !strings.Contains(line, l.Name) || (l.Mode[0] != 'l' && !strings.HasSuffix(strings.TrimRight(line, "\r\n"), l.Name)) {
			t.Fatalf("ParseListLine(%q) gave name %q, not the line's tail", line, l.Name)
		}
	})
}

// FuzzListLineRoundTrip formats an entry as the server's LIST does and
// parses it as the scanner does: every entry port21 lists is read back with
// its mode and with its name as listed (control characters shown as '?').
func FuzzListLineRoundTrip(f *testing.F) {
	f.Add("upload", uint32(fs.ModeDir|0o777), int64(4096), int64(1795531620), "")
	f.Add("a name with spaces.txt", uint32(0o644), int64(17), int64(0), "")
	f.Add("link", uint32(fs.ModeSymlink|0o777), int64(4), int64(1795531620), "target dir")
	f.Add("x\r\nDELE y", uint32(0o600), int64(-1), int64(-62135596800), "")
	f.Add("  lead", uint32(fs.ModeSetuid|fs.ModeSticky|0o755), int64(1<<62), int64(253402300799), "")
	f.Add("\u0085\u009b31m", uint32(fs.ModeNamedPipe|0o600), int64(0), int64(1), "")
	now := time.Date(2026, 11, 24, 17, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, name string, mode uint32, size, mtime int64, target string) {
		e := ListEntry{Name: name, Mode: fs.FileMode(mode), Size: size, ModTime: time.Unix(mtime, 0), LinkTarget: target}
		line := ListLine(e, now)
		l, ok := ParseListLine(line)
		shown := string(AppendName(nil, name))
		irregular := e.Mode&(fs.ModeDir|fs.ModeSymlink|fs.ModeNamedPipe|fs.ModeSocket|fs.ModeCharDevice|fs.ModeDevice) == 0 && e.Mode&fs.ModeIrregular != 0
		if year := e.ModTime.UTC().Year(); year < 1 || year > 9999 {
			return // Go's time formatting leaves the fixed columns
		}
		// The ls -l columns cannot show a name's leading blanks: they are
		// lost, as with every ls -l parser; a name of blanks alone is none.
		shown = strings.TrimLeft(shown, " ")
		want := shown != "" && !irregular
		if ok != want {
			t.Fatalf("%+v listed as %q parses: %+v, %v", e, line, l, ok)
		}
		if !ok {
			return
		}
		if l.Mode != line[:10] {
			t.Fatalf("%q parsed with mode %q", line, l.Mode)
		}
		wantName := shown
		if e.Mode&fs.ModeSymlink != 0 {
			wantName, _, _ = strings.Cut(shown+" -> ", " -> ")
		}
		if l.Name != wantName {
			t.Fatalf("%+v listed as %q parses with name %q, want %q", e, line, l.Name, wantName)
		}
	})
}

// FuzzParseMLSxLine: an MLSD/MLST entry's name is sent back like a LIST
// name, so it holds no CR, LF or NUL; its facts re-format to a line that
// parses to the same facts and name.
func FuzzParseMLSxLine(f *testing.F) {
	// RFC 3659 7.7.4's examples, vsftpd-less servers' real lines (ProFTPD,
	// Pure-FTPd, IIS), and hostile ones.
	for _, s := range []string{
		"Type=cdir;Modify=19981107085215;Perm=el; tmp",
		"Type=file;Size=25730;Modify=19940728095854;Perm=; capmux.tar.z",
		"modify=20261124164700;perm=flcdmpe;type=dir;unique=fd00g2;UNIX.group=0;UNIX.mode=0755;UNIX.owner=0; pub",
		"type=file;size=17;modify=20261124164700.123;perm=adfrw; README",
		"type=OS.unix=slink:/etc;perm=; etc", " no-facts", "type=dir; a\r\nDELE b", "type=dir;=x; n", "x", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		m, ok := ParseMLSxLine(line)
		if !ok {
			return
		}
		if m.Name == "" || strings.ContainsAny(m.Name, "\r\n\x00") || !strings.HasSuffix(strings.TrimRight(line, "\r\n"), m.Name) {
			t.Fatalf("ParseMLSxLine(%q) gave name %q", line, m.Name)
		}
		var b strings.Builder
		for k, v := range m.Facts {
			if k == "" || strings.ContainsAny(k, ";= ") || strings.ContainsAny(v, "; ") || k != strings.ToLower(k) {
				t.Fatalf("ParseMLSxLine(%q) gave fact %q=%q", line, k, v)
			}
			b.WriteString(k + "=" + v + ";")
		}
		again, ok := ParseMLSxLine(b.String() + " " + m.Name)
		if !ok || again.Name != m.Name || len(again.Facts) != len(m.Facts) {
			t.Fatalf("ParseMLSxLine(%q) = %+v; re-formatted: %+v, %v", line, m, again, ok)
		}
		for k, v := range m.Facts {
			if again.Facts[k] != v {
				t.Fatalf("fact %q: %q, re-parsed %q", k, v, again.Facts[k])
			}
		}
		_, _ = m.Dir(), m.CanCreate()
	})
}

// FuzzParseFeatures reads a FEAT reply as the scanner does: the features
// are the reply's inner lines, trimmed, never empty, at most the limit.
func FuzzParseFeatures(f *testing.F) {
	// RFC 2389's example and the replies of vsftpd, ProFTPD, Pure-FTPd, IIS.
	for _, s := range []string{
		"211-Extensions supported:\r\n MLST size*;create;modify*;perm;media-type\r\n SIZE\r\n COMPRESSION\r\n MDTM\r\n211 END\r\n",
		"211-Features:\r\n EPRT\r\n EPSV\r\n MDTM\r\n PASV\r\n REST STREAM\r\n SIZE\r\n TVFS\r\n UTF8\r\n211 End\r\n",
		"211-Features:\r\n AUTH TLS\r\n LANG en-US*\r\n MFF modify;UNIX.group;UNIX.mode;\r\n SITE COPY\r\n211 End\r\n",
		"211-Extensions supported:\r\n EPRT\r\n IDLE\r\n MDTM\r\n SIZE\r\n MFMT\r\n REST STREAM\r\n MLST type*;size*;sizd*;modify*;UNIX.mode*;UNIX.uid*;UNIX.gid*;unique*;\r\n MLSD\r\n PRET\r\n AUTH TLS\r\n PBSZ\r\n PROT\r\n UTF8\r\n TVFS\r\n ESTA\r\n PASV\r\n EPSV\r\n ESTP\r\n211 End.\r\n",
		"211-FEAT\r\n    LANG EN*\r\n    UTF8\r\n    AUTH TLS;TLS-C;SSL;TLS-P;\r\n211 END\r\n",
		"211 no-features\r\n", "500 FEAT not understood\r\n", "211-x\r\n\r\n \t \r\n211 y\r\n",
	} {
		f.Add([]byte(s), 100)
	}
	f.Fuzz(func(t *testing.T, data []byte, limit int) {
		r, err := ReadReplyLimit(NewReader(bytes.NewReader(data)), 200)
		if err != nil {
			return
		}
		feats := ParseFeatures(r, limit)
		if r.Code != 211 && feats != nil {
			t.Fatalf("features %q from a %d reply", feats, r.Code)
		}
		if len(feats) > max(0, limit) || len(feats) > max(0, len(r.Lines)-2) {
			t.Fatalf("%d features from %d lines, limit %d", len(feats), len(r.Lines), limit)
		}
		for _, ft := range feats {
			if ft == "" || strings.TrimSpace(ft) != ft || strings.ContainsAny(ft, "\r\n") {
				t.Fatalf("feature %q from %q", ft, data)
			}
			if !HasFeature(feats, ft) {
				t.Fatalf("HasFeature(%q, %q) is false", feats, ft)
			}
		}
	})
}
