package scan

import (
	"testing"

	"github.com/port21/port21/internal/finding"
	"github.com/port21/port21/internal/scan/fingerprint"
)

// TestIISFingerprint audits a scripted server answering as IIS 10 with a
// custom banner (testdata/transcripts in the fingerprint package): it is
// named from FEAT and SYST, and the fixes are IIS's alone.
func TestIISFingerprint(t *testing.T) {
	ap := startFake(t, &fake{banner: "220 ACME file exchange\r\n", replies: map[string]string{
		"FEAT": "211-Extended features supported:\r\n LANG EN*\r\n UTF8\r\n AUTH TLS;TLS-C;SSL;TLS-P;\r\n PBSZ\r\n PROT C;P;\r\n CCC\r\n HOST\r\n SIZE\r\n MDTM\r\n REST STREAM\r\n211 END\r\n",
		"SYST": "215 Windows_NT\r\n",
		"USER": "331 Password required\r\n", "PASS": "530 User cannot log in.\r\n",
		"AUTH": "534 Local policy on server does not allow TLS secure connections.\r\n",
	}})
	r := auditOne(t, newTestScanner(t, nil), ap)
	if r.Service == nil || r.Service.Product != fingerprint.MicrosoftFTP {
		t.Fatalf("service %+v, want %s", r.Service, fingerprint.MicrosoftFTP)
	}
	if len(r.Findings) == 0 {
		t.Fatal("no findings")
	}
	for _, f := range r.Findings {
		for product := range f.Fix.Config {
			if product != finding.ProductIIS {
				t.Errorf("%s: fix lines for %s on an IIS service", f.ID, product)
			}
		}
	}
}
