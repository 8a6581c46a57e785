package scan

import (
	"crypto/tls"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// maxSuitesPerVersion bounds the enumeration: a server never accepts
// more suites than crypto/tls and the raw hello can offer, but a hostile
// one must not keep the scanner handshaking.
const maxSuitesPerVersion = 40

// SuiteList is what the cipher enumeration found for one protocol
// version: the suites the server accepted, in the order it chose them from
// an ever shorter offer, so a server that enforces its own preference lists
// them in that preference.
type SuiteList struct {
	Version string
	Suites  []string
}

// enumerateSuites finds, for TLS 1.0, 1.1 and 1.2, every suite the server
// accepts: offer all, note the one chosen, offer the rest, until the
// server refuses (as testssl.sh does for the server's preference). The
// suites crypto/tls cannot offer (NULL, EXPORT, anonymous, DES) go through
// the raw ClientHello the same way. TLS 1.3's five suites cannot be chosen
// by crypto/tls, so only the one negotiated is listed. Each handshake is a
// connection of its own, which is why this runs only with
// Options.TLSSuites.
func (a *audit) enumerateSuites() error {
	for _, v := range []uint16{tls.VersionTLS10, tls.VersionTLS11, tls.VersionTLS12} {
		var got []string
		offer := suitesFor(v, nil)
		for len(offer) > 0 && len(got) < maxSuitesPerVersion {
			cfg := a.inspectConfig(v, v, nil)
			cfg.CipherSuites = offer
			st, _, err := a.handshake(cfg)
			if err != nil {
				return fmt.Errorf("cipher enumeration: %w", err)
			}
			if st == nil || !slices.Contains(offer, st.CipherSuite) {
				break
			}
			got = append(got, tls.CipherSuiteName(st.CipherSuite))
			offer = slices.DeleteFunc(offer, func(id uint16) bool { return id == st.CipherSuite })
		}
		raw := slices.Sorted(maps.Keys(brokenSuites))
		for len(raw) > 0 && len(got) < maxSuitesPerVersion {
			gv, suite, ok, _, err := a.rawHandshake(v, raw)
			if err != nil {
				return fmt.Errorf("cipher enumeration: %w", err)
			}
			name, known := brokenSuites[suite]
			if !ok || !known || gv != v {
				break
			}
			got = append(got, name)
			raw = slices.DeleteFunc(raw, func(id uint16) bool { return id == suite })
		}
		if len(got) > 0 {
			a.o.Suites = append(a.o.Suites, SuiteList{Version: tls.VersionName(v), Suites: got})
		}
	}
	if err := a.enumerateGroups(); err != nil {
		return err
	}
	cfg := a.inspectConfig(tls.VersionTLS13, tls.VersionTLS13, nil)
	st, _, err := a.handshake(cfg)
	if err != nil {
		return fmt.Errorf("cipher enumeration: %w", err)
	}
	if st != nil {
		a.o.Suites = append(a.o.Suites, SuiteList{Version: tls.VersionName(tls.VersionTLS13), Suites: []string{tls.CipherSuiteName(st.CipherSuite)}})
	}
	return nil
}

// weakSuite reports whether a suite name is one tls-weak-cipher is about.
func weakSuite(name string) bool {
	for _, w := range []string{"RC4", "3DES", "NULL", "EXPORT", "anon", "_DES_", "DES40", "RC2"} {
		if strings.Contains(name, w) {
			return true
		}
	}
	return false
}

// kxGroups are the key-exchange groups crypto/tls can offer, by the names
// testssl.sh uses. FFDHE groups are not among them: crypto/tls has none.
var kxGroups = []struct {
	id   tls.CurveID
	name string
}{
	{tls.X25519, "X25519"}, {tls.CurveP256, "P-256"}, {tls.CurveP384, "P-384"}, {tls.CurveP521, "P-521"},
	{tls.X25519MLKEM768, "X25519MLKEM768"},
}

// enumerateGroups offers each group alone, with ECDHE suites for TLS 1.2,
// and keeps those the handshake used: a static RSA handshake uses none, so
// CurveID, not success, decides.
func (a *audit) enumerateGroups() error {
	ecdhe := suitesFor(tls.VersionTLS12, func(s *tls.CipherSuite) bool { return strings.HasPrefix(s.Name, "TLS_ECDHE_") })
	for _, g := range kxGroups {
		cfg := a.inspectConfig(tls.VersionTLS12, 0, nil)
		cfg.CurvePreferences = []tls.CurveID{g.id}
		cfg.CipherSuites = ecdhe
		st, _, err := a.handshake(cfg)
		if err != nil {
			return fmt.Errorf("key-exchange groups: %w", err)
		}
		if st != nil && st.CurveID == g.id {
			a.o.Groups = append(a.o.Groups, g.name)
		}
	}
	return nil
}
