package scan

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/port21/port21/internal/finding"
)

func TestParseListLine(t *testing.T) {
	tests := []struct {
		line       string
		ok         bool
		name, mode string
		dir, ww    bool
	}{
		{line: "drwxrwxrwx    2 0        0            4096 Nov 24 16:47 upload", ok: true, name: "upload", mode: "drwxrwxrwx", dir: true, ww: true},
		{line: "drwxr-xr-x   2 root     root         4096 Nov 24 16:47 pub\r\n", ok: true, name: "pub", mode: "drwxr-xr-x", dir: true},
		{line: "-rw-r--r--   1 ftp      ftp            17 Jan  1  2020 read me.txt", ok: true, name: "read me.txt", mode: "-rw-r--r--"},
		{line: "drwxrwxrwt   2 0 0 4096 Nov 24 16:47 tmp", ok: true, name: "tmp", mode: "drwxrwxrwt", dir: true, ww: true},
		{line: "lrwxrwxrwx   1 0 0 4 Nov 24 16:47 up -> upload", ok: true, name: "up", mode: "lrwxrwxrwx", ww: true},
		{line: "drwxrwxrwx+  2 0 0 4096 Nov 24 16:47 acl", ok: true, name: "acl", mode: "drwxrwxrwx", dir: true, ww: true},
		{line: "total 8"},
		{line: "11-24-26  04:47PM       <DIR>          upload"},
		{line: ""},
		{line: "drwxrwxrwx 2 0 0 4096 Nov 24 16:47"},
		{line: "drwxrwxrwx 2 0 0 4096 Nov 24 16:47 ."},
		{line: "drwxrwxrwx 2 0 0 4096 Nov 24 16:47 .."},
		{line: "drwxrwxrwx 2 0 0 4096 Nov 24 16:47 a/b"},
		{line: "drwxrwxrwx 2 0 0 4096 Nov 24 16:47 x\rDELE y"},
		{line: "drwxrwxrwx 2 0 0 4096 Nov 24 16:47 x\x00"},
		{line: "dr?xrwxrwx 2 0 0 4096 Nov 24 16:47 x"},
		{line: "zrwxrwxrwx 2 0 0 4096 Nov 24 16:47 x"},
		{line: "drwxrwxrwx 2 0 0 4096 Nov 24 16:47 " + strings.Repeat("x", 256)},
	}
	for _, tt := range tests {
		e, ok := parseListLine(tt.line)
		if ok != tt.ok || e.name != tt.name || e.mode != tt.mode || e.dir() != tt.dir || e.worldWritable() != tt.ww {
			t.Errorf("parseListLine(%q) = %+v, %v (dir %v, world-writable %v); want %q %q %v (dir %v, world-writable %v)",
				tt.line, e, ok, e.dir(), e.worldWritable(), tt.name, tt.mode, tt.ok, tt.dir, tt.ww)
		}
	}
}

