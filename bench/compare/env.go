package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/go-crypt/x/yescrypt"

	"github.com/port21/port21/internal/users"
)

// The account the peers' sessions run as: a uid no real account has.
const (
	benchUID  = 64021
	benchGID  = 64021
	benchUser = "bench"
)

// account is a login of the benchmark: the same name and password on every
// server.
type account struct {
	Name, Password string
	// Argon2id is port21's hash of Password (its own scheme, what "port21
	// user add" stores); Yescrypt is the peers' (Debian 12's default for
	// /etc/shadow).
	Argon2id, Yescrypt string
}

// Login series; each has its own accounts, so port21's verification cache
// never helps one series with another's logins.
var loginGroups = []string{"ftps-seq", "ftps-par", "plain-seq", "plain-par"}

// env is what every server shares: the files, the certificate and key,
// the accounts.
type env struct {
	cfg      config
	dir      string // the run's temporary directory, on tmpfs
	files    string // the bench account's home: big.bin and small/
	certFile string
	keyFile  string
	certPEM  []byte
	keyPEM   []byte
	tls      *tls.Config // the Go client's: trusts the certificate, no session cache
	bench    account
	logins   map[string][]account
}

// newEnv makes the run's directory, files, certificate and accounts.
func newEnv(ctx context.Context, cfg config) (*env, error) {
	dir, err := makeTemp(cfg.WorkDir)
	if err != nil {
		return nil, err
	}
	e := &env{cfg: cfg, dir: dir, files: filepath.Join(dir, "files"), logins: map[string][]account{}}
	if err := e.setup(ctx); err != nil {
		e.remove()
		return nil, err
	}
	return e, nil
}

