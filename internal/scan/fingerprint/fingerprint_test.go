package fingerprint

import (
	"strings"
	"testing"
)

func TestIdentify(t *testing.T) {
	tests := []struct {
		name    string
		obs     Observation
		product string
		version string
		minConf int
	}{
		{
			name:    "vsftpd stock",
			obs:     Observation{Banner: "(vsFTPd 3.0.3)", Syst: "UNIX Type: L8", Unknown: "Unknown command.", User: "Please specify the password."},
			product: VsFTPd, version: "3.0.3", minConf: 100,
		},
		{
			name:    "vsftpd backdoored",
			obs:     Observation{Banner: "(vsFTPd 2.3.4)"},
			product: VsFTPd, version: "2.3.4", minConf: 100,
		},
		{
			name: "vsftpd with custom banner",
			obs: Observation{Banner: "Welcome to the ACME file service.", Syst: "UNIX Type: L8",
				Help:    "The following commands are recognized.\n ABOR ACCT ALLO APPE CDUP CWD  DELE EPRT EPSV FEAT HELP LIST MDTM MKD\nHelp OK.",
				Unknown: "Unknown command.", User: "Non-anonymous sessions must use encryption."},
			product: VsFTPd, minConf: 60,
		},
		{
			name:    "ProFTPD 1.3.5 Debian",
			obs:     Observation{Banner: "ProFTPD 1.3.5 Server (Debian) [::ffff:192.0.2.7]", Unknown: "XYZZ not understood", User: "Password required for x7f3"},
			product: ProFTPD, version: "1.3.5", minConf: 100,
		},
		{
			name:    "ProFTPD 1.3.3c",
			obs:     Observation{Banner: "ProFTPD 1.3.3c Server (ProFTPD Default Installation) [192.0.2.7]"},
			product: ProFTPD, version: "1.3.3c", minConf: 100,
		},
		{
			name: "ProFTPD without version",
			obs: Observation{Banner: "ProFTPD Server (Debian) [::ffff:127.0.0.1]", Unknown: "XYZZ not understood",
				Feat: "Features:\n LANG en-US*\n MDTM\n MFF modify;UNIX.group;UNIX.mode;\n SIZE\nEnd"},
			product: ProFTPD, minConf: 90,
		},
		{
			name: "ProFTPD hidden behind ServerIdent",
			obs: Observation{Banner: "FTP Server ready.", Unknown: "XYZZ not understood",
				Help: "The following commands are recognized (* =>'s unimplemented):\n CWD     XCWD    CDUP    XCUP\nDirect comments to root@ftp.example.com"},
			product: ProFTPD, minConf: 90,
		},
		{
			name: "Pure-FTPd",
			obs: Observation{Banner: "---------- Welcome to Pure-FTPd [privsep] [TLS] ----------\nYou are user number 1 of 50 allowed.\nLocal time is now 14:03. Server port: 21.\nThis is a private system - No anonymous login\nYou will be disconnected after 15 minutes of inactivity.",
				Feat: "Extensions supported:\n UTF8\n EPRT\n IDLE\n MDTM\n SIZE\n MFMT\n REST STREAM\n MLST type*;size*;sizd*;modify*;UNIX.mode*;UNIX.uid*;UNIX.gid*;unique*;\n MLSD\n PRET\n AUTH TLS\n PBSZ\n PROT\n UTF8\n TVFS\n ESTA\n PASV\n EPSV\n ESTP\nEnd."},
			product: PureFTPd, minConf: 100,
		},
		{
			name:    "Pure-FTPd custom banner",
			obs:     Observation{Banner: "Hello.", User: "User x7f3 OK. Password required", Help: "The following SITE commands are recognized\n ALIAS\n CHMOD\n IDLE\n UTIME\nPure-FTPd - http://pureftpd.org/"},
			product: PureFTPd, minConf: 90,
		},
		{
			name:    "FileZilla 0.9",
			obs:     Observation{Banner: "FileZilla Server version 0.9.41 beta\nwritten by Tim Kosse (tim.kosse@filezilla-project.org)\nPlease visit http://sourceforge.net/projects/filezilla/", Syst: "UNIX emulated by FileZilla"},
			product: FileZilla, version: "0.9.41", minConf: 100,
		},
		{
			name:    "FileZilla 1.x",
			obs:     Observation{Banner: "FileZilla Server 1.8.1\nPlease visit https://filezilla-project.org/"},
			product: FileZilla, version: "1.8.1", minConf: 100,
		},
		{
			name:    "FileZilla hidden",
			obs:     Observation{Banner: "Welcome", Syst: "UNIX emulated by FileZilla"},
			product: FileZilla, minConf: 60,
		},
		{
			name:    "IIS",
			obs:     Observation{Banner: "Microsoft FTP Service", Syst: "Windows_NT", Unknown: "'XYZZ': command not understood"},
			product: MicrosoftFTP, minConf: 100,
		},
		{
			name:    "IIS hidden",
			obs:     Observation{Banner: "Company FTP", Syst: "Windows_NT", Unknown: "'XYZZ': command not understood"},
			product: MicrosoftFTP, minConf: 45,
		},
		{
			name:    "Serv-U",
			obs:     Observation{Banner: "Serv-U FTP Server v15.4 ready..."},
			product: ServU, version: "15.4", minConf: 100,
		},
		{
			name:    "Serv-U old",
			obs:     Observation{Banner: "Serv-U FTP Server v6.4 for WinSock ready..."},
			product: ServU, version: "6.4", minConf: 100,
		},
		{
			name:    "CrushFTP",
			obs:     Observation{Banner: "CrushFTP Server Ready!"},
			product: CrushFTP, minConf: 90,
		},
		{
			name:    "Wing FTP",
			obs:     Observation{Banner: "Wing FTP Server 7.4.3 ready..."},
			product: WingFTP, version: "7.4.3", minConf: 100,
		},
		{
			name:    "Wing FTP unregistered",
			obs:     Observation{Banner: "Wing FTP Server ready... (UNREGISTERED WING FTP SERVER)"},
			product: WingFTP, minConf: 80,
		},
		{
			name:    "wu-ftpd",
			obs:     Observation{Banner: "ftp.example.com FTP server (Version wu-2.6.2(1) Mon Dec 3 13:24:40 UTC 2001) ready."},
			product: WuFTPd, version: "2.6.2", minConf: 100,
		},
		{
			name:    "glFTPd",
			obs:     Observation{Banner: "glFTPd 2.11a (Mar  8 2021) 64BiT Linux+TLS+BSD-Sockets+Threads"},
			product: GlFTPd, version: "2.11a", minConf: 100,
		},
		{
			name:    "port21",
			obs:     Observation{Banner: "port21 ready. TLS is required: AUTH TLS, then log in.", Syst: "UNIX Type: L8"},
			product: Port21, minConf: 90,
		},
		{
			name:    "nothing to go on",
			obs:     Observation{Banner: "FTP server ready", Syst: "UNIX Type: L8"},
			product: Unknown,
		},
		{
			name:    "liar claiming two products",
			obs:     Observation{Banner: "(vsFTPd 2.3.4) ProFTPD"},
			product: VsFTPd, version: "2.3.4", minConf: 100,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Identify(tt.obs)
			if got.Product != tt.product || got.Version != tt.version {
				t.Fatalf("Identify = %q %q (%d, %v), want %q %q", got.Product, got.Version, got.Confidence, got.Clues, tt.product, tt.version)
			}
			if got.Confidence < tt.minConf || got.Confidence > 100 {
				t.Errorf("confidence %d, want >= %d (%v)", got.Confidence, tt.minConf, got.Clues)
			}
			if tt.product == Unknown && got.Confidence != 0 {
				t.Errorf("unknown product with confidence %d", got.Confidence)
			}
		})
	}
}

