package peers

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/port21/port21/internal/testpeers"
)

// scanCase is what port21 scan must report for one peer: exactly these
// finding ids, without and with --intrusive.
type scanCase struct {
	product testpeers.Product
	profile testpeers.Profile
	// ids are the findings of a default (safe) scan, each caused by the
	// configuration line named in its comment (see the templates in
	// internal/testpeers/testdata).
	ids []string
	// intrusive are the findings --intrusive adds (anonymous-write is
	// already in ids, on the listing; --intrusive confirms it).
	intrusive []string
	// fingerprint is the product the fingerprint must name; version or
	// versionRange what it must say of the version.
	fingerprint           string
	version, versionRange string
	// writable are the anonymous directories the default scan must name as
	// world-writable in the anonymous-login evidence, and where --intrusive
	// must have stored its file.
	writable []string
}

var scanCases = []scanCase{
	{
		product: testpeers.VSFTPD, profile: testpeers.ProfileBad, fingerprint: "vsftpd", version: "3.0.3", writable: []string{"upload/"},
		ids: []string{
			"anonymous-login",   // anonymous_enable=YES
			"anonymous-write",   // basis listing: upload/ is drwxrwxrwx in the anonymous listing
			"cleartext-login",   // local_enable=YES with ssl_enable=NO: USER answered 331 in clear
			"ftp-bounce",        // port_promiscuous=YES
			"no-tls",            // ssl_enable=NO
			"version-disclosed", // no ftpd_banner: "220 (vsFTPd 3.0.3)"
		},
		// --intrusive confirms anonymous-write with an upload
		// (anon_upload_enable=YES, write_enable=YES, upload/ world-writable).
	},
	{
		// ftpd_banner hides the version; "530 Please login with USER and
		// PASS." before login narrows it as nmap -sV does.
		product: testpeers.VSFTPD, profile: testpeers.ProfileHardened, fingerprint: "vsftpd", versionRange: "2.0.8 or later",
		ids: []string{
			"tls-alpaca",         // vsftpd 3.0.3 has no ALPN check, and no setting adds one
			"tls-cert-untrusted", // rsa_cert_file: the per-run self-signed certificate
		},
	},
	{
		product: testpeers.ProFTPD, profile: testpeers.ProfileBad, fingerprint: "proftpd", version: "1.3.8", writable: []string{"upload/"},
		ids: []string{
			// Basis version, from "ProFTPD 1.3.8" in the greeting: Debian's
			// 1.3.8+dfsg packages may carry the fixes (a backport the
			// version cannot show), which is what the basis says.
			"CVE-2023-51713",
			"CVE-2024-48651",
			"anonymous-login",        // <Anonymous> with UserAlias anonymous ftp
			"anonymous-write",        // basis listing: upload/ is drwxrwxrwx in the anonymous listing
			"cleartext-login",        // TLSRequired off
			"data-cleartext-allowed", // TLSRequired off: PROT C accepted
			"ftp-bounce",             // AllowForeignAddress on
			"tls-alpaca",             // mod_tls 2.9.2 goes on when the client offers no "ftp" ALPN
			"tls-cbc-cipher",         // TLSCipherSuite DEFAULT:@SECLEVEL=0 keeps AES-CBC
			"tls-cert-untrusted",     // TLSECCertificateFile: the per-run self-signed certificate
			"tls-legacy-protocol",    // TLSProtocol TLSv1 TLSv1.1 ..., TLSCipherSuite DEFAULT:@SECLEVEL=0
			"version-disclosed",      // ServerIdent on "ProFTPD 1.3.8 Server ready."
		},
		// --intrusive confirms anonymous-write (<Directory upload> <Limit WRITE> AllowAll).
	},
	{
		product: testpeers.ProFTPD, profile: testpeers.ProfileHardened, fingerprint: "proftpd",
		ids: []string{
			"tls-alpaca",         // mod_tls 2.9.2 goes on when the client offers no "ftp" ALPN
			"tls-cert-untrusted", // TLSECCertificateFile: the per-run self-signed certificate
		},
	},
	{
		// Pure-FTPd never prints its version; FEAT lists PRET (1.0.48+).
		product: testpeers.PureFTPd, profile: testpeers.ProfileBad, fingerprint: "pure-ftpd", versionRange: "1.0.48 or later", writable: []string{"upload/"},
		ids: []string{
			"anonymous-login",        // NoAnonymous no, and an ftp account
			"anonymous-write",        // basis listing: upload/ is drwxrwxrwx in the anonymous listing
			"cleartext-login",        // TLS 1 (optional)
			"data-cleartext-allowed", // TLS 1: PROT C accepted
			"ftp-bounce",             // AllowAnonymousFXP yes
			"tls-alpaca",             // Pure-FTPd 1.0.50 has no ALPN check, and no setting adds one
			"tls-cbc-cipher",         // no TLSCipherSuite: OpenSSL's default list keeps AES-CBC
			"tls-cert-untrusted",     // CertFile: the per-run self-signed certificate
		},
		// --intrusive confirms anonymous-write (AnonymousCantUpload no, upload/ world-writable).
	},
	{
		product: testpeers.PureFTPd, profile: testpeers.ProfileHardened, fingerprint: "pure-ftpd", versionRange: "1.0.48 or later",
		ids: []string{
			"tls-alpaca",         // Pure-FTPd 1.0.50 has no ALPN check, and no setting adds one
			"tls-cert-untrusted", // CertFile: the per-run self-signed certificate
		},
	},
}

