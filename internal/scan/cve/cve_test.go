package cve

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestCompare(t *testing.T) {
	// Each version is less than the next.
	ordered := []string{
		"1.3.2rc3", "1.3.2", "1.3.3", "1.3.3b", "1.3.3c", "1.3.5rc1", "1.3.5rc4", "1.3.5", "1.3.5a", "1.3.5e",
		"1.3.6", "1.3.6b", "1.3.10", "2", "2.0.1", "10.7.1", "11",
	}
	for i := range ordered {
		for j := range ordered {
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			if got := Compare(ordered[i], ordered[j]); got != want {
				t.Errorf("Compare(%q, %q) = %d, want %d", ordered[i], ordered[j], got, want)
			}
		}
	}
	for _, p := range [][2]string{{"1.0", "1.0"}, {"1.0.0", "1.0.0"}, {"v1.2", "1.2"}, {"1.2-RC1", "1.2rc1"}} {
		if c := Compare(p[0], p[1]); c != 0 && !(p[0] == "v1.2") {
			t.Errorf("Compare(%q, %q) = %d, want 0", p[0], p[1], c)
		}
	}
}

func TestEmbeddedDataset(t *testing.T) {
	db, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(db.Entries()) < 10 {
		t.Fatalf("only %d entries", len(db.Entries()))
	}
	for _, e := range db.Entries() {
		for _, s := range append(slices.Clone(e.Sources), e.References...) {
			if !strings.HasPrefix(s, "https://") {
				t.Errorf("%s: source %q is not an https URL", e.ID, s)
			}
		}
	}
}

func TestMatch(t *testing.T) {
	db, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		product, version string
		want             []string
	}{
		{"vsftpd", "2.3.4", []string{"CVE-2011-2523", "CVE-2015-1419"}},
		{"vsftpd", "2.3.2", []string{"CVE-2011-0762", "CVE-2015-1419"}},
		{"vsftpd", "3.0.2", []string{"CVE-2015-1419"}},
		{"vsftpd", "3.0.3", nil},
		{"VSFTPD", "2.3.4", []string{"CVE-2011-2523", "CVE-2015-1419"}},
		{"ProFTPD", "1.3.3c", []string{"CVE-2010-20103", "CVE-2019-12815", "CVE-2019-18217", "CVE-2021-46854", "CVE-2023-51713", "CVE-2024-48651", "CVE-2011-4130"}},
		{"ProFTPD", "1.3.3b", []string{"CVE-2010-4221", "CVE-2019-12815", "CVE-2019-18217", "CVE-2021-46854", "CVE-2023-51713", "CVE-2024-48651", "CVE-2011-4130"}},
		{"ProFTPD", "1.3.3g", []string{"CVE-2019-12815", "CVE-2019-18217", "CVE-2021-46854", "CVE-2023-51713", "CVE-2024-48651"}},
		{"ProFTPD", "1.3.2rc2", []string{"CVE-2019-12815", "CVE-2019-18217", "CVE-2021-46854", "CVE-2023-51713", "CVE-2024-48651", "CVE-2011-4130"}},
		{"ProFTPD", "1.3.5", []string{"CVE-2015-3306", "CVE-2019-12815", "CVE-2019-18217", "CVE-2021-46854", "CVE-2023-51713", "CVE-2024-48651"}},
		{"ProFTPD", "1.3.5a", []string{"CVE-2019-12815", "CVE-2019-18217", "CVE-2021-46854", "CVE-2023-51713", "CVE-2024-48651"}},
		{"ProFTPD", "1.3.5e", []string{"CVE-2019-12815", "CVE-2019-18217", "CVE-2021-46854", "CVE-2023-51713", "CVE-2024-48651"}},
		{"ProFTPD", "1.3.6", []string{"CVE-2019-12815", "CVE-2020-9273", "CVE-2019-18217", "CVE-2021-46854", "CVE-2023-51713", "CVE-2024-48651"}},
		{"ProFTPD", "1.3.6b", []string{"CVE-2020-9273", "CVE-2021-46854", "CVE-2023-51713", "CVE-2024-48651"}},
		{"ProFTPD", "1.3.6c", []string{"CVE-2021-46854", "CVE-2023-51713", "CVE-2024-48651"}},
		{"ProFTPD", "1.3.7rc1", []string{"CVE-2020-9273", "CVE-2019-18217", "CVE-2021-46854", "CVE-2023-51713", "CVE-2024-48651"}},
		{"ProFTPD", "1.3.7rc2", []string{"CVE-2020-9273", "CVE-2021-46854", "CVE-2023-51713", "CVE-2024-48651"}},
		{"ProFTPD", "1.3.7", []string{"CVE-2021-46854", "CVE-2023-51713", "CVE-2024-48651"}},
		{"ProFTPD", "1.3.7c", []string{"CVE-2023-51713", "CVE-2024-48651"}},
		{"ProFTPD", "1.3.8", []string{"CVE-2023-51713", "CVE-2024-48651"}},
		{"ProFTPD", "1.3.8b", []string{"CVE-2024-48651"}},
		{"ProFTPD", "1.3.8c", nil},
		{"ProFTPD", "", nil},
		{"Serv-U", "15.2", []string{"CVE-2021-35211", "CVE-2024-28995"}},
		{"Serv-U", "15.4.2", []string{"CVE-2024-28995"}},
		{"Serv-U", "15.5", nil},
		{"CrushFTP", "10.7.0", []string{"CVE-2024-4040", "CVE-2025-31161"}},
		{"CrushFTP", "11.2.0", []string{"CVE-2025-31161"}},
		{"CrushFTP", "11.3.1", nil},
		{"Wing FTP Server", "7.4.3", []string{"CVE-2025-47812"}},
		{"Wing FTP Server", "7.4.4", nil},
		{"wu-ftpd", "2.6.1", []string{"CVE-2001-0550"}},
		{"wu-ftpd", "2.6.2", nil},
		{"Pure-FTPd", "1.0.29", []string{"CVE-2011-1575", "CVE-2021-40524"}},
		{"Pure-FTPd", "1.0.49", []string{"CVE-2021-40524", "CVE-2019-20176", "CVE-2020-9365"}},
		{"Pure-FTPd", "1.0.50", nil},
		{"port21", "1.0.0", nil},
	}
	for _, tt := range tests {
		var got []string
		for _, e := range db.Match(tt.product, tt.version) {
			got = append(got, e.ID)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("Match(%q, %q) = %v, want %v", tt.product, tt.version, got, tt.want)
		}
	}
	var probes []string
	for _, e := range db.Probes("ProFTPD") {
		probes = append(probes, e.ID)
	}
	if !slices.Equal(probes, []string{"CVE-2015-3306", "CVE-2019-12815"}) {
		t.Errorf("Probes(ProFTPD) = %v", probes)
	}
}

