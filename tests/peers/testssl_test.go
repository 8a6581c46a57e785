package peers

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/port21/port21/internal/testpeers"
)

// testsslFinding is one entry of testssl.sh's flat JSON output (--jsonfile).
type testsslFinding struct {
	ID       string `json:"id"`
	Severity string `json:"severity"`
	Finding  string `json:"finding"`
}

// testsslFindings maps a testssl.sh check id to the port21 finding that
// reports the same problem. Every testssl.sh entry at LOW severity or above
// must be in this table (so a check testssl.sh adds, or one port21 has no
// answer to, fails the test instead of passing unseen), and port21 scan
// --tls-ciphers must report the finding it maps to. An empty id means the
// entry is not a problem of the FTP service: the reason is beside it.
var testsslFindings = map[string]string{
	"SSLv2":          "tls-legacy-protocol",
	"SSLv3":          "tls-legacy-protocol",
	"TLS1":           "tls-legacy-protocol",
	"TLS1_1":         "tls-legacy-protocol",
	"TLS1_3":         "", // "not offered" is LOW in testssl.sh 3.0; port21 does not count a missing TLS 1.3 as a finding
	"BEAST":          "tls-legacy-protocol",
	"BEAST_CBC_TLS1": "tls-legacy-protocol",
	"LUCKY13":        "tls-cbc-cipher",
	"SWEET32":        "tls-weak-cipher",
	"RC4":            "tls-weak-cipher",

	"cipherlist_NULL":        "tls-weak-cipher",
	"cipherlist_aNULL":       "tls-weak-cipher",
	"cipherlist_EXPORT":      "tls-weak-cipher",
	"cipherlist_LOW":         "tls-weak-cipher",
	"cipherlist_3DES_IDEA":   "tls-weak-cipher",
	"cipherlist_AVERAGE":     "tls-cbc-cipher",
	"cipherlist_OBSOLETED":   "tls-weak-cipher",
	"cipherlist_STRONG_NOFS": "tls-no-forward-secrecy",
	"FS":                     "tls-no-forward-secrecy",

	"cert_keySize":                "tls-weak-key",
	"cert_signatureAlgorithm":     "tls-cert-weak-signature",
	"cert_expirationStatus":       "tls-cert-expiring",
	"cert_notAfter":               "tls-cert-expiring",
	"cert_chain_of_trust":         "tls-cert-untrusted",
	"cert_trust":                  "tls-cert-untrusted",
	"cert_commonName":             "tls-cert-untrusted",
	"cert_subjectAltName":         "tls-cert-untrusted",
	"cert_caIssuers":              "tls-cert-untrusted",
	"cert_validityPeriod":         "", // "> 825 days" matters to browsers' CA rules, not to an FTP client pinning a certificate
	"cert_crlDistributionPoints":  "", // a self-signed certificate has none; tls-cert-untrusted covers it
	"cert_ocspURL":                "", // as above
	"OCSP_stapling":               "", // FTP clients do not ask for stapled OCSP
	"DNS_CAArecord":               "", // a DNS matter, and the test runs with --nodns none
	"cert_extlifeSpan":            "", // as cert_validityPeriod
	"cert_revocation":             "", // as cert_crlDistributionPoints
	"cert_mustStapleExtension":    "",
	"cert_certificatePolicies_EV": "",
	"engine_problem":              "", // testssl.sh's own OpenSSL lacks a protocol; it says so
	"scanProblem":                 "",
}

// testsslSeverities are the severities that mean a problem in testssl.sh's
// output; OK, INFO and WARN (testssl.sh's own trouble) do not.
var testsslSeverities = []string{"LOW", "MEDIUM", "HIGH", "CRITICAL"}

