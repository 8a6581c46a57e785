package finding

import "testing"

func TestShared(t *testing.T) {
	for _, id := range []string{IDNoTLS, IDCleartextLogin, IDAnonymousLogin, IDAnonymousWrite, IDDataCleartext,
		IDTLSLegacyProtocol, IDTLSWeakCipher, IDFTPBounce, IDVersionDisclosed} {
		m, ok := Shared(id)
		if !ok || m.Title == "" {
			t.Errorf("%s: %+v %v", id, m, ok)
		}
	}
	if _, ok := Shared("no-chroot"); ok {
		t.Error("no-chroot is local's own id")
	}
}
