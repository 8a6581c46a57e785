package peers

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/port21/port21/internal/finding"
	"github.com/port21/port21/internal/testpeers"
)

// TestScanVsftpdForceAnonSSL scans a real vsftpd that refuses anonymous
// logins in clear text and hangs up after saying so
// (force_anon_logins_ssl=YES, part of port21's own cleartext-login fix). The
// audit must go on past the hang-up: status success, the product, and the
// TLS findings, with the anonymous login tried again over TLS.
func TestScanVsftpdForceAnonSSL(t *testing.T) {
	bin := requireSubcommand(t, "scan", "--format", "--ports")
	peer := testpeers.StartWith(t, testpeers.VSFTPD, testpeers.ProfileHardened,
		"anonymous_enable=YES", "no_anon_password=YES", "ftp_username=ftp", "anon_root={{.AnonRoot}}",
		"allow_anon_ssl=YES", "force_anon_logins_ssl=YES", "force_anon_data_ssl=YES")
	res := scanPeer(t, bin, peer, false)
	if res.Status != string(finding.StatusSuccess) || res.Error != "" {
		t.Errorf("status %q, error %q: the hang-up after the anonymous refusal ended the audit", res.Status, res.Error)
	}
	if res.Service == nil || !sameProduct(res.Service.Product, "vsftpd") {
		t.Errorf("service %+v, want vsftpd", res.Service)
	}
	got := ids(res)
	for _, want := range []string{finding.IDAnonymousLogin, finding.IDTLSCertUntrusted, finding.IDALPACA} {
		if !slices.Contains(got, want) {
			t.Errorf("findings %q lack %s", got, want)
		}
	}
	if slices.Contains(got, finding.IDCleartextLogin) {
		t.Errorf("findings %q: cleartext-login on a server that forces TLS for every login", got)
	}
}