func TestParseRejects(t *testing.T) {
	good := `{"id":"CVE-2020-0001","product":"x","affected":[{"fixed":"2"}],"severity":"high","title":"t","detail":"d","fix":"f","references":["https://a"],"sources":["https://a"]}`
	for name, doc := range map[string]string{
		"unknown key":  `{"entries":[` + strings.Replace(good, `"id"`, `"oops":1,"id"`, 1) + `]}`,
		"bad id":       `{"entries":[` + strings.Replace(good, "CVE-2020-0001", "CVE 1", 1) + `]}`,
		"no sources":   `{"entries":[` + strings.Replace(good, `"sources":["https://a"]`, `"sources":[]`, 1) + `]}`,
		"backwards":    `{"entries":[` + strings.Replace(good, `{"fixed":"2"}`, `{"introduced":"3","fixed":"2"}`, 1) + `]}`,
		"both ends":    `{"entries":[` + strings.Replace(good, `{"fixed":"2"}`, `{"fixed":"2","last_affected":"1"}`, 1) + `]}`,
		"bad severity": `{"entries":[` + strings.Replace(good, `"high"`, `"urgent"`, 1) + `]}`,
		"no ranges":    `{"entries":[` + strings.Replace(good, `[{"fixed":"2"}]`, `[]`, 1) + `]}`,
		"duplicate":    `{"entries":[` + good + "," + good + `]}`,
		"not json":     `{`,
	} {
		if _, err := Parse([]byte(doc)); !errors.Is(err, ErrBadData) {
			t.Errorf("%s: Parse = %v, want ErrBadData", name, err)
		}
	}
	if _, err := Parse([]byte(`{"entries":[` + good + `]}`)); err != nil {
		t.Errorf("good entry: %v", err)
	}
}

func FuzzCompare(f *testing.F) {
	f.Add("1.3.5a", "1.3.5rc4")
	f.Add("10", "9.99")
	f.Fuzz(func(t *testing.T, a, b string) {
		if Compare(a, b) != -Compare(b, a) {
			t.Fatalf("Compare(%q, %q) is not antisymmetric", a, b)
		}
		if Compare(a, a) != 0 {
			t.Fatalf("Compare(%q, itself) != 0", a)
		}
	})
}
