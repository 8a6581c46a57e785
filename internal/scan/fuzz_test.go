package scan

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/port21/port21/internal/scan/targets"
)

// FuzzAudit plays arbitrary bytes as the server's side of every connection
// of an audit. Whatever the server says, the audit must end, and what it
// reports must be well-formed and safe to print.
func FuzzAudit(f *testing.F) {
	for _, s := range []string{
		"220 (vsFTPd 2.3.4)\r\n211-Features:\r\n EPSV\r\n211 End\r\n530 x\r\n530 x\r\n530 x\r\n331 p\r\n331 p\r\n230 ok\r\n200 PORT ok\r\n227 Entering Passive Mode (10,0,0,1,4,1)\r\n",
		"220 ProFTPD 1.3.5 Server\r\n211-\r\n SITE COPY\r\n211 \r\n215 UNIX\r\n214 h\r\n500 no\r\n350 yes\r\n331 p\r\n",
		"220-a\r\n220-b\r\n", "\x16\x03\x01\x00\x05hello", "220 \x1b[31mred\r\n", "", "120 wait\r\n", "220 ok\n234 go\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := New(Options{
			Timeout: 2 * time.Second, Rate: -1, Intrusive: true,
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				cli, srv := net.Pipe()
				go func() {
					go io.Copy(io.Discard, srv)
					srv.Write(data)
					srv.Close()
				}()
				return cli, nil
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		ap := netip.MustParseAddrPort("192.0.2.1:21")
		r, _ := s.Audit(context.Background(), targets.Target{Host: "192.0.2.1", Addr: ap.Addr(), Port: 21})
		check := func(what, s string) {
			if !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 && r != '\n' && r != '\t' || r == 0x7f }) {
				t.Fatalf("%s not safe to print: %q", what, s)
			}
		}
		if r.Service != nil {
			check("banner", r.Service.Banner)
			for _, f := range r.Service.Features {
				check("feature", f)
			}
		}
		for _, fd := range r.Findings {
			if fd.ID == "" || fd.Title == "" {
				t.Fatalf("incomplete finding %+v", fd)
			}
			for _, ev := range fd.Evidence {
				check("evidence", ev.Sent+ev.Received+ev.Note)
				if strings.HasPrefix(ev.Sent, "PASS ") && ev.Sent != "PASS ****" {
					t.Fatalf("unmasked %q", ev.Sent)
				}
			}
		}
	})
}

func FuzzParseServerHello(f *testing.F) {
	f.Add(serverHello(0x0300, 0x000a))
	f.Add(serverHello(0x0303, 0x0002))
	f.Add([]byte{21, 3, 3, 0, 2, 2, 40})
	f.Add([]byte{22, 3, 3, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		v, s, ok := parseServerHello(bytes.NewReader(data))
		if !ok && (v != 0 || s != 0) {
			t.Fatalf("refusal with version %x suite %x", v, s)
		}
	})
}

func TestClientHelloRoundTrip(t *testing.T) {
	for _, v := range []uint16{versionSSL30, 0x0303} {
		rec, err := clientHello(v, sslv3Suites)
		if err != nil {
			t.Fatal(err)
		}
		c1, c2 := net.Pipe()
		go func() { c1.Write(rec); c1.Close() }()
		_, gv, suites, bare := readHello(c2)
		if gv != v || !bare || len(suites) != len(sslv3Suites) || suites[0] != sslv3Suites[0] {
			t.Errorf("version %x: parsed %x %v bare=%v", v, gv, suites, bare)
		}
	}
}

// FuzzParseListLine feeds arbitrary listing lines to the parser. A name it
// accepts is sent back to the server in STOR and DELE commands, so it must
// never hold a line break or other control character, a slash, or be "."
// or "..".
func FuzzParseListLine(f *testing.F) {
	for _, s := range []string{
		"drwxrwxrwx    2 0        0            4096 Nov 24 16:47 upload",
		"-rw-r--r--   1 ftp      ftp            17 Jan  1  2020 read me.txt\r\n",
		"lrwxrwxrwx   1 0 0 4 Nov 24 16:47 up -> upload",
		"drwxrwxrwx 2 0 0 4096 Nov 24 16:47 x\rDELE y",
		"total 8", "11-24-26  04:47PM       <DIR>          upload", "",
		"drwxrwxrwx\t2\t0\t0\t4096\tNov\t24\t16:47\t\t..",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		e, ok := parseListLine(line)
		if !ok {
			return
		}
		if !safeName(e.name) || strings.ContainsAny(e.name, "\r\n\x00/") || e.name == "." || e.name == ".." {
			t.Fatalf("unsafe name %q from %q", e.name, line)
		}
		if len(e.mode) != 10 {
			t.Fatalf("mode %q from %q", e.mode, line)
		}
		if !utf8.ValidString(e.line) || len(e.line) > 512+16 { // clean may finish a rune past its cap, then adds "..."
			t.Fatalf("evidence line %q from %q", e.line, line)
		}
	})
}