// TestFixLinesRemoveFindings applies the catalog's own fix lines for
// findings of the bad profiles to those peers and scans again: each finding
// must be gone. anonymous-write is rescanned with --intrusive: the fix
// denies uploads, while the directory stays world-writable on disk, so only
// a refused upload shows the fix (and overrules the listing). This is what
// keeps a fix from being wrong. Pure-FTPd's lines are Debian's (echo VALUE >
// /etc/pure-ftpd/conf/NAME), applied as the NAME VALUE setting they write.
// The placeholder certificate paths of vsftpd's TLS lines become the
// per-run certificate's; a fix that needs another first (vsftpd's
// cleartext-login needs TLS on) names it in after, applied before it.
func TestFixLinesRemoveFindings(t *testing.T) {
	bin := requireSubcommand(t, "scan", "--format", "--ports")
	for _, tc := range []struct {
		product testpeers.Product
		key     string
		id      string
		after   string
	}{
		{testpeers.VSFTPD, finding.ProductVsftpd, finding.IDNoTLS, ""},
		{testpeers.VSFTPD, finding.ProductVsftpd, finding.IDCleartextLogin, finding.IDNoTLS},
		{testpeers.VSFTPD, finding.ProductVsftpd, finding.IDFTPBounce, ""},
		{testpeers.VSFTPD, finding.ProductVsftpd, finding.IDVersionDisclosed, ""},
		{testpeers.VSFTPD, finding.ProductVsftpd, finding.IDAnonymousLogin, ""},
		{testpeers.PureFTPd, finding.ProductPureFTPd, finding.IDAnonymousLogin, ""},
		{testpeers.PureFTPd, finding.ProductPureFTPd, finding.IDCleartextLogin, ""},
		{testpeers.PureFTPd, finding.ProductPureFTPd, finding.IDDataCleartext, ""},
		{testpeers.ProFTPD, finding.ProductProFTPD, finding.IDTLSLegacyProtocol, ""},
		{testpeers.ProFTPD, finding.ProductProFTPD, finding.IDFTPBounce, ""},
		{testpeers.ProFTPD, finding.ProductProFTPD, finding.IDTLSCBCCipher, ""},
		{testpeers.PureFTPd, finding.ProductPureFTPd, finding.IDTLSCBCCipher, ""},
		{testpeers.VSFTPD, finding.ProductVsftpd, finding.IDAnonymousWrite, ""},
		{testpeers.ProFTPD, finding.ProductProFTPD, finding.IDCleartextLogin, ""},
		{testpeers.ProFTPD, finding.ProductProFTPD, finding.IDDataCleartext, ""},
		{testpeers.ProFTPD, finding.ProductProFTPD, finding.IDVersionDisclosed, ""},
		{testpeers.PureFTPd, finding.ProductPureFTPd, finding.IDAnonymousWrite, ""},
		{testpeers.PureFTPd, finding.ProductPureFTPd, finding.IDFTPBounce, ""},
		{testpeers.ProFTPD, finding.ProductProFTPD, finding.IDAnonymousLogin, ""},
		{testpeers.ProFTPD, finding.ProductProFTPD, finding.IDAnonymousWrite, ""},
	} {
		t.Run(string(tc.product)+"/"+tc.id, func(t *testing.T) {
			t.Parallel()
			var lines []string
			var fix []string
			if tc.after != "" {
				fix = append(fix, finding.ConfigFor(tc.after, tc.key)[tc.key]...)
			}
			fix = append(fix, finding.ConfigFor(tc.id, tc.key)[tc.key]...)
			for _, l := range fix {
				l = strings.NewReplacer("/etc/ssl/certs/ftp.pem", "{{.CertFile}}", "/etc/ssl/private/ftp.key", "{{.KeyFile}}").Replace(l)
				if tc.product == testpeers.PureFTPd {
					if l = pureSetting(l); l == "" {
						continue
					}
				}
				lines = append(lines, l)
			}
			if len(lines) == 0 {
				t.Fatalf("no %s fix for %s", tc.key, tc.id)
			}
			opts := testpeers.Options{Extra: lines}
			if tc.product == testpeers.ProFTPD {
				opts = proftpdEdit(lines)
			}
			before := testpeers.Start(t, tc.product, testpeers.ProfileBad)
			if !slices.Contains(ids(scanPeer(t, bin, before, tc.id == finding.IDAnonymousWrite)), tc.id) {
				t.Fatalf("the bad profile does not show %s to begin with", tc.id)
			}
			after := testpeers.StartOpts(t, tc.product, testpeers.ProfileBad, opts)
			res := scanPeer(t, bin, after, tc.id == finding.IDAnonymousWrite)
			if slices.Contains(ids(res), tc.id) {
				t.Errorf("after %q on port %s, %s is still reported: %q", lines, strconv.Itoa(after.Port), tc.id, ids(res))
			}
		})
	}
}

// proftpdEdit applies ProFTPD fix lines as an administrator would. Most
// are directives to add; the <Anonymous> fixes are edits of that section,
// which their comment line spells out: remove the section, or remove its
// AllowAll limits and put the lines that follow into it.
func proftpdEdit(lines []string) testpeers.Options {
	var comment string
	var directives []string
	for _, l := range lines {
		if strings.HasPrefix(l, "#") {
			comment += l
		} else {
			directives = append(directives, l)
		}
	}
	switch {
	case strings.Contains(comment, "remove or comment out the <Anonymous"):
		return testpeers.Options{Edit: func(src string) string {
			return dropBlocks(src, "anonymous", func(string) bool { return true })
		}, Extra: directives}
	case strings.HasPrefix(comment, "# in the <Anonymous> section: remove every <Limit> that says AllowAll"):
		return testpeers.Options{Edit: func(src string) string {
			src = dropBlocks(src, "limit", func(b string) bool { return strings.Contains(b, "AllowAll") })
			var out strings.Builder
			for line := range strings.Lines(src) {
				out.WriteString(line)
				if strings.HasPrefix(strings.TrimSpace(line), "<Anonymous ") {
					out.WriteString(strings.Join(directives, "\n") + "\n")
				}
			}
			return out.String()
		}}
	}
	return testpeers.Options{Extra: lines}
}

