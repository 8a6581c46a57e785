package testpeers

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestUpstreamVersion(t *testing.T) {
	for _, tc := range []struct{ debian, want string }{
		{"3.0.3-13+b2", "3.0.3"},
		{"1.3.8+dfsg-4+deb12u5", "1.3.8"},
		{"1.0.50-2.1+b2", "1.0.50"},
		{"1:2.0.1-1", "2.0.1"},
		{"1.3.8~rc1-1", "1.3.8"},
		{"1.2", "1.2"},
	} {
		if got := upstreamVersion(tc.debian); got != tc.want {
			t.Errorf("upstreamVersion(%q) = %q, want %q", tc.debian, got, tc.want)
		}
	}
}

// testData fills every template field, so a template that names a field
// that does not exist fails to render.
func testData() templateData {
	return templateData{
		Port: 2121, PassiveMin: 45000, PassiveMax: 45019,
		Dir: "/run/p", AnonRoot: "/run/p/anon", EmptyDir: "/run/p/empty",
		CertFile: "/run/p/cert.pem", KeyFile: "/run/p/key.pem", CertKeyFile: "/run/p/certkey.pem",
		PIDFile: "/run/p/pid", LogFile: "/run/p/log", XferLog: "/run/p/xfer.log",
		ModulePath: "/opt/proftpd/modules", Version: "9.9.9",
	}
}

func TestTemplatesRender(t *testing.T) {
	for _, p := range Products() {
		for _, prof := range Profiles() {
			t.Run(string(p)+"/"+string(prof), func(t *testing.T) {
				out, err := renderTemplate(p, prof, testData(), nil)
				if err != nil {
					t.Fatal(err)
				}
				if bytes.Contains(out, []byte("<no value>")) {
					t.Errorf("rendered template has an empty field:\n%s", out)
				}
				// Every per-run value reaches the configuration.
				for _, want := range []string{"2121", "45000", "45019"} {
					if !bytes.Contains(out, []byte(want)) {
						t.Errorf("rendered template lacks %s", want)
					}
				}
				if servesTLS(p, prof) != bytes.Contains(out, []byte("/run/p/cert")) {
					t.Errorf("servesTLS = %v, but the template's certificate lines disagree", servesTLS(p, prof))
				}
				if p == PureFTPd {
					settings, err := parsePureSettings(out)
					if err != nil {
						t.Fatal(err)
					}
					if _, err := pureFlags(settings); err != nil {
						t.Fatal(err)
					}
				}
			})
		}
	}
}

func TestRenderUnknownProfile(t *testing.T) {
	if _, err := renderTemplate(VSFTPD, Profile("lenient"), testData(), nil); err == nil {
		t.Error("rendered a profile that has no template")
	}
}

func TestPureFlags(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      string
		want    []string
		wantErr string
	}{
		{
			name: "translated",
			in: "# comment\n\nBind 127.0.0.1,2121\nPassivePortRange 45000 45019\nNoAnonymous yes\n" +
				"AllowAnonymousFXP no\nTLS 2\nCertFile /c.pem\nUnixAuthentication yes\n",
			want: []string{"--bind=127.0.0.1,2121", "--passiveportrange=45000:45019", "--noanonymous",
				"--tls=2", "--certfile=/c.pem", "--login=unix"},
		},
		{name: "unknown setting", in: "MaxLoad 4\n", wantErr: "not known"},
		{name: "bad boolean", in: "NoAnonymous maybe\n", wantErr: "want yes or no"},
		{name: "bad range", in: "PassivePortRange 45000\n", wantErr: "LOW HIGH"},
		{name: "no value", in: "ChrootEveryone\n", wantErr: "has no value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			settings, err := parsePureSettings([]byte(tc.in))
			var got []string
			if err == nil {
				got, err = pureFlags(settings)
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("flags\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestWritePureConfDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "conf")
	if err := writePureConfDir(dir, []pureSetting{{"NoAnonymous", "yes"}, {"TLS", "3"}}); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"NoAnonymous": "yes\n", "TLS": "3\n"} {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || string(got) != want {
			t.Errorf("%s: %q, %v; want %q", name, got, err, want)
		}
	}
}

func TestPrivatePasswd(t *testing.T) {
	out, err := privatePasswd("/run/p/anon", "/run/p/empty", nil)
	if err != nil {
		t.Fatal(err)
	}
	var ftp, pure int
	for line := range strings.Lines(string(out)) {
		f := strings.Split(strings.TrimSuffix(line, "\n"), ":")
		if len(f) != 7 {
			t.Errorf("malformed passwd line %q", line)
			continue
		}
		switch f[0] {
		case "ftp":
			ftp++
			if f[5] != "/run/p/anon" || f[2] == "0" {
				t.Errorf("ftp entry %q", line)
			}
		case "_pure-ftpd":
			pure++
			if f[5] != "/run/p/empty" || f[2] == "0" {
				t.Errorf("_pure-ftpd entry %q", line)
			}
		case "root":
			if f[2] != "0" {
				t.Errorf("root entry changed: %q", line)
			}
		}
	}
	if ftp != 1 || pure != 1 {
		t.Errorf("%d ftp and %d _pure-ftpd entries, want one each", ftp, pure)
	}
}

func TestWriteCert(t *testing.T) {
	dir := t.TempDir()
	files, err := writeCert(dir, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{files.cert, files.key, files.certKey} {
		if fi, err := os.Stat(f); err != nil || fi.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	if fi, err := os.Stat(files.key); err == nil && fi.Mode().Perm()&0o077 != 0 {
		t.Errorf("private key mode %v, want no access for others", fi.Mode().Perm())
	}
}

func TestPassiveSlicesDisjoint(t *testing.T) {
	a, err := allocatePassive()
	if err != nil {
		t.Skipf("no passive slice free here: %v", err)
	}
	defer a.release()
	b, err := allocatePassive()
	if err != nil {
		t.Skipf("no second passive slice free here: %v", err)
	}
	defer b.release()
	for _, s := range []passiveSlice{a, b} {
		if s.min < passiveFirst || s.max > passiveLast || s.max-s.min+1 != passiveSliceSize {
			t.Errorf("slice %d-%d outside %d-%d or not %d ports", s.min, s.max, passiveFirst, passiveLast, passiveSliceSize)
		}
	}
	if a.min == b.min {
		t.Errorf("two holders got the same slice %d-%d", a.min, a.max)
	}
}

func TestAvailableUnknownProduct(t *testing.T) {
	if err := Available(Product("wu-ftpd")); err == nil {
		t.Error("Available accepted an unknown product")
	}
}

func FuzzParsePureSettings(f *testing.F) {
	f.Add([]byte("Bind 127.0.0.1,21\nTLS 1\n"))
	f.Add([]byte("# c\n\nPassivePortRange 1 2\nNoAnonymous yes\n"))
	f.Add([]byte("NoAnonymous\n"))
	f.Add([]byte("PassivePortRange 45000\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		settings, err := parsePureSettings(in)
		if err != nil {
			return
		}
		for _, s := range settings {
			if s.name == "" || s.value == "" || strings.ContainsAny(s.name, " \n") {
				t.Fatalf("bad setting %+v from %q", s, in)
			}
		}
		flags, err := pureFlags(settings)
		if err != nil {
			return
		}
		for _, fl := range flags {
			if !strings.HasPrefix(fl, "--") {
				t.Fatalf("flag %q does not start with --", fl)
			}
		}
	})
}