// TestTestsslParity runs testssl.sh (the Debian package) against every peer
// that offers TLS and checks that port21 scan --tls-ciphers reports every
// problem testssl.sh reports.
func TestTestsslParity(t *testing.T) {
	testssl, err := exec.LookPath("testssl")
	if err != nil {
		if os.Getenv("PORT21_REQUIRE_CLIENTS") == "1" {
			t.Fatal("testssl not installed (Debian package testssl.sh); PORT21_REQUIRE_CLIENTS=1")
		}
		t.Skip("testssl not installed (Debian package testssl.sh)")
	}
	bin := requireSubcommand(t, "scan", "--format", "--ports", "--tls-ciphers")
	for _, tc := range scanCases {
		if !testpeers.ServesTLS(tc.product, tc.profile) {
			continue
		}
		t.Run(string(tc.product)+"/"+string(tc.profile), func(t *testing.T) {
			t.Parallel()
			peer := testpeers.Start(t, tc.product, tc.profile)
			entries, ok := runTestssl(t, testssl, peer)
			rep := runJSON(t, bin, scanLimit, "scan", "--format", "json", "--tls-ciphers",
				"--ports", strconv.Itoa(peer.Port), "--timeout", "90s", "127.0.0.1")
			if len(rep.Results) != 1 {
				t.Fatalf("port21 scan: %d results, want 1", len(rep.Results))
			}
			if !ok {
				// testssl.sh 3.0 cannot complete a handshake with vsftpd
				// 3.0.3 restricted to ECDHE+AESGCM over STARTTLS; its other
				// entries then describe its own failure, not the server.
				if rep.Results[0].Status != "success" {
					t.Errorf("testssl could not test the server, and port21 scan's status is %q", rep.Results[0].Status)
				}
				t.Skip("testssl.sh could not retrieve the server's certificate; nothing to compare")
			}
			got := ids(rep.Results[0])
			for _, e := range entries {
				if !slices.Contains(testsslSeverities, e.Severity) {
					continue
				}
				t.Logf("testssl %s %s: %s", e.ID, e.Severity, e.Finding)
				id, known := testsslFindings[e.ID]
				switch {
				case !known:
					t.Errorf("testssl reports %s (%s: %s), which the test does not map to a port21 finding", e.ID, e.Severity, e.Finding)
				case id != "" && !slices.Contains(got, id):
					t.Errorf("testssl reports %s (%s: %s) but port21 scan has no %s finding (it has %q)", e.ID, e.Severity, e.Finding, id, got)
				}
			}
		})
	}
}

// runTestssl runs testssl.sh's protocol, cipher category, server default
// and forward secrecy checks over STARTTLS FTP and returns its findings (not
// -U: its vulnerability checks take minutes per server, and what they find
// on these peers, LUCKY13, SWEET32 and BEAST, the cipher categories and
// protocols already show: cipherlist_AVERAGE, cipherlist_3DES_IDEA, TLS1);
// ok is false when testssl.sh says it could not handshake at all.
// --nodns none: nothing is looked up; the target is a loopback address.
func runTestssl(t *testing.T, testssl string, peer *testpeers.Peer) (entries []testsslFinding, ok bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 6*time.Minute)
	defer cancel()
	out := filepath.Join(t.TempDir(), "testssl.json")
	args := []string{
		"--quiet", "--color", "0", "--warnings", "off", "--nodns", "none",
		"--connect-timeout", "10", "--openssl-timeout", "10",
		"--starttls", "ftp", "-p", "-s", "-S", "-f",
		"--jsonfile", out, peer.Addr,
	}
	cmd := exec.CommandContext(ctx, testssl, args...)
	var stdout bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stdout
	err := cmd.Run()
	data, rerr := os.ReadFile(out)
	if rerr != nil {
		t.Fatalf("testssl %s: %v (no JSON: %v)\n%s", strings.Join(args, " "), err, rerr, stdout.Bytes())
	}
	if err := json.Unmarshal(data, &entries); err != nil {
		t.Fatalf("testssl JSON: %v\n%s", err, data)
	}
	if len(entries) == 0 {
		t.Fatalf("testssl wrote no findings\n%s", stdout.Bytes())
	}
	// testssl.sh 3.0 spells it "cerificate".
	for _, failed := range []string{"No server cerificate could be retrieved", "No server certificate could be retrieved"} {
		if bytes.Contains(stdout.Bytes(), []byte(failed)) {
			t.Logf("testssl: %s\n%s", failed, stdout.Bytes())
			return entries, false
		}
	}
	return entries, true
}
