package ftp

import "testing"

func TestParseListLine(t *testing.T) {
	for _, tc := range []struct {
		line       string
		ok         bool
		name, mode string
		dir, ww    bool
	}{
		{"drwxrwxrwx    2 0        0            4096 Nov 24 16:47 upload", true, "upload", "drwxrwxrwx", true, true},
		{"-rw-r--r--    1 0 0 17 Nov 24 16:47 a name with spaces", true, "a name with spaces", "-rw-r--r--", false, false},
		{"lrwxrwxrwx 1 0 0 4 Nov 24 16:47 link -> target", true, "link", "lrwxrwxrwx", false, true},
		{"total 8", false, "", "", false, false},
		{"11-24-26  04:47PM       <DIR>          upload", false, "", "", false, false},
		{"xrwxrwxrwx 2 0 0 4096 Nov 24 16:47 bad", false, "", "", false, false},
		{"", false, "", "", false, false},
	} {
		l, ok := ParseListLine(tc.line)
		if ok != tc.ok || l.Name != tc.name || l.Mode != tc.mode || ok && (l.Dir() != tc.dir || l.WorldWritable() != tc.ww) {
			t.Errorf("ParseListLine(%q) = %+v, %v", tc.line, l, ok)
		}
	}
}

func TestParseMLSxLine(t *testing.T) {
	for _, tc := range []struct {
		line   string
		ok     bool
		name   string
		create bool
	}{
		{"type=dir;perm=flcdmpe;modify=20261124164700; upload", true, "upload", true},
		{"Type=cdir;Perm=el; .", true, ".", false},
		{"type=file;perm=adfrw;size=17; README.txt", true, "README.txt", false},
		{"type=dir;perm=c; a b", true, "a b", true},
		{"type=dir;perm=flcdmpe;upload", false, "", false},
		{"type=dir;=x; n", false, "", false},
	} {
		m, ok := ParseMLSxLine(tc.line)
		if ok != tc.ok || m.Name != tc.name || m.CanCreate() != tc.create {
			t.Errorf("ParseMLSxLine(%q) = %+v, %v (create %v)", tc.line, m, ok, m.CanCreate())
		}
	}
}

func TestParseFeatures(t *testing.T) {
	r := Reply{Code: 211, Lines: []string{"Features:", " MLST type*;size*;", " EPSV", " ", "End"}}
	f := ParseFeatures(r, 10)
	if len(f) != 2 || !HasFeature(f, "MLST") || !HasFeature(f, "epsv") || HasFeature(f, "MLS") {
		t.Errorf("features %q", f)
	}
	if ParseFeatures(Reply{Code: 500, Lines: []string{"no"}}, 10) != nil {
		t.Error("a refusal is not a feature list")
	}
}