func TestWriteCandidates(t *testing.T) {
	entry := func(mode, name string) dirEntry { return dirEntry{mode: mode, name: name} }
	tests := []struct {
		name    string
		entries []dirEntry
		want    []string
	}{
		{"none", nil, nil},
		{"files only", []dirEntry{entry("-rw-rw-rw-", "upload")}, nil},
		{"world-writable first", []dirEntry{
			entry("drwxr-xr-x", "docs"), entry("drwxr-xr-x", "incoming"), entry("drwxrwxrwx", "drop"),
		}, []string{"drop", "incoming", "docs"}},
		{"pub/incoming", []dirEntry{entry("drwxr-xr-x", "pub"), entry("drwxr-xr-x", "a")}, []string{"pub/incoming", "pub", "a"}},
		{"at most maxWriteDirs", []dirEntry{
			entry("drwxr-xr-x", "a"), entry("drwxr-xr-x", "b"), entry("drwxr-xr-x", "c"), entry("drwxrwxrwx", "upload"),
		}, []string{"upload", "a", "b"}},
	}
	for _, tt := range tests {
		if got := writeCandidates(tt.entries); !slices.Equal(got, tt.want) {
			t.Errorf("%s: writeCandidates = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestCredCandidates(t *testing.T) {
	for _, anonymous := range []bool{false, true} {
		got := credCandidates(anonymous)
		hasFTP := slices.ContainsFunc(got, func(c [2]string) bool { return c[0] == "ftp" || c[0] == "anonymous" })
		if hasFTP == anonymous {
			t.Errorf("anonymous %v: candidates %q", anonymous, got)
		}
	}
}

// anonList is a listing with a read-only root and a world-writable upload/,
// as vsftpd, ProFTPD and Pure-FTPd are set up for anonymous uploads.
const anonList = "-rw-r--r--    1 0        0              17 Nov 24 16:47 README.txt\r\n" +
	"drwxr-xr-x    2 0        0            4096 Nov 24 16:47 pub\r\n" +
	"drwxrwxrwx    2 0        0            4096 Nov 24 16:47 upload\r\n"

// anonPlain is a plain anonymous server with a data channel.
var anonPlain = with(vsftpdPlain,
	"PASS", "230 Login successful.\r\n",
	"PORT", "500 Illegal PORT command.\r\n",
	"PASV", "227 Entering Passive Mode (127,0,0,1,195,80).\r\n",
	"EPSV", "data", "LIST", "data", "STOR", "data", "DELE", "250 Delete operation successful.\r\n")

func TestAnonymousWritableDirectories(t *testing.T) {
	tests := []struct {
		name      string
		fake      *fake
		intrusive bool
		want      []string
		check     func(t *testing.T, f *fake, r Result)
	}{
		{
			name: "default scan names the world-writable directory and writes nothing",
			fake: &fake{banner: "220 FTP server ready.\r\n", replies: anonPlain, listing: anonList, storDirs: []string{"upload"}},
			// anonymous-write on the listing's mode bits, as nmap's
			// ftp-anon reports it, with basis listing.
			want: []string{finding.IDAnonymousLogin, finding.IDAnonymousWrite, finding.IDCleartextLogin, finding.IDNoTLS},
			check: func(t *testing.T, f *fake, r Result) {
				for _, c := range f.commands() {
					if strings.HasPrefix(c, "STOR") || strings.HasPrefix(c, "DELE") {
						t.Errorf("default scan sent %q", c)
					}
				}
				if !hasNote(r, finding.IDAnonymousLogin, "upload/") || hasNote(r, finding.IDAnonymousLogin, "pub/") {
					t.Errorf("anonymous-login evidence does not name exactly upload/: %+v", r.Findings)
				}
				for _, f := range r.Findings {
					if f.ID == finding.IDAnonymousWrite && f.Basis != basisListing {
						t.Errorf("anonymous-write basis %q without --intrusive, want %q", f.Basis, basisListing)
					}
				}
			},
		},
		{
			name: "default scan reads MLSD perm facts",
			fake: &fake{banner: "220 FTP server ready.\r\n", replies: with(anonPlain,
				"FEAT", "211-Features:\r\n EPSV\r\n MLST type*;size*;modify*;perm*;\r\n211 End\r\n",
				"MLSD", "data"),
				listing: "drwxr-xr-x    2 0        0            4096 Nov 24 16:47 incoming\r\n",
				mlsd:    "type=cdir;perm=el; .\r\ntype=dir;perm=flcdmpe; incoming\r\ntype=file;perm=r; README.txt\r\n"},
			want: []string{finding.IDAnonymousLogin, finding.IDAnonymousWrite, finding.IDCleartextLogin, finding.IDNoTLS},
			check: func(t *testing.T, f *fake, r Result) {
				if !hasNote(r, finding.IDAnonymousWrite, "MLSD perm facts") || !hasNote(r, finding.IDAnonymousWrite, "incoming") {
					t.Errorf("anonymous-write evidence does not name incoming from MLSD: %+v", r.Findings)
				}
			},
		},
		{
			name:      "intrusive scan writes in upload/ after the login directory refuses",
			fake:      &fake{banner: "220 FTP server ready.\r\n", replies: anonPlain, listing: anonList, storDirs: []string{"upload"}},
			intrusive: true,
			// PASS is always accepted here, so admin/admin is too.
			want: []string{finding.IDAnonymousLogin, finding.IDAnonymousWrite, finding.IDCleartextLogin, IDDefaultCreds, finding.IDNoTLS},
			check: func(t *testing.T, f *fake, r Result) {
				var stors, deles []string
				for _, c := range f.commands() {
					if s, ok := strings.CutPrefix(c, "STOR "); ok {
						stors = append(stors, s)
					}
					if s, ok := strings.CutPrefix(c, "DELE "); ok {
						deles = append(deles, s)
					}
				}
				if len(stors) != 2 || strings.Contains(stors[0], "/") || !strings.HasPrefix(stors[1], "upload/port21-scan-") ||
					!slices.Equal(deles, stors[1:]) {
					t.Errorf("STOR %q, DELE %q; want the login directory, then upload/, deleted", stors, deles)
				}
				if !hasNote(r, finding.IDAnonymousWrite, "upload/") {
					t.Errorf("anonymous-write evidence does not name upload/: %+v", r.Findings)
				}
			},
		},
		{
			name:      "intrusive scan tries at most a few directories",
			fake:      &fake{banner: "220 FTP server ready.\r\n", replies: anonPlain, listing: anonList + strings.Repeat("drwxr-xr-x 2 0 0 4096 Nov 24 16:47 d\r\n", 50), storDirs: []string{}},
			intrusive: true,
			want:      []string{finding.IDAnonymousLogin, finding.IDCleartextLogin, IDDefaultCreds, finding.IDNoTLS},
			check: func(t *testing.T, f *fake, r Result) {
				n := 0
				for _, c := range f.commands() {
					if strings.HasPrefix(c, "STOR ") {
						n++
					}
				}
				if n != 1+maxWriteDirs {
					t.Errorf("%d STOR commands, want %d", n, 1+maxWriteDirs)
				}
			},
		},
		{
			name: "an unreachable passive port stops the data checks after one try",
			fake: &fake{banner: "220 FTP server ready.\r\n", replies: with(anonPlain,
				"EPSV", "229 Entering Extended Passive Mode (|||1|)\r\n")},
			intrusive: true,
			want:      []string{finding.IDAnonymousLogin, finding.IDCleartextLogin, IDDefaultCreds, finding.IDNoTLS},
			check: func(t *testing.T, f *fake, r Result) {
				n := 0
				for _, c := range f.commands() {
					if c == "EPSV" || strings.HasPrefix(c, "LIST") || strings.HasPrefix(c, "STOR") {
						n++
					}
				}
				if n != 1 {
					t.Errorf("%d EPSV/LIST/STOR commands, want one EPSV: %q", n, f.commands())
				}
			},
		},
		{
			name: "ftp/ftp is the anonymous login, not a default password",
			fake: &fake{banner: "220 FTP server ready.\r\n", replies: with(vsftpdPlain,
				"PASS "+anonPassword, "230 Login successful.\r\n",
				"PASS ftp", "230 Login successful.\r\n",
				"PORT", "500 Illegal PORT command.\r\n")},
			intrusive: true,
			want:      []string{finding.IDAnonymousLogin, finding.IDCleartextLogin, finding.IDNoTLS},
		},
		{
			name: "ftp/ftp without anonymous access is a default password",
			fake: &fake{banner: "220 FTP server ready.\r\n", replies: with(vsftpdPlain,
				"USER anonymous", "530 This FTP server does not allow anonymous logins.\r\n",
				"PASS ftp", "230 Login successful.\r\n")},
			intrusive: true,
			want:      []string{finding.IDCleartextLogin, IDDefaultCreds, finding.IDNoTLS},
			check: func(t *testing.T, f *fake, r Result) {
				if !slices.Contains(f.commands(), "USER ftp") {
					t.Errorf("USER ftp not tried: %q", f.commands())
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ap := startFake(t, tt.fake)
			s := newTestScanner(t, func(o *Options) { o.Intrusive = tt.intrusive; o.Timeout = 10 * time.Second })
			r := auditOne(t, s, ap)
			if r.Error != "" {
				t.Fatalf("audit error: %v", r.Error)
			}
			if got := ids(r); !slices.Equal(got, tt.want) {
				t.Errorf("findings %v, want %v", got, tt.want)
			}
			if tt.check != nil {
				tt.check(t, tt.fake, r)
			}
		})
	}
}

// hasNote reports whether finding id has evidence whose note contains s.
func hasNote(r Result, id, s string) bool {
	for _, f := range r.Findings {
		if f.ID != id {
			continue
		}
		for _, e := range f.Evidence {
			if strings.Contains(e.Note, s) {
				return true
			}
		}
	}
	return false
}
