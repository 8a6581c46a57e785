package confaudit

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/port21/port21/internal/finding"
)

func ids(fs []finding.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.ID)
	}
	slices.Sort(out)
	return out
}

func TestAudit(t *testing.T) {
	for _, tc := range []struct {
		path    string
		product Product
		want    string // sorted ids, space-separated
		passive [2]uint16
		control []uint16 // listen ports
	}{
		{"testdata/vsftpd-bad.conf", Vsftpd, "anonymous-login anonymous-write anonymous-write cleartext-login ftp-bounce logging-off no-chroot no-passive-range no-tls version-disclosed", [2]uint16{}, []uint16{21}},
		{"testdata/vsftpd-good.conf", Vsftpd, "", [2]uint16{50000, 50100}, []uint16{21}},
		{"testdata/vsftpd-weak-tls.conf", Vsftpd, "cleartext-login data-cleartext-allowed no-passive-range tls-legacy-protocol tls-truncation-allowed tls-weak-cipher version-disclosed writable-chroot", [2]uint16{}, []uint16{21}},
		{"testdata/vsftpd-anon-tls.conf", Vsftpd, "anonymous-login data-cleartext-allowed tls-legacy-protocol version-disclosed", [2]uint16{50000, 50100}, []uint16{2121}},
		{"testdata/proftpd-bad/proftpd.conf", ProFTPD, "anonymous-login anonymous-write cleartext-login data-cleartext-allowed ftp-bounce no-chroot tls-legacy-protocol tls-weak-cipher version-disclosed", [2]uint16{49152, 65534}, []uint16{21}},
		{"testdata/proftpd-good/proftpd.conf", ProFTPD, "", [2]uint16{50000, 50100}, []uint16{21}},
		{"testdata/proftpd-notls.conf", ProFTPD, "cleartext-login logging-off no-passive-range no-tls version-disclosed", [2]uint16{}, []uint16{21, 2121, 2200}},
		{"testdata/proftpd-default-ident.conf", ProFTPD, "version-disclosed", [2]uint16{50000, 50100}, nil},
		{"testdata/pure-ftpd-bad/conf", PureFTPd, "anonymous-login anonymous-write cleartext-login data-cleartext-allowed ftp-bounce no-chroot no-passive-range tls-weak-cipher", [2]uint16{}, []uint16{2121}},
		{"testdata/pure-ftpd-good.conf", PureFTPd, "", [2]uint16{50000, 50100}, []uint16{21}},
		{"testdata/pure-ftpd-notls.conf", PureFTPd, "cleartext-login logging-off no-tls", [2]uint16{50000, 50100}, []uint16{2100}},
		{"testdata/port21-bad.toml", Port21, "no-login-ban tls-truncation-allowed", [2]uint16{50000, 50010}, []uint16{21, 990}},
		{"testdata/port21-good.toml", Port21, "", [2]uint16{50000, 50100}, []uint16{2121}},
	} {
		r := Audit(Source{Path: tc.path, Product: tc.product})
		if r.Err != nil && tc.product != ProFTPD {
			t.Errorf("%s: %v", tc.path, r.Err)
		}
		if got := strings.Join(ids(r.Findings), " "); got != tc.want {
			t.Errorf("%s: ids\n got %q\nwant %q", tc.path, got, tc.want)
		}
		if r.Ports.Passive != tc.passive {
			t.Errorf("%s: passive %v, want %v", tc.path, r.Ports.Passive, tc.passive)
		}
		if !slices.Equal(r.Ports.Control, tc.control) {
			t.Errorf("%s: listen ports %v, want %v", tc.path, r.Ports.Control, tc.control)
		}
		for _, f := range r.Findings {
			if f.Target.File == "" || f.Fix.Summary == "" || f.Title == "" || f.Basis != "config" {
				t.Errorf("%s: incomplete finding %+v", tc.path, f)
			}
			if f.Target.Line > 0 && len(f.Fix.Config[string(tc.product)]) == 0 {
				t.Errorf("%s: %s has no fix directive", tc.path, f.ID)
			}
		}
	}
}

func TestFindingLines(t *testing.T) {
	r := Audit(Source{Path: "testdata/proftpd-bad/proftpd.conf", Product: ProFTPD})
	want := map[string]string{
		"ftp-bounce":          "testdata/proftpd-bad/proftpd.conf:8",
		"anonymous-write":     "testdata/proftpd-bad/conf.d/anon.conf:4",
		"anonymous-login":     "testdata/proftpd-bad/conf.d/anon.conf:1",
		"tls-legacy-protocol": "testdata/proftpd-bad/conf.d/tls.conf:3",
		"cleartext-login":     "testdata/proftpd-bad/conf.d/tls.conf:2",
	}
	for _, f := range r.Findings {
		if w, ok := want[f.ID]; ok && f.Target.String() != w {
			t.Errorf("%s at %s, want %s", f.ID, f.Target, w)
		}
	}
	if r.Err == nil || !strings.Contains(r.Err.Error(), "includes itself") {
		t.Errorf("self-include not reported: %v", r.Err)
	}
	if len(r.Files) != 3 {
		t.Errorf("files read: %q", r.Files)
	}
	v := Audit(Source{Path: "testdata/vsftpd-bad.conf", Product: Vsftpd})
	for _, f := range v.Findings {
		if f.ID == "ftp-bounce" && (f.Target.Line != 9 || f.Evidence[0].Note != "port_promiscuous=YES" || f.Fix.Config["vsftpd"][0] != "port_promiscuous=NO") {
			t.Errorf("ftp-bounce finding = %+v", f)
		}
	}
}

