package confaudit

import (
	"os"
	"testing"
)

func seed(f *testing.F, files ...string) {
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

func FuzzAuditVsftpd(f *testing.F) {
	seed(f, "testdata/vsftpd-bad.conf", "testdata/vsftpd-good.conf", "testdata/vsftpd-weak-tls.conf", "testdata/vsftpd-anon-tls.conf")
	f.Fuzz(func(t *testing.T, b []byte) {
		fs, _ := AuditVsftpd("f.conf", b)
		for _, x := range fs {
			if x.ID == "" || x.Title == "" {
				t.Fatalf("finding without id or title: %+v", x)
			}
		}
	})
}

func FuzzParseProFTPD(f *testing.F) {
	seed(f, "testdata/proftpd-bad/proftpd.conf", "testdata/proftpd-bad/conf.d/anon.conf", "testdata/proftpd-good/proftpd.conf", "testdata/proftpd-notls.conf", "testdata/proftpd-default-ident.conf")
	f.Add([]byte("</Anonymous>\n<\n<>\n\"\\\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ds := ParseProFTPD("f.conf", b)
		for _, d := range ds {
			if d.Name == "" || d.Line <= 0 {
				t.Fatalf("bad directive %+v", d)
			}
		}
		AuditProFTPD(&ProFTPDConfig{Directives: ds, Files: []string{"f.conf"}})
	})
}

func FuzzAuditPureFTPdConf(f *testing.F) {
	seed(f, "testdata/pure-ftpd-good.conf", "testdata/pure-ftpd-notls.conf")
	f.Add([]byte("TLS\t1\nPassivePortRange 2:1\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		opts := ParsePureFTPdConf("f.conf", b)
		AuditPureFTPd(&PureFTPdConfig{Options: opts, Path: "f.conf", Files: []string{"f.conf"}})
	})
}

func FuzzAuditPort21(f *testing.F) {
	seed(f, "testdata/port21-bad.toml", "testdata/port21-good.toml", "testdata/port21-broken.toml")
	f.Fuzz(func(t *testing.T, b []byte) {
		fs, _, err := AuditPort21("f.toml", b)
		if err != nil && len(fs) != 0 {
			t.Fatal("findings with an error")
		}
	})
}

func FuzzWeakCiphers(f *testing.F) {
	f.Add("HIGH:!aNULL:!MD5")
	f.Add("DES-CBC3-SHA")
	f.Fuzz(func(t *testing.T, s string) { weakCiphers(s) })
}