// TestVersionRange narrows versions the service does not print, from the
// replies of the real peers (recorded from Debian's builds) and nmap -sV's
// rule for vsftpd.
func TestVersionRange(t *testing.T) {
	for _, tc := range []struct {
		name    string
		o       Observation
		product string
		want    string
	}{
		{"Pure-FTPd with PRET and SPSV", Observation{Banner: "Welcome to Pure-FTPd [privsep]", Feat: "Extensions supported:\n PRET\n SPSV\nEnd."}, PureFTPd, "1.0.48 to 1.0.49"},
		{"Pure-FTPd with PRET", Observation{Banner: "Welcome to Pure-FTPd [privsep]", Feat: "Extensions supported:\n MLSD\n PRET\nEnd."}, PureFTPd, "1.0.48 or later"},
		{"vsftpd behind a custom banner", Observation{
			Banner: "FTP server ready.", Syst: "Please login with USER and PASS.", Help: "Please login with USER and PASS.",
			Feat: "Features:\n EPRT\n EPSV\n MDTM\n PASV\n PBSZ\n PROT\n REST STREAM\n SIZE\n TVFS\nEnd",
			User: "Non-anonymous sessions must use encryption."}, VsFTPd, "2.0.8 or later"},
		{"vsftpd with its version", Observation{Banner: "(vsFTPd 3.0.3)", Help: "Please login with USER and PASS."}, VsFTPd, ""},
		{"ProFTPD with TLSRequired behind ServerIdent", Observation{
			Banner: "127.0.0.1 FTP server ready", Syst: "UNIX Type: L8", Help: "SSL/TLS required on the control channel",
			User: "SSL/TLS required on the control channel",
			Feat: "Features:\n AUTH TLS\n CCC\n CLNT\n CSID\n EPRT\n EPSV\n HOST\n LANG C.UTF-8*\n MDTM\n MFF modify;UNIX.group;UNIX.mode;\n MFMT\n PBSZ\n PROT\n RANG STREAM\n REST STREAM\n SIZE\n SSCN\n TVFS\n UTF8\nEnd"},
			ProFTPD, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := Identify(tc.o)
			if r.Product != tc.product || r.VersionRange != tc.want {
				t.Errorf("got %s range %q (confidence %d, clues %q), want %s range %q", r.Product, r.VersionRange, r.Confidence, r.Clues, tc.product, tc.want)
			}
			if r.Confidence < 60 {
				t.Errorf("confidence %d from %q", r.Confidence, r.Clues)
			}
		})
	}
}

