// Package certs provides the server's TLS certificate: the administrator's
// own, or a self-signed ECDSA P-256 one generated on first start and kept in
// the data directory, so that TLS works with no configuration at all.
package certs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Validity of a generated certificate. Clients pin it or skip verification,
// so a long life saves administrators a yearly outage; it is renewed when
// less than a month is left.
const validity = 825 * 24 * time.Hour

// Cert is a loaded certificate with the identifiers clients pin.
type Cert struct {
	TLS tls.Certificate
	// Fingerprint is the SHA-256 of the certificate, colon-separated hex
	// (the form openssl, FileZilla and WinSCP show).
	Fingerprint string
	// PublicKeyPin is curl's --pinnedpubkey value: "sha256//" + base64 of
	// the SHA-256 of the SubjectPublicKeyInfo.
	PublicKeyPin string
	// Generated is true when this call created the certificate.
	Generated bool
}

// Load reads a PEM certificate chain and key given by the administrator.
func Load(certFile, keyFile string) (Cert, error) {
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return Cert{}, fmt.Errorf("certs: load %s and %s: %w", certFile, keyFile, err)
	}
	return describe(pair, false)
}

// LoadOrCreate returns the self-signed certificate kept in dir, creating it
// (and dir, mode 0700) when absent or about to expire. now is injected so
// tests can exercise renewal.
func LoadOrCreate(dir string, now time.Time) (Cert, error) {
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	switch {
	case err == nil:
		if pair.Leaf != nil && now.Add(30*24*time.Hour).Before(pair.Leaf.NotAfter) {
			return describe(pair, false)
		}
	case errors.Is(err, fs.ErrNotExist):
	default:
		return Cert{}, fmt.Errorf("certs: load generated certificate from %s: %w", dir, err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return Cert{}, fmt.Errorf("certs: %w", err)
	}
	certPEM, keyPEM, err := generate(now)
	if err != nil {
		return Cert{}, err
	}
	// Key first, owner-only; a crash between the two writes leaves a pair
	// that fails to load and is regenerated.
	if err := writeFile(keyFile, keyPEM, 0o600); err != nil {
		return Cert{}, err
	}
	if err := writeFile(certFile, certPEM, 0o644); err != nil {
		return Cert{}, err
	}
	pair, err = tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return Cert{}, fmt.Errorf("certs: generated pair does not load: %w", err)
	}
	return describe(pair, true)
}

func generate(now time.Time) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("certs: generate key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, fmt.Errorf("certs: serial: %w", err)
	}
	names := []string{"localhost"}
	if h, err := os.Hostname(); err == nil && h != "" && h != "localhost" {
		names = append(names, h)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "port21 self-signed", Organization: []string{"port21"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(validity),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		DNSNames:              names,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("certs: create certificate: %w", err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("certs: marshal key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), nil
}

func writeFile(name string, b []byte, mode os.FileMode) error {
	tmp := name + ".tmp"
	if err := os.WriteFile(tmp, b, mode); err != nil {
		return fmt.Errorf("certs: %w", err)
	}
	if err := os.Rename(tmp, name); err != nil {
		return fmt.Errorf("certs: %w", err)
	}
	return nil
}

func describe(pair tls.Certificate, generated bool) (Cert, error) {
	leaf := pair.Leaf
	if leaf == nil {
		var err error
		if leaf, err = x509.ParseCertificate(pair.Certificate[0]); err != nil {
			return Cert{}, fmt.Errorf("certs: parse certificate: %w", err)
		}
		pair.Leaf = leaf
	}
	sum := sha256.Sum256(leaf.Raw)
	hexes := make([]string, len(sum))
	for i, b := range sum {
		hexes[i] = fmt.Sprintf("%02X", b)
	}
	pin := sha256.Sum256(leaf.RawSubjectPublicKeyInfo)
	return Cert{
		TLS:          pair,
		Fingerprint:  strings.Join(hexes, ":"),
		PublicKeyPin: "sha256//" + base64.StdEncoding.EncodeToString(pin[:]),
		Generated:    generated,
	}, nil
}