// makeTemp makes the run's directory under base, readable by the peers'
// unprivileged processes.
func makeTemp(base string) (string, error) {
	dir, err := os.MkdirTemp(base, "port21-compare-")
	if err != nil {
		return "", fmt.Errorf("work directory: %w", err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("work directory: %w", err)
	}
	return dir, nil
}

func (e *env) remove() {
	if err := os.RemoveAll(e.dir); err != nil {
		fmt.Fprintln(os.Stderr, "compare: remove", e.dir+":", err)
	}
}

func (e *env) setup(ctx context.Context) error {
	if err := e.makeFiles(); err != nil {
		return err
	}
	if err := e.makeCert(); err != nil {
		return err
	}
	return e.makeAccounts(ctx)
}

// makeFiles writes the large file and the small ones into the bench
// account's home, owned by the account the peers' sessions run as.
func (e *env) makeFiles() error {
	small := filepath.Join(e.files, "small")
	if err := os.MkdirAll(small, 0o755); err != nil {
		return fmt.Errorf("files: %w", err)
	}
	block := make([]byte, 1<<20)
	rand.Read(block)
	big, err := os.Create(filepath.Join(e.files, "big.bin"))
	if err != nil {
		return fmt.Errorf("files: %w", err)
	}
	for left := e.cfg.Size; left > 0; {
		n := min(left, int64(len(block)))
		if _, err := big.Write(block[:n]); err != nil {
			big.Close()
			return fmt.Errorf("files: %w", err)
		}
		left -= n
	}
	if err := big.Close(); err != nil {
		return fmt.Errorf("files: %w", err)
	}
	for i := range e.cfg.Files {
		off := (i * 7919) % (len(block) - e.cfg.FileSize)
		name := filepath.Join(small, fmt.Sprintf("f%05d.dat", i))
		if err := os.WriteFile(name, block[off:off+e.cfg.FileSize], 0o644); err != nil {
			return fmt.Errorf("files: %w", err)
		}
	}
	return e.chownFiles()
}

// chownFiles gives the bench account its home back after a server running
// as root (port21) wrote into it.
func (e *env) chownFiles() error {
	return filepath.WalkDir(e.files, func(path string, _ os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := os.Lchown(path, benchUID, benchGID); err != nil {
			return fmt.Errorf("files: %w", err)
		}
		return nil
	})
}

// resetFiles removes what a server's uploads left in the home.
func (e *env) resetFiles() error {
	entries, err := os.ReadDir(e.files)
	if err != nil {
		return fmt.Errorf("files: %w", err)
	}
	for _, ent := range entries {
		if ent.Name() == "big.bin" || ent.Name() == "small" {
			continue
		}
		if err := os.RemoveAll(filepath.Join(e.files, ent.Name())); err != nil {
			return fmt.Errorf("files: %w", err)
		}
	}
	return e.chownFiles()
}

// makeCert makes the one self-signed certificate every server serves, for
// 127.0.0.1, with an RSA-2048 or an ECDSA P-256 key.
func (e *env) makeCert() error {
	var (
		key    any
		pub    any
		keyErr error
	)
	switch e.cfg.Key {
	case "ecdsa":
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		key, pub, keyErr = k, &k.PublicKey, err
	default:
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err == nil {
			key, pub = k, &k.PublicKey
		}
		keyErr = err
	}
	if keyErr != nil {
		return fmt.Errorf("certificate key: %w", keyErr)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(now.UnixNano()),
		Subject:               pkix.Name{CommonName: "127.0.0.1", Organization: []string{"port21 bench/compare"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(7 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, key)
	if err != nil {
		return fmt.Errorf("certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("certificate key: %w", err)
	}
	e.certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	e.keyPEM = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	e.certFile = filepath.Join(e.dir, "cert.pem")
	e.keyFile = filepath.Join(e.dir, "key.pem")
	if err := os.WriteFile(e.certFile, e.certPEM, 0o644); err != nil {
		return fmt.Errorf("certificate: %w", err)
	}
	if err := os.WriteFile(e.keyFile, e.keyPEM, 0o600); err != nil {
		return fmt.Errorf("certificate: %w", err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(e.certPEM)
	e.tls = &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
	return nil
}

// makeAccounts makes the bench account and the login series' accounts,
// each with its own random password, hashed both ways, on every CPU.
func (e *env) makeAccounts(ctx context.Context) error {
	var all []*account
	e.bench = account{Name: benchUser, Password: randomPassword()}
	all = append(all, &e.bench)
	for g, group := range loginGroups {
		accts := make([]account, e.cfg.Logins)
		for i := range accts {
			accts[i] = account{Name: fmt.Sprintf("u%d%04d", g, i), Password: randomPassword()}
		}
		e.logins[group] = accts
		for i := range accts {
			all = append(all, &accts[i])
		}
	}
	hasher := users.NewHasher(0)
	work := make(chan *account)
	errs := make(chan error, 1)
	var wg sync.WaitGroup
	for range runtime.NumCPU() {
		wg.Go(func() {
			for a := range work {
				var err error
				if a.Argon2id, err = hasher.Hash(ctx, a.Password); err == nil {
					a.Yescrypt, err = yescryptHash(a.Password)
				}
				if err != nil {
					select {
					case errs <- fmt.Errorf("hash %s's password: %w", a.Name, err):
					default:
					}
				}
			}
		})
	}
	for _, a := range all {
		select {
		case work <- a:
		case <-ctx.Done():
		}
	}
	close(work)
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
	}
	return ctx.Err()
}

// yescryptHash hashes the way Debian 12's passwd does: yescrypt, cost
// "j9T" (libxcrypt's default).
func yescryptHash(password string) (string, error) {
	salt := make([]byte, 16)
	rand.Read(salt)
	out, err := yescrypt.Hash([]byte(password), append([]byte("$y$j9T$"), yescrypt.Encode64(salt)...))
	if err != nil {
		return "", err
	}
	return string(out), nil
}

// randomPassword is 20 letters and digits: safe in lftp's and curl's
// command lines.
func randomPassword() string {
	const alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 20)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// allAccounts is every account, the bench one first.
func (e *env) allAccounts() []account {
	out := []account{e.bench}
	for _, g := range loginGroups {
		out = append(out, e.logins[g]...)
	}
	return out
}

// shadow renders accounts as /etc/shadow lines with their argon2id hashes,
// for port21 user import-shadow.
func shadow(accts []account) []byte {
	var b bytes.Buffer
	for _, a := range accts {
		b.WriteString(a.Name + ":" + a.Argon2id + ":20000:0:99999:7:::\n")
	}
	return b.Bytes()
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// checkPassive makes sure the passive range is free now.
func checkPassive(lo, hi int) error {
	var busy []string
	for p := lo; p <= hi; p++ {
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err != nil {
			busy = append(busy, strconv.Itoa(p))
			continue
		}
		l.Close()
	}
	if len(busy) > (hi-lo+1)/4 {
		return errors.New("passive range: ports in use: " + fmt.Sprint(busy))
	}
	return nil
}