func TestAuditPort21Broken(t *testing.T) {
	r := Audit(Source{Path: "testdata/port21-broken.toml", Product: Port21})
	if r.Err == nil {
		t.Error("broken TOML audited without error")
	}
}

func TestDiscover(t *testing.T) {
	srcs, errs := Discover("testdata/etc/..", []string{"testdata/pure-ftpd-good.conf", "testdata/nonexistent.conf"})
	var got []string
	for _, s := range srcs {
		got = append(got, string(s.Product)+":"+filepath.ToSlash(s.Path))
	}
	want := []string{
		"vsftpd:testdata/etc/vsftpd.conf",
		"vsftpd:testdata/etc/vsftpd/ftp1.conf",
		"proftpd:testdata/etc/proftpd/proftpd.conf",
		"pure-ftpd:testdata/etc/pure-ftpd/conf",
		"port21:testdata/etc/port21/port21.toml",
		"pure-ftpd:testdata/pure-ftpd-good.conf",
	}
	if !slices.Equal(got, want) {
		t.Errorf("Discover:\n got %q\nwant %q", got, want)
	}
	if len(errs) != 1 {
		t.Errorf("errors: %v", errs)
	}
}

func TestDetectProduct(t *testing.T) {
	dir := t.TempDir()
	for content, want := range map[string]Product{
		"anonymous_enable=NO\n":          Vsftpd,
		"<Anonymous ~ftp>\n</Anonymous>": ProFTPD,
		"ChrootEveryone yes\n":           PureFTPd,
		"passive-ports = \"1-2\"\n":      Port21,
	} {
		p := filepath.Join(dir, "ftp.conf")
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if got, err := DetectProduct(p); got != want {
			t.Errorf("DetectProduct(%q) = %q, %v; want %q", content, got, err, want)
		}
	}
}

func TestWeakCiphers(t *testing.T) {
	for s, want := range map[string]bool{
		"HIGH:!aNULL:!MD5":            false,
		"ECDHE-RSA-AES256-GCM-SHA384": false,
		"DES-CBC3-SHA":                true,
		"RC4-SHA:HIGH":                true,
		"ALL":                         true,
		"HIGH:!3DES:!RC4":             false,
		"aNULL":                       true,
		"EXP-RC4-MD5":                 true,
	} {
		if got := weakCiphers(s); got != want {
			t.Errorf("weakCiphers(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestFromCommandLine(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"vsftpd", []string{"/usr/sbin/vsftpd", "-olisten=YES", "/tmp/v/vsftpd.conf"}, "vsftpd:/tmp/v/vsftpd.conf"},
		{"vsftpd", []string{"/usr/sbin/vsftpd"}, ""},
		{"proftpd", []string{"proftpd", "-n", "-c", "/tmp/p.conf"}, "proftpd:/tmp/p.conf"},
		{"proftpd", []string{"proftpd: (accepting connections)"}, ""},
		{"port21", []string{"port21", "serve", "--config=/etc/port21/a.toml"}, "port21:/etc/port21/a.toml"},
		{"port21", []string{"port21", "serve", "--config", "relative.toml"}, ""},
		{"pure-ftpd", []string{"pure-ftpd", "/etc/pure-ftpd.conf"}, "pure-ftpd:/etc/pure-ftpd.conf"},
		{"bash", []string{"bash", "/x.conf"}, ""},
	} {
		s, ok := FromCommandLine(tc.name, tc.args)
		got := ""
		if ok {
			got = string(s.Product) + ":" + s.Path
		}
		if got != tc.want {
			t.Errorf("FromCommandLine(%q, %q) = %q, want %q", tc.name, tc.args, got, tc.want)
		}
	}
}

func TestNamesVersion(t *testing.T) {
	for s, want := range map[string]bool{
		"ProFTPD 1.3.8 Server ready.": true,
		"vsFTPd 3.0.3 ready.":         true,
		"FTP server v2.1":             true,
		"release 1.3.8rc1":            true,
		"FTP server ready.":           false,
		"Welcome to ftp.example.com":  false,
		"Server at 192.0.2.1":         false,
		"":                            false,
		"3.":                          false,
	} {
		if got := namesVersion(s); got != want {
			t.Errorf("namesVersion(%q) = %v, want %v", s, got, want)
		}
	}
}

// TestAuditPort21PublicHostName checks that a public-host that does not
// resolve here (the file may be another machine's) costs no finding: the
// audit does no DNS lookup.
func TestAuditPort21PublicHostName(t *testing.T) {
	b := []byte("public-host = \"ftp.example.invalid\"\nmax-login-failures = 0\n")
	fs, _, err := AuditPort21("site.toml", b)
	if err != nil {
		t.Fatalf("audit failed on a name that does not resolve: %v", err)
	}
	if len(fs) == 0 || fs[0].ID != IDNoLoginBan {
		t.Errorf("findings %+v, want no-login-ban", fs)
	}
}
