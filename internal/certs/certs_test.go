package certs

import (
	"crypto/ecdsa"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

func TestLoadOrCreate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tls")
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	c, err := LoadOrCreate(dir, now)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Generated {
		t.Error("first call did not report generating")
	}
	if _, ok := c.TLS.Leaf.PublicKey.(*ecdsa.PublicKey); !ok {
		t.Errorf("key is %T, want ECDSA", c.TLS.Leaf.PublicKey)
	}
	if !regexp.MustCompile(`^([0-9A-F]{2}:){31}[0-9A-F]{2}$`).MatchString(c.Fingerprint) {
		t.Errorf("fingerprint %q is not colon-separated SHA-256", c.Fingerprint)
	}
	if err := c.TLS.Leaf.VerifyHostname("127.0.0.1"); err != nil {
		t.Errorf("no SAN for 127.0.0.1: %v", err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "key.pem")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key.pem mode %v, %v", fi.Mode(), err)
	}
	// The second start reuses it.
	again, err := LoadOrCreate(dir, now.Add(24*time.Hour))
	if err != nil || again.Generated || again.Fingerprint != c.Fingerprint {
		t.Errorf("reload: generated=%v same=%v err=%v", again.Generated, again.Fingerprint == c.Fingerprint, err)
	}
	// Less than a month before expiry it is renewed.
	renewed, err := LoadOrCreate(dir, c.TLS.Leaf.NotAfter.Add(-7*24*time.Hour))
	if err != nil || !renewed.Generated || renewed.Fingerprint == c.Fingerprint {
		t.Errorf("renewal: generated=%v err=%v", renewed.Generated, err)
	}
}

func TestLoadAdministratorsPair(t *testing.T) {
	dir := t.TempDir()
	if _, err := LoadOrCreate(dir, time.Now()); err != nil {
		t.Fatal(err)
	}
	c, err := Load(filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"))
	if err != nil || c.Generated || c.PublicKeyPin[:8] != "sha256//" {
		t.Fatalf("Load: %+v, %v", c.Generated, err)
	}
	if _, err := Load(filepath.Join(dir, "missing.pem"), filepath.Join(dir, "key.pem")); err == nil {
		t.Error("missing certificate accepted")
	}
	// A corrupt generated pair is an error, not silently replaced.
	os.WriteFile(filepath.Join(dir, "cert.pem"), []byte("garbage"), 0o644)
	if _, err := LoadOrCreate(dir, time.Now()); err == nil {
		t.Error("corrupt certificate accepted")
	}
}
