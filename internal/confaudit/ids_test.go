package confaudit_test

import (
	"testing"

	"github.com/port21/port21/internal/confaudit"
	"github.com/port21/port21/internal/scan"
)

// TestIDsMatchScan keeps the ids shared with `port21 scan` identical: a
// report, a suppression or a CI gate names a problem once, whether the
// network or the configuration showed it.
func TestIDsMatchScan(t *testing.T) {
	for _, tc := range []struct{ local, scan string }{
		{confaudit.IDAnonymousLogin, scan.IDAnonymousLogin},
		{confaudit.IDAnonymousWrite, scan.IDAnonymousWrite},
		{confaudit.IDNoTLS, scan.IDNoTLS},
		{confaudit.IDCleartextLogin, scan.IDCleartextLogin},
		{confaudit.IDDataCleartext, scan.IDDataCleartext},
		{confaudit.IDTLSLegacyProtocol, scan.IDTLSLegacyProtocol},
		{confaudit.IDTLSWeakCipher, scan.IDTLSWeakCipher},
		{confaudit.IDFTPBounce, scan.IDFTPBounce},
		{confaudit.IDVersionDisclosed, scan.IDVersionDisclosed},
	} {
		if tc.local != tc.scan {
			t.Errorf("confaudit id %q, scan id %q: they name the same problem", tc.local, tc.scan)
		}
	}
}
