package scan

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/port21/port21/internal/finding"
	"github.com/port21/port21/internal/scan/targets"
)

func ids(r Result) []string {
	var out []string
	for _, f := range r.Findings {
		out = append(out, f.ID)
	}
	slices.Sort(out)
	return out
}

func newTestScanner(t testing.TB, mod func(*Options)) *Scanner {
	t.Helper()
	opts := Options{Timeout: 5 * time.Second, Rate: -1, Roots: x509.NewCertPool()}
	if mod != nil {
		mod(&opts)
	}
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func auditOne(t testing.TB, s *Scanner, ap netip.AddrPort) Result {
	t.Helper()
	r, open := s.Audit(context.Background(), targets.Target{Host: ap.Addr().String(), Addr: ap.Addr(), Port: ap.Port()})
	if !open {
		t.Fatalf("%s: not open", ap)
	}
	return r
}

// vsftpdPlain is vsftpd without TLS, as a stock install answers before login.
var vsftpdPlain = map[string]string{
	"FEAT":           "211-Features:\r\n EPRT\r\n EPSV\r\n MDTM\r\n PASV\r\n REST STREAM\r\n SIZE\r\n TVFS\r\n211 End\r\n",
	"SYST":           "530 Please login with USER and PASS.\r\n",
	"HELP":           "530 Please login with USER and PASS.\r\n",
	"XPRB":           "530 Please login with USER and PASS.\r\n",
	"USER":           "331 Please specify the password.\r\n",
	"PASS":           "530 Login incorrect.\r\n",
	"AUTH":           "530 Please login with USER and PASS.\r\n",
	"USER anonymous": "331 Please specify the password.\r\n",
}

func with(base map[string]string, kv ...string) map[string]string {
	m := map[string]string{}
	for k, v := range base {
		m[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// aeadSuites are the TLS 1.2 suites a modern server offers: ECDHE with an
// AEAD cipher. Go's defaults also have ECDHE with AES-CBC, a finding.
func aeadSuites() []uint16 {
	return suitesFor(tls.VersionTLS12, func(s *tls.CipherSuite) bool {
		return strings.HasPrefix(s.Name, "TLS_ECDHE_") && !strings.Contains(s.Name, "_CBC_") && !weakSuite(s.Name)
	})
}

func TestScriptedServers(t *testing.T) {
	rsa1024, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	badCert := testCert(t, rsa1024, now.Add(-48*time.Hour), now.Add(-24*time.Hour), "wrong.example")
	legacyTLS := &tls.Config{
		Certificates: []tls.Certificate{badCert},
		MinVersion:   tls.VersionTLS10,
		MaxVersion:   tls.VersionTLS12,
		CipherSuites: suitesFor(0, nil),
	}
	goodCert := testCert(t, ecKey(t), now.Add(-time.Hour), now.Add(90*24*time.Hour)) // beyond tls-cert-expiring's 30 days
	goodLeaf, _ := x509.ParseCertificate(goodCert.Certificate[0])
	modernTLS := &tls.Config{Certificates: []tls.Certificate{goodCert}, MinVersion: tls.VersionTLS12, CipherSuites: aeadSuites(), NextProtos: []string{"ftp"}}
	roots := x509.NewCertPool()
	roots.AddCert(goodLeaf)

	tests := []struct {
		name      string
		fake      *fake
		intrusive bool
		want      []string
		product   string
		version   string
		tlsMode   string
		check     func(t *testing.T, f *fake, r Result)
	}{
		{
			name:    "vsftpd 2.3.4 backdoor banner",
			fake:    &fake{banner: "220 (vsFTPd 2.3.4)\r\n", replies: vsftpdPlain},
			want:    []string{"CVE-2011-2523", "CVE-2015-1419", finding.IDCleartextLogin, finding.IDNoTLS, finding.IDVersionDisclosed},
			product: "vsftpd", version: "2.3.4",
			check: func(t *testing.T, f *fake, r Result) {
				for _, c := range f.commands() {
					if strings.HasSuffix(strings.SplitN(c, " ", 2)[0], ":)") || strings.Contains(c, ":)") {
						t.Errorf("sent the backdoor trigger: %q", c)
					}
				}
				for _, fd := range r.Findings {
					if fd.ID == "CVE-2011-2523" && fd.Basis != basisVersion && fd.Basis != basisConfirmed {
						t.Errorf("basis %q", fd.Basis)
					}
					if fd.ID == finding.IDNoTLS && (len(fd.Fix.Config) != 1 || fd.Fix.Config["vsftpd"] == nil || fd.Fix.Firewall == "") {
						t.Errorf("no-tls fix for vsftpd: %+v", fd.Fix)
					}
					if fd.ID == "CVE-2011-2523" && fd.Fix.Firewall == "" {
						t.Errorf("critical CVE without a firewall fix: %+v", fd.Fix)
					}
				}
			},
		},
		{
			name: "anonymous with internal PASV address and bounce",
			fake: &fake{banner: "220 FTP server ready.\r\n", replies: with(vsftpdPlain,
				"PASS", "230 Login successful.\r\n",
				"PORT", "200 PORT command successful. Consider using PASV.\r\n",
				"PASV", "227 Entering Passive Mode (10,0,0,5,195,80).\r\n")},
			want:    []string{finding.IDAnonymousLogin, finding.IDCleartextLogin, finding.IDFTPBounce, finding.IDNoTLS, IDPASVLeak},
			product: "vsftpd", // from the wording of its replies, not the banner
			check: func(t *testing.T, f *fake, r Result) {
				for _, fd := range r.Findings {
					for _, ev := range fd.Evidence {
						if strings.HasPrefix(ev.Sent, "PASS ") && ev.Sent != "PASS ****" {
							t.Errorf("password not masked: %q", ev.Sent)
						}
					}
				}
				if !slices.Contains(f.commands(), "PORT 198,51,100,1,4,1") {
					t.Errorf("bounce probe not sent to the documentation address: %v", f.commands())
				}
			},
		},
		{
			name: "anonymous write, intrusive",
			fake: &fake{banner: "220 FTP server ready.\r\n", replies: with(vsftpdPlain,
				"PASS", "230 Login successful.\r\n",
				"PORT", "500 Illegal PORT command.\r\n",
				"PASV", "227 Entering Passive Mode (127,0,0,1,195,80).\r\n",
				"EPSV", "data", "STOR", "data", "DELE", "250 Delete operation successful.\r\n")},
			intrusive: true,
			want:      []string{finding.IDAnonymousLogin, finding.IDAnonymousWrite, finding.IDCleartextLogin, IDDefaultCreds, finding.IDNoTLS},
			product:   "vsftpd",
			check: func(t *testing.T, f *fake, r Result) {
				var stor, dele string
				for _, c := range f.commands() {
					if strings.HasPrefix(c, "STOR ") {
						stor = c[5:]
					}
					if strings.HasPrefix(c, "DELE ") {
						dele = c[5:]
					}
				}
				if stor == "" || stor != dele || !strings.HasPrefix(stor, "port21-scan-") {
					t.Errorf("STOR %q then DELE %q", stor, dele)
				}
			},
		},
		{
			name: "ProFTPD mod_copy confirmed",
			fake: &fake{banner: "220 ProFTPD 1.3.5 Server (Debian) [::ffff:127.0.0.1]\r\n", replies: map[string]string{
				"FEAT":        "211-Features:\r\n LANG en-US*\r\n MDTM\r\n SITE COPY\r\n211 End\r\n",
				"SYST":        "215 UNIX Type: L8\r\n",
				"HELP":        "214-The following commands are recognized (* =>'s unimplemented):\r\n CWD     XCWD    CDUP    XCUP\r\n214 Direct comments to root@localhost\r\n",
				"XPRB":        "500 XPRB not understood\r\n",
				"SITE CPFR /": "350 File or directory exists, ready for destination name\r\n",
				"USER":        "331 Password required for x\r\n",
				"PASS":        "530 Login incorrect.\r\n",
				"AUTH":        "500 AUTH not understood\r\n",
			}},
			// The mod_copy entries are confirmed by the probe; the others
			// match the version, which a distribution may have patched.
			want:    []string{"CVE-2015-3306", "CVE-2019-12815", "CVE-2019-18217", "CVE-2021-46854", "CVE-2023-51713", "CVE-2024-48651", finding.IDCleartextLogin, finding.IDNoTLS, finding.IDVersionDisclosed},
			product: "ProFTPD", version: "1.3.5",
			check: func(t *testing.T, f *fake, r Result) {
				for _, c := range f.commands() {
					if strings.Contains(strings.ToUpper(c), "CPTO") {
						t.Errorf("sent %q", c)
					}
				}
				for _, fd := range r.Findings {
					want := basisVersion
					if fd.ID == "CVE-2015-3306" || fd.ID == "CVE-2019-12815" {
						want = basisConfirmed
					}
					if strings.HasPrefix(fd.ID, "CVE-") && fd.Basis != want {
						t.Errorf("%s basis %q, want %s", fd.ID, fd.Basis, want)
					}
				}
			},
		},
		{
			name: "ProFTPD 1.3.5 without mod_copy",
			fake: &fake{banner: "220 ProFTPD 1.3.5 Server (Debian) [::ffff:127.0.0.1]\r\n", replies: map[string]string{
				"SITE": "500 'SITE CPFR' not understood\r\n", "USER": "331 Password required for x\r\n", "PASS": "530 Login incorrect.\r\n",
			}},
			want:    []string{"CVE-2019-18217", "CVE-2021-46854", "CVE-2023-51713", "CVE-2024-48651", finding.IDCleartextLogin, finding.IDNoTLS, finding.IDVersionDisclosed},
			product: "ProFTPD", version: "1.3.5",
		},
		{
			name: "legacy TLS, weak cipher, bad certificate",
			fake: &fake{banner: "220 Welcome\r\n", tls: legacyTLS, replies: map[string]string{
				"USER": "331 Password required\r\n", "PASS": "530 no\r\n",
			}},
			want: []string{finding.IDCleartextLogin, IDALPACA, finding.IDTLSCBCCipher, IDTLSCertExpired, IDTLSCertName, IDTLSCertUntrusted,
				finding.IDTLSLegacyProtocol, finding.IDTLSNoFS, finding.IDTLSWeakCipher, IDTLSWeakKey},
			tlsMode: "explicit",
		},
		{
			name: "SSL 3.0 and a NULL suite accepted",
			fake: &fake{banner: "220 Welcome\r\n", tls: modernTLS, replies: map[string]string{
				"USER": "530 Non-anonymous sessions must use encryption.\r\n",
			}, helloReply: func(v uint16, suites []uint16) []byte {
				if v == versionSSL30 {
					return serverHello(v, suites[0])
				}
				if slices.Contains(suites, 0x0002) {
					return serverHello(v, 0x0002)
				}
				return []byte{21, 3, 3, 0, 2, 2, 40} // handshake_failure alert
			}},
			want:    []string{finding.IDTLSLegacyProtocol, finding.IDTLSWeakCipher},
			product: "vsftpd",
			tlsMode: "explicit",
			check: func(t *testing.T, f *fake, r Result) {
				for _, fd := range r.Findings {
					if len(fd.Evidence) != 1 || !strings.Contains(fd.Evidence[0].Note, "SSL 3.0") && !strings.Contains(fd.Evidence[0].Note, "TLS_RSA_WITH_NULL_SHA") {
						t.Errorf("%s evidence %+v", fd.ID, fd.Evidence)
					}
				}
			},
		},
		{
			name: "modern explicit TLS, login refused before TLS",
			fake: &fake{banner: "220 Welcome\r\n", tls: modernTLS, replies: map[string]string{
				"USER": "530 Non-anonymous sessions must use encryption.\r\n", "PROT": "200 PROT now Clear.\r\n",
			}},
			want:    nil,
			product: "vsftpd",
			tlsMode: "explicit",
		},
		{
			name: "anonymous only over TLS, PROT C accepted",
			fake: &fake{banner: "220 Welcome\r\n", tls: modernTLS, replies: map[string]string{
				"USER":           "530 Non-anonymous sessions must use encryption.\r\n",
				"USER anonymous": "331 Please specify the password.\r\n",
				"PASS":           "230 Login successful.\r\n",
				"PBSZ":           "200 PBSZ set to 0.\r\n",
				"PROT":           "200 PROT now Clear.\r\n",
				"PORT":           "500 Illegal PORT command.\r\n",
				"PASV":           "227 Entering Passive Mode (127,0,0,1,195,80).\r\n",
			}},
			want:    []string{finding.IDAnonymousLogin, finding.IDDataCleartext},
			product: "vsftpd",
			tlsMode: "explicit",
		},
		{
			name: "implicit FTPS with anonymous and PROT C",
			fake: &fake{banner: "220 Welcome\r\n", tls: modernTLS, implicit: true, replies: map[string]string{
				"USER anonymous": "331 Please specify the password.\r\n",
				"PASS":           "230 Login successful.\r\n",
				"PBSZ":           "200 PBSZ set to 0.\r\n",
				"PROT":           "200 PROT now Clear.\r\n",
				"PASV":           "227 Entering Passive Mode (127,0,0,1,195,80).\r\n",
			}},
			want:    []string{finding.IDAnonymousLogin, finding.IDDataCleartext},
			tlsMode: "implicit",
		},
		{
			name:    "implicit FTPS",
			fake:    &fake{banner: "220 Welcome\r\n", tls: modernTLS, implicit: true, replies: map[string]string{"USER": "331 Password required\r\n"}},
			want:    nil,
			tlsMode: "implicit",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ap := startFake(t, tt.fake)
			s := newTestScanner(t, func(o *Options) { o.Intrusive = tt.intrusive; o.Roots = roots })
			r := auditOne(t, s, ap)
			if r.Error != "" {
				t.Fatalf("audit error: %v", r.Error)
			}
			if got := ids(r); !slices.Equal(got, tt.want) {
				t.Errorf("findings %v, want %v", got, tt.want)
				for _, f := range r.Findings {
					t.Logf("%s: %+v", f.ID, f.Evidence)
				}
			}
			if r.Service == nil {
				t.Fatal("no service")
			}
			if r.Service.Product != tt.product || r.Service.Version != tt.version || r.Service.TLS != tt.tlsMode {
				t.Errorf("service %+v, want %q %q tls %q", r.Service, tt.product, tt.version, tt.tlsMode)
			}
			for _, f := range r.Findings {
				if f.Title == "" || f.Fix.Summary == "" || len(f.Evidence) == 0 || f.Target.Port != int(ap.Port()) || f.Basis == "" {
					t.Errorf("incomplete finding %+v", f)
				}
			}
			if tt.check != nil {
				tt.check(t, tt.fake, r)
			}
		})
	}
}

func TestHostilePeers(t *testing.T) {
	tests := []struct {
		name   string
		raw    func(net.Conn)
		want   string // in the error
		status finding.Status
	}{
		{"endless multi-line reply", func(c net.Conn) {
			io.WriteString(c, "220-hello\r\n")
			for {
				if _, err := io.WriteString(c, "220-more and more\r\n"); err != nil {
					return
				}
			}
		}, "too many lines", finding.StatusProtocolError},
		{"10 MB line", func(c net.Conn) {
			io.WriteString(c, "220 ")
			chunk := strings.Repeat("a", 64<<10)
			for range 160 {
				if _, err := io.WriteString(c, chunk); err != nil {
					return
				}
			}
			io.WriteString(c, "\r\n")
		}, "", finding.StatusProtocolError},
		{"slowloris", func(c net.Conn) {
			for _, b := range []byte("220 slow") {
				if _, err := c.Write([]byte{b}); err != nil {
					return
				}
				time.Sleep(400 * time.Millisecond)
			}
		}, "", finding.StatusTimeout},
		{"garbage", func(c net.Conn) {
			io.WriteString(c, "SSH-2.0-OpenSSH_9.6\r\n")
			io.Copy(io.Discard, c)
		}, "not an FTP service", finding.StatusNotFTP},
		{"SMTP server", func(c net.Conn) {
			io.WriteString(c, "220 mail.example.com ESMTP Postfix (Debian/GNU)\r\n")
			io.Copy(io.Discard, c)
		}, "SMTP", finding.StatusNotFTP},
		{"binary noise", func(c net.Conn) {
			io.WriteString(c, "\x00\x01\x02\xff\xfe\r\n")
			io.Copy(io.Discard, c)
		}, "not an FTP service", finding.StatusNotFTP},
		{"silent, no TLS", func(c net.Conn) {
			io.Copy(io.Discard, c)
		}, "implicit FTPS failed", finding.StatusTimeout},
		{"closes at once", func(c net.Conn) {}, "without a greeting", finding.StatusRefused},
		{"banned", func(c net.Conn) {
			io.WriteString(c, "421 Too many failed logins from your address; banned for 30 minutes.\r\n")
		}, "banned", finding.StatusRefused},
		{"replies then hangs", func(c net.Conn) {
			io.WriteString(c, "220 hi\r\n")
			io.Copy(io.Discard, c)
		}, "", finding.StatusTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ap := startFake(t, &fake{raw: tt.raw})
			const timeout = 2 * time.Second
			s := newTestScanner(t, func(o *Options) { o.Timeout = timeout })
			start := time.Now()
			r := auditOne(t, s, ap)
			// 3x: the audit must end at its time-out, with slack for ten
			// audits at once under -race on a loaded machine.
			if el := time.Since(start); el > 3*timeout {
				t.Errorf("audit took %v with a %v time-out", el, timeout)
			}
			if r.Error == "" {
				t.Fatalf("no error; result %+v", r)
			}
			if !strings.Contains(r.Error, tt.want) {
				t.Errorf("error %q, want it to mention %q", r.Error, tt.want)
			}
			if r.Status != tt.status {
				t.Errorf("status %q, want %q (error %q)", r.Status, tt.status, r.Error)
			}
		})
	}
}

func TestClosedPortAndResolveFailure(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ap := netip.MustParseAddrPort(ln.Addr().String())
	ln.Close()
	s := newTestScanner(t, func(o *Options) {
		o.LookupNetIP = func(context.Context, string, string) ([]netip.Addr, error) {
			return nil, errors.New("no such host")
		}
	})
	if r, open := s.Audit(context.Background(), targets.Target{Host: "127.0.0.1", Addr: ap.Addr(), Port: ap.Port()}); open || r.Status != finding.StatusClosed {
		t.Errorf("closed port reported, or not as closed: %+v", r)
	}
	r, open := s.Audit(context.Background(), targets.Target{Host: "ftp.invalid", Port: 21})
	if !open || r.Error == "" || !strings.Contains(r.Error, "resolve") || r.Status != finding.StatusResolveError {
		t.Errorf("unresolvable name: %v %+v", open, r)
	}
}

func TestRunBoundedAndCancellable(t *testing.T) {
	var addrs []netip.AddrPort
	for range 4 {
		addrs = append(addrs, startFake(t, &fake{banner: "220 (vsFTPd 3.0.3)\r\n", replies: vsftpdPlain}))
	}
	// A closed port among them.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := netip.MustParseAddrPort(ln.Addr().String())
	ln.Close()
	addrs = append(addrs, closed)
	seq := func(yield func(targets.Target) bool) {
		for _, a := range addrs {
			if !yield(targets.Target{Host: a.Addr().String(), Addr: a.Addr(), Port: a.Port()}) {
				return
			}
		}
	}
	s := newTestScanner(t, func(o *Options) { o.Concurrency = 2; o.Rate = 1000 })
	var stats Stats
	var got []finding.Target
	if err := s.Run(context.Background(), seq, &stats, func(r Result) error {
		got = append(got, r.Target)
		if r.Error != "" {
			t.Errorf("%v: %v", r.Target, r.Error)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 || stats.Done.Load() != 5 || stats.FTP.Load() != 4 || stats.Open.Load() != 4 {
		t.Errorf("results %d, stats done %d ftp %d open %d", len(got), stats.Done.Load(), stats.FTP.Load(), stats.Open.Load())
	}

	// Cancellation: silent peers would each take the full time-out.
	var slow []netip.AddrPort
	for range 3 {
		slow = append(slow, startFake(t, &fake{raw: func(c net.Conn) { io.Copy(io.Discard, c) }}))
	}
	seq2 := func(yield func(targets.Target) bool) {
		for range 100 {
			for _, a := range slow {
				if !yield(targets.Target{Host: a.Addr().String(), Addr: a.Addr(), Port: a.Port()}) {
					return
				}
			}
		}
	}
	s2 := newTestScanner(t, func(o *Options) { o.Concurrency = 3; o.Timeout = time.Minute })
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := s2.Run(ctx, seq2, nil, func(Result) error { return nil })
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Run after cancel = %v", err)
	}
	if el := time.Since(start); el > 3*time.Second {
		t.Errorf("cancelled Run took %v", el)
	}

	// An error from emit stops the scan.
	stop := errors.New("stop")
	if err := s.Run(context.Background(), seq, nil, func(Result) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("Run with failing emit = %v", err)
	}
}

func TestRateLimit(t *testing.T) {
	ap := startFake(t, &fake{raw: func(c net.Conn) {}})
	s := newTestScanner(t, func(o *Options) { o.Rate = 20; o.Concurrency = 10 })
	seq := func(yield func(targets.Target) bool) {
		for range 12 {
			if !yield(targets.Target{Host: "127.0.0.1", Addr: ap.Addr(), Port: ap.Port()}) {
				return
			}
		}
	}
	start := time.Now()
	if err := s.Run(context.Background(), seq, nil, func(Result) error { return nil }); err != nil {
		t.Fatal(err)
	}
	// 12 connections at 20/s with a burst of 2 need at least ~0.5 s.
	if el := time.Since(start); el < 400*time.Millisecond {
		t.Errorf("12 connections at 20/s took only %v", el)
	}
}

func TestIPv6Target(t *testing.T) {
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	ln.Close()
	f := &fake{banner: "220 FTP server ready.\r\n", replies: with(vsftpdPlain,
		"PASS", "230 Login successful.\r\n", "EPRT", "200 EPRT command successful.\r\n")}
	ap := startFakeOn(t, f, "[::1]:0")
	r := auditOne(t, newTestScanner(t, nil), ap)
	if r.Error != "" {
		t.Fatal(r.Error)
	}
	want := []string{finding.IDAnonymousLogin, finding.IDCleartextLogin, finding.IDFTPBounce, finding.IDNoTLS}
	if got := ids(r); !slices.Equal(got, want) {
		t.Errorf("findings %v, want %v", got, want)
	}
	if !slices.Contains(f.commands(), "EPRT |2|2001:db8::1|1025|") {
		t.Errorf("commands %v lack the EPRT bounce probe", f.commands())
	}
	if r.Target.Address != "::1" || r.Target.String() != ap.String() {
		t.Errorf("target %+v", r.Target)
	}
}

func TestConnectTimeout(t *testing.T) {
	s := newTestScanner(t, func(o *Options) {
		o.Timeout = 10 * time.Second
		o.ConnectTimeout = 200 * time.Millisecond
		o.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			<-ctx.Done() // a filtered port: no answer at all
			return nil, ctx.Err()
		}
	})
	start := time.Now()
	if _, open := s.Audit(context.Background(), targets.Target{Host: "192.0.2.1", Addr: netip.MustParseAddr("192.0.2.1"), Port: 21}); open {
		t.Error("filtered port reported open")
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("filtered port took %v with a 200ms connect time-out", el)
	}
}

func TestSlowGreeting(t *testing.T) {
	f := &fake{delay: 2 * time.Second, banner: "220 (vsFTPd 3.0.3)\r\n", replies: vsftpdPlain}
	ap := startFake(t, f)
	s := newTestScanner(t, func(o *Options) { o.Timeout = 12 * time.Second })
	r := auditOne(t, s, ap)
	if r.Error != "" {
		t.Fatal(r.Error)
	}
	want := []string{finding.IDCleartextLogin, finding.IDNoTLS, finding.IDVersionDisclosed}
	if got := ids(r); !slices.Equal(got, want) || r.Service.TLS != "" {
		t.Errorf("findings %v, want %v; service %+v", got, want, r.Service)
	}
}
