package testpeers

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// certFiles are the paths of a per-run certificate in the formats the
// daemons want.
type certFiles struct {
	cert    string // PEM certificate
	key     string // PEM private key
	certKey string // key and certificate in one file (Pure-FTPd)
}

// writeCert makes a self-signed ECDSA P-256 certificate for 127.0.0.1, ::1
// and localhost, valid for 90 days (beyond tls-cert-expiring's 30), and
// writes it into dir. A new one per run
// keeps private keys out of the repository; being self-signed, it is the
// reason a hardened peer still has the finding tls-cert-untrusted. Tests
// that want to verify it trust the certificate itself (Peer.CertFile).
func writeCert(dir string, now time.Time) (certFiles, error) {
	certPEM, keyPEM, err := makeCert(now)
	if err != nil {
		return certFiles{}, err
	}
	return writeCertFiles(dir, certPEM, keyPEM)
}

// makeCert returns the PEM certificate and key that writeCert writes.
func makeCert(now time.Time) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("testpeers: certificate key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 126))
	if err != nil {
		return nil, nil, fmt.Errorf("testpeers: certificate serial: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "localhost", Organization: []string{"port21 test peer"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(90 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("testpeers: certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("testpeers: certificate key: %w", err)
	}
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	return certPEM, keyPEM, nil
}

// writeCertFiles writes a PEM certificate and key into dir in the forms
// the daemons want.
func writeCertFiles(dir string, certPEM, keyPEM []byte) (certFiles, error) {
	files := certFiles{
		cert:    filepath.Join(dir, "cert.pem"),
		key:     filepath.Join(dir, "key.pem"),
		certKey: filepath.Join(dir, "certkey.pem"),
	}
	for _, w := range []struct {
		path string
		data []byte
		mode os.FileMode
	}{
		{files.cert, certPEM, 0o644},
		{files.key, keyPEM, 0o600},
		{files.certKey, append(append([]byte{}, keyPEM...), certPEM...), 0o600},
	} {
		if err := os.WriteFile(w.path, w.data, w.mode); err != nil {
			return certFiles{}, fmt.Errorf("testpeers: certificate: %w", err)
		}
	}
	return files, nil
}

// isRSAKey reports whether keyPEM holds an RSA private key (ProFTPD names
// the key type in its directives).
func isRSAKey(keyPEM []byte) (bool, error) {
	block, _ := pem.Decode(keyPEM)
	if block == nil {
		return false, errors.New("testpeers: certificate key: no PEM block")
	}
	switch block.Type {
	case "RSA PRIVATE KEY":
		return true, nil
	case "EC PRIVATE KEY":
		return false, nil
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return false, fmt.Errorf("testpeers: certificate key: %w", err)
	}
	_, ok := key.(*rsa.PrivateKey)
	return ok, nil
}
