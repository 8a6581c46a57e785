package scan

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/port21/port21/internal/finding"
	"github.com/port21/port21/internal/ftp"
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

// printable is what FuzzAudit requires of every string the scanner
// reports: valid UTF-8 with no control character but newline and tab, so
// nothing a server sends can move a terminal's cursor or colour a report.
func printable(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsFunc(s, func(r rune) bool {
		return r < 0x20 && r != '\n' && r != '\t' || r == 0x7f || r >= 0x80 && r < 0xa0
	})
}

// FuzzReplyText reads a reply, such as a banner, as the scanner records it:
// the evidence text and the fingerprint's message are printable and bounded
// whatever the server sent.
func FuzzReplyText(f *testing.F) {
	// Greetings of real servers, a multi-line one (ProFTPD with a
	// DisplayConnect file), and hostile ones: terminal escapes, C1 controls,
	// invalid UTF-8, bidirectional overrides.
	for _, s := range []string{
		"220 (vsFTPd 3.0.3)\r\n", "220 ProFTPD Server (Debian) [::ffff:127.0.0.1]\r\n",
		"220---------- Welcome to Pure-FTPd [privsep] [TLS] ----------\r\n220-You are user number 1 of 50 allowed.\r\n220 You will be disconnected after 15 minutes of inactivity.\r\n",
		"220 Microsoft FTP Service\r\n", "220-FileZilla Server 1.8.0\r\n220 Please visit https://filezilla-project.org/\r\n",
		"220 \x1b[2J\x1b[31mred\x1b]0;title\x07\r\n", "220 \xc2\x9b31m \xff\xfe\r\n", "220 \u202egnp.exe\r\n", "220-\r\n\x00\r\n220 \r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ftp.ReadReplyLimit(ftp.NewReader(bytes.NewReader(data)), 100)
		if err != nil {
			return
		}
		for what, s := range map[string]string{"replyText": replyText(r), "message": message(r)} {
			if !printable(s) {
				t.Fatalf("%s(%q) = %q, not printable", what, data, s)
			}
			if len(s) > maxEvidence+len("...")+utf8.UTFMax {
				t.Fatalf("%s of %d bytes gave %d", what, len(data), len(s))
			}
		}
	})
}

// FuzzFeatures: the features the scanner stores from a FEAT reply are
// printable, trimmed, and bounded in number and length.
func FuzzFeatures(f *testing.F) {
	for _, s := range []string{
		"211-Features:\r\n EPRT\r\n EPSV\r\n MDTM\r\n PASV\r\n REST STREAM\r\n SIZE\r\n TVFS\r\n UTF8\r\n211 End\r\n",
		"211-Features:\r\n AUTH TLS\r\n LANG en-US*\r\n MFF modify;UNIX.group;UNIX.mode;\r\n SITE COPY\r\n211 End\r\n",
		"211-x\r\n \x1b[31mAUTH TLS\x1b[0m\r\n \xff\xfe\r\n \u0085\r\n211 y\r\n", "211-x\r\n" + strings.Repeat(" F\r\n", 300) + "211 y\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ftp.ReadReplyLimit(ftp.NewReader(bytes.NewReader(data)), 1000)
		if err != nil {
			return
		}
		feats := features(r)
		if len(feats) > 100 {
			t.Fatalf("%d features stored", len(feats))
		}
		for _, ft := range feats {
			if !printable(ft) || strings.TrimSpace(ft) != ft || len(ft) > 256+len("...")+utf8.UTFMax {
				t.Fatalf("feature %q stored", ft)
			}
		}
	})
}

// certSeed makes a DER certificate for the seed corpus, signed by parent's
// key (self-signed when parent is nil). Ed25519 signatures are
// deterministic, so the seeds are the same on every run.
func certSeed(tb testing.TB, tmpl *x509.Certificate, key ed25519.PrivateKey, parent *x509.Certificate, parentKey ed25519.PrivateKey) []byte {
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(nil, tmpl, parent, key.Public(), parentKey)
	if err != nil {
		tb.Fatal(err)
	}
	return der
}

// FuzzCertificate parses a leaf and an issuer certificate as a server
// would present them and runs the scanner's certificate description and
// every check on them: a certificate is entirely the server's choice, so
// what reaches the report (names, issuer, evidence) must be printable and
// bounded, and no check may panic on odd fields.
func FuzzCertificate(f *testing.F) {
	caKey := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, 32))
	leafKey := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{2}, 32))
	day := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	ca := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Example CA", Organization: []string{"Example"}},
		NotBefore: day.AddDate(-1, 0, 0), NotAfter: day.AddDate(5, 0, 0), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign,
	}
	caDER := certSeed(f, ca, caKey, nil, nil)
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "ftp.example.com"},
		NotBefore: day.AddDate(0, -1, 0), NotAfter: day.AddDate(0, 2, 0), DNSNames: []string{"ftp.example.com", "*.example.com"},
		IPAddresses: []net.IP{net.ParseIP("192.0.2.21")},
	}
	f.Add(certSeed(f, leaf, leafKey, ca, caKey), caDER)
	// port21's own generated certificate's shape: self-signed, expired here.
	self := &x509.Certificate{
		SerialNumber: big.NewInt(3), Subject: pkix.Name{CommonName: "port21 self-signed", Organization: []string{"port21"}},
		NotBefore: day.AddDate(-2, 0, 0), NotAfter: day.AddDate(-1, 0, 0),
	}
	f.Add(certSeed(f, self, leafKey, nil, nil), []byte(nil))
	// A hostile one: terminal escapes, C1 controls and CR LF in every name.
	hostile := &x509.Certificate{
		SerialNumber: big.NewInt(4),
		Subject:      pkix.Name{CommonName: "\x1b[2J\x1b[31mftp\r\n", Organization: []string{"\u009b31m\u202e"}, Country: []string{"\x00\x07"}},
		NotBefore:    day, NotAfter: day.AddDate(100, 0, 0), DNSNames: []string{"a\r\nb", strings.Repeat("x", 300)},
	}
	f.Add(certSeed(f, hostile, leafKey, ca, caKey), caDER)
	f.Add([]byte{0x30, 0x03, 0x02, 0x01, 0x00}, []byte{})

	roots := x509.NewCertPool()
	f.Fuzz(func(t *testing.T, leafDER, issuerDER []byte) {
		leaf, err := x509.ParseCertificate(leafDER)
		if err != nil {
			return
		}
		chain := []*x509.Certificate{leaf}
		if issuer, err := x509.ParseCertificate(issuerDER); err == nil {
			chain = append(chain, issuer)
		}
		ci := certInfo(leaf, len(chain))
		for _, s := range []string{ci.Subject, ci.Issuer, ci.KeyType, ci.SignatureAlgorithm, ci.NotBefore, ci.NotAfter, describeCert(leaf)} {
			if !printable(s) || len(s) > 1024+len("...")+utf8.UTFMax {
				t.Fatalf("certificate described as %q", s)
			}
		}
		if ci.KeyBits < 0 || ci.Chain != len(chain) {
			t.Fatalf("certificate info %+v", ci)
		}
		o := &Observation{Host: "ftp.example.com", Addr: netip.MustParseAddrPort("192.0.2.21:21"), Now: day, Roots: roots, Chain: chain, KeyOnly: leaf}
		for _, fd := range judge(o, finding.Target{Host: o.Host, Address: "192.0.2.21", Port: 21}) {
			for _, ev := range fd.Evidence {
				if s := ev.Sent + ev.Received + ev.Note; !printable(s) || len(s) > 4096 {
					t.Fatalf("finding %s with evidence %q", fd.ID, s)
				}
			}
		}
	})
}