func FuzzIdentify(f *testing.F) {
	f.Add("(vsFTPd 3.0.3)", "UNIX Type: L8", "Unknown command.")
	f.Add("ProFTPD 1.3.5 Server", "", " not understood")
	f.Add("Serv-U FTP Server v15.4.2.126 ready", "Windows_NT", "")
	f.Fuzz(func(t *testing.T, banner, syst, unknown string) {
		r := Identify(Observation{Banner: banner, Syst: syst, Unknown: unknown})
		if r.Confidence < 0 || r.Confidence > 100 || (r.Product == "") != (r.Confidence == 0) {
			t.Fatalf("Identify(%q, %q, %q) = %+v", banner, syst, unknown, r)
		}
		if r.Version != "" && !strings.Contains(banner, r.Version) {
			t.Fatalf("version %q not taken from the banner %q", r.Version, banner)
		}
	})
}

// TestBannerTrust checks that a greeting alone is marked as such, and that
// a greeting claiming one product is overruled by replies that match
// another well (a fake banner must not bring the claimed product's CVEs).
func TestBannerTrust(t *testing.T) {
	for _, tc := range []struct {
		name       string
		o          Observation
		product    string
		version    string
		bannerOnly bool
	}{
		{"banner alone", Observation{Banner: "(vsFTPd 2.3.4)"}, VsFTPd, "2.3.4", true},
		{"banner and USER reply", Observation{Banner: "(vsFTPd 2.3.4)", User: "Please specify the password."}, VsFTPd, "2.3.4", false},
		{"fake vsftpd banner on Pure-FTPd", Observation{
			Banner: "(vsFTPd 2.3.4)",
			Help:   "Pure-FTPd - http://pureftpd.org/",
			User:   "User p21x OK. Password required",
		}, PureFTPd, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := Identify(tc.o)
			if r.Product != tc.product || r.Version != tc.version || r.BannerOnly != tc.bannerOnly {
				t.Errorf("got %s %q banner-only=%v (clues %q), want %s %q banner-only=%v",
					r.Product, r.Version, r.BannerOnly, r.Clues, tc.product, tc.version, tc.bannerOnly)
			}
		})
	}
}
