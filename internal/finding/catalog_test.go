package finding

import (
	"slices"
	"strings"
	"testing"
)

// TestCatalog checks that every entry can be acted on: a title, a
// description, a fix summary, and fix lines only for known products.
func TestCatalog(t *testing.T) {
	for _, id := range IDs() {
		e, _ := Lookup(id)
		if e.Title == "" || e.Description == "" || e.Fix.Summary == "" {
			t.Errorf("%s: incomplete entry %+v", id, e)
		}
		for product, lines := range e.Fix.Config {
			if !slices.Contains(Products(), product) {
				t.Errorf("%s: fix for unknown product %q", id, product)
			}
			if len(lines) == 0 {
				t.Errorf("%s: empty fix for %s", id, product)
			}
		}
	}
}

// TestFixLines pins fixes that were wrong once.
func TestFixLines(t *testing.T) {
	for _, tc := range []struct {
		id, product string
		bad, good   string
	}{
		// ssl_tlsv1=YES keeps TLS 1.0 on.
		{IDTLSLegacyProtocol, ProductVsftpd, "ssl_tlsv1=YES", "ssl_tlsv1=NO"},
		// Debian's Pure-FTPd reads one file per option.
		{IDCleartextLogin, ProductPureFTPd, "TLS 2", "echo '2' > /etc/pure-ftpd/conf/TLS"},
		{IDAnonymousLogin, ProductPureFTPd, "NoAnonymous yes", "echo 'yes' > /etc/pure-ftpd/conf/NoAnonymous"},
	} {
		lines := ConfigFor(tc.id, tc.product)[tc.product]
		if slices.Contains(lines, tc.bad) {
			t.Errorf("%s for %s still says %q", tc.id, tc.product, tc.bad)
		}
		if !slices.Contains(lines, tc.good) {
			t.Errorf("%s for %s = %q, want %q among them", tc.id, tc.product, lines, tc.good)
		}
	}
	for _, id := range IDs() {
		for _, l := range ConfigFor(id, ProductPureFTPd)[ProductPureFTPd] {
			if !strings.HasPrefix(l, "#") && !strings.HasPrefix(l, "echo '") {
				t.Errorf("%s: Pure-FTPd line %q is not in Debian's /etc/pure-ftpd/conf form", id, l)
			}
		}
	}
}

func TestConfigFor(t *testing.T) {
	if got := ConfigFor(IDAnonymousLogin, ProductProFTPD); len(got) != 1 || got[ProductProFTPD] == nil {
		t.Errorf("a known product gets only its own lines: %v", got)
	}
	if got := ConfigFor(IDAnonymousLogin, ""); len(got) != len(Products()) {
		t.Errorf("an unknown product gets every product's lines: %v", got)
	}
	if got := ConfigFor(IDALPACA, ProductVsftpd); got != nil {
		t.Errorf("no lines for a fix without any: %v", got)
	}
	f := New(IDCleartextLogin, Target{Host: "h", Port: 21}, ProductVsftpd, "confirmed", nil)
	if f.Severity != High || f.Title == "" || f.Fix.Config[ProductVsftpd] == nil || len(f.Fix.Config) != 1 {
		t.Errorf("New: %+v", f)
	}
}