// dropBlocks removes from a ProFTPD configuration each <tag ...> ...
// </tag> block (nested ones counted) for which drop is true.
func dropBlocks(src, tag string, drop func(block string) bool) string {
	var out, block strings.Builder
	depth := 0
	for line := range strings.Lines(src) {
		t := strings.ToLower(strings.TrimSpace(line))
		opens, closes := strings.HasPrefix(t, "<"+tag), strings.HasPrefix(t, "</"+tag+">")
		switch {
		case depth == 0 && !opens:
			out.WriteString(line)
			continue
		case opens:
			depth++
		case closes:
			depth--
		}
		block.WriteString(line)
		if depth == 0 {
			if !drop(block.String()) {
				out.WriteString(block.String())
			}
			block.Reset()
		}
	}
	return out.String() + block.String()
}

// pureSetting turns Debian's "echo 'VALUE' > /etc/pure-ftpd/conf/NAME"
// into the "NAME VALUE" line testpeers writes to that directory; "" for a
// comment.
func pureSetting(line string) string {
	cmd, file, ok := strings.Cut(line, " > /etc/pure-ftpd/conf/")
	if !ok || !strings.HasPrefix(cmd, "echo '") {
		return ""
	}
	return file + " " + strings.TrimSuffix(strings.TrimPrefix(cmd, "echo '"), "'")
}

// TestScanTLSCiphers enumerates the suites of the ProFTPD peer whose
// OpenSSL security level is lowered in its own configuration
// (TLSCipherSuite DEFAULT:@SECLEVEL=0:!EXPORT), so legacy suites are really
// offered, and checks the lists are there and plausible.
func TestScanTLSCiphers(t *testing.T) {
	bin := requireSubcommand(t, "scan", "--format", "--ports", "--tls-ciphers")
	peer := testpeers.Start(t, testpeers.ProFTPD, testpeers.ProfileBad)
	rep := runJSON(t, bin, scanLimit, "scan", "--format", "json", "--ports", strconv.Itoa(peer.Port), "--timeout", "90s", "--tls-ciphers", "127.0.0.1")
	if len(rep.Results) != 1 {
		t.Fatalf("%d results", len(rep.Results))
	}
	res := rep.Results[0]
	if res.Status != "success" || res.Service == nil {
		t.Fatalf("status %q, service %+v, error %q", res.Status, res.Service, res.Error)
	}
	suites := res.Service.TLSSuites
	t.Logf("accepted suites: %q", suites)
	for _, v := range []string{"TLS 1.0", "TLS 1.2"} {
		if len(suites[v]) == 0 {
			t.Errorf("no %s suites listed: %q", v, suites)
		}
	}
	if !slices.ContainsFunc(suites["TLS 1.2"], func(s string) bool { return strings.Contains(s, "GCM") }) {
		t.Errorf("TLS 1.2 list lacks an AES-GCM suite: %q", suites["TLS 1.2"])
	}
	if slices.ContainsFunc(suites["TLS 1.0"], func(s string) bool { return strings.Contains(s, "GCM") }) {
		t.Errorf("TLS 1.0 list has a GCM suite, which TLS 1.0 cannot negotiate: %q", suites["TLS 1.0"])
	}
	// OpenSSL's default groups include these whatever its version.
	t.Logf("accepted groups: %q", res.Service.TLSGroups)
	for _, g := range []string{"X25519", "P-256", "P-384"} {
		if !slices.Contains(res.Service.TLSGroups, g) {
			t.Errorf("groups %q lack %s", res.Service.TLSGroups, g)
		}
	}
}