// scanLimit bounds one port21 scan of one peer.
const scanLimit = 2 * time.Minute

// scanPeer runs port21 scan against the peer and returns its one result.
func scanPeer(t *testing.T, bin string, peer *testpeers.Peer, intrusive bool) jsonResult {
	t.Helper()
	args := []string{"scan", "--format", "json", "--ports", strconv.Itoa(peer.Port), "--timeout", "90s"}
	if intrusive {
		args = append(args, "--intrusive")
	}
	args = append(args, "127.0.0.1")
	rep := runJSON(t, bin, scanLimit, args...)
	if len(rep.Results) != 1 {
		t.Fatalf("port21 %s: %d results, want 1: %+v", strings.Join(args, " "), len(rep.Results), rep.Results)
	}
	res := rep.Results[0]
	if res.Target.Port != peer.Port {
		t.Errorf("result for port %d, want %d", res.Target.Port, peer.Port)
	}
	return res
}

// TestScanPeers scans each peer with port21 scan and checks that the
// findings are exactly those its configuration causes.
func TestScanPeers(t *testing.T) {
	bin := requireSubcommand(t, "scan", "--format", "--ports", "--intrusive")
	for _, tc := range scanCases {
		t.Run(string(tc.product)+"/"+string(tc.profile), func(t *testing.T) {
			// In parallel: most of a scan is waiting (TLS probes, the
			// servers' delays after failed logins).
			t.Parallel()
			peer := testpeers.Start(t, tc.product, tc.profile)
			for _, intrusive := range []bool{false, true} {
				res := scanPeer(t, bin, peer, intrusive)
				want := tc.ids
				if intrusive {
					want = append(slices.Clone(tc.ids), tc.intrusive...)
				}
				checkScan(t, intrusive, res, sorted(want))
				for _, dir := range tc.writable {
					if !intrusive && !evidenceNames(res, dir) {
						t.Errorf("default scan: anonymous-login evidence does not name %s as world-writable: %+v", dir, res.Findings)
					}
					if intrusive && !noteNames(res, "anonymous-write", "stored a file in "+dir) {
						t.Errorf("--intrusive scan: anonymous-write evidence does not name %s: %+v", dir, res.Findings)
					}
					wantBasis := map[bool]string{false: "listing", true: "confirmed"}[intrusive]
					for _, f := range res.Findings {
						if f.ID == "anonymous-write" && f.Basis != wantBasis {
							t.Errorf("intrusive=%v: anonymous-write basis %q, want %q", intrusive, f.Basis, wantBasis)
						}
					}
				}
				if !intrusive && res.Error == "" && (res.Service == nil || !sameProduct(res.Service.Product, tc.fingerprint)) {
					t.Errorf("fingerprint %+v, want product %s", res.Service, tc.fingerprint)
				}
				if !intrusive && res.Service != nil && (res.Service.Version != tc.version || res.Service.VersionRange != tc.versionRange) {
					t.Errorf("version %q, range %q; want %q, range %q", res.Service.Version, res.Service.VersionRange, tc.version, tc.versionRange)
				}
				// Every TLS peer serves the per-run certificate: ECDSA P-256,
				// self-signed with SHA-256, alone.
				if slices.Contains(tc.ids, "tls-cert-untrusted") && res.Service != nil {
					if c := res.Service.Certificate; c == nil || c.KeyType != "ECDSA" || c.KeyBits != 256 || c.SignatureAlgorithm != "ECDSA-SHA256" || c.Chain != 1 {
						t.Errorf("intrusive=%v: service.certificate %+v, want ECDSA 256 bits, ECDSA-SHA256, chain 1", intrusive, c)
					}
				}
			}
		})
	}
}

// checkScan compares a scan's findings with the expected ids: exactly
// those, and no target error.
func checkScan(t *testing.T, intrusive bool, res jsonResult, want []string) {
	t.Helper()
	sameMeaning(t, res)
	got := ids(res)
	mode := "default scan"
	if intrusive {
		mode = "--intrusive scan"
	}
	if res.Error != "" {
		t.Errorf("%s: target error: %s", mode, res.Error)
	}
	if !slices.Equal(got, want) {
		t.Errorf("%s findings:\n got %q\nwant %q", mode, got, want)
	}
}

// noteNames reports whether finding id has evidence whose note contains s.
func noteNames(res jsonResult, id, s string) bool {
	for _, f := range res.Findings {
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

// sameProduct compares product names loosely: "ProFTPD" is "proftpd",
// "Pure-FTPd" is "pure-ftpd", "vsFTPd" is "vsftpd".
func sameProduct(a, b string) bool {
	norm := func(s string) string {
		return strings.Map(func(r rune) rune {
			if r == '-' || r == ' ' || r == '_' {
				return -1
			}
			return r
		}, strings.ToLower(s))
	}
	return norm(a) != "" && norm(a) == norm(b)
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return slices.Compact(s)
}
