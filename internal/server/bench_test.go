package server

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jlaffaye/ftp"

	"github.com/port21/port21/internal/users"
)

// Run with: go test -run '^$' -bench . -benchtime 5x ./internal/server
// The figures go to bench/README.md; they are measured, never asserted.

func benchClient(b *testing.B, ts *testServer, secure bool) *ftp.ServerConn {
	b.Helper()
	opts := []ftp.DialOption{ftp.DialWithTimeout(10 * time.Second)}
	user := "plain"
	if secure {
		opts = append(opts, ftp.DialWithExplicitTLS(clientTLS()))
		user = "secure"
	}
	c, err := ftp.Dial(ts.addr, opts...)
	if err != nil {
		b.Fatal(err)
	}
	if err := c.Login(user, testPassword); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Quit() })
	return c
}

func benchServer(b *testing.B) *testServer {
	ts := startServer(b)
	ts.addUser(b, "secure", nil)
	ts.addUser(b, "plain", func(u *users.User) { u.AllowCleartext = true })
	return ts
}

func BenchmarkDownloadLarge(b *testing.B) {
	const size = 256 << 20
	for _, secure := range []bool{false, true} {
		b.Run(mode(secure), func(b *testing.B) {
			ts := benchServer(b)
			user := map[bool]string{false: "plain", true: "secure"}[secure]
			writeSparse(b, filepath.Join(ts.home(user), "large.bin"), size)
			c := benchClient(b, ts, secure)
			b.SetBytes(size)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				r, err := c.Retr("large.bin")
				if err != nil {
					b.Fatal(err)
				}
				n, err := io.Copy(io.Discard, r)
				r.Close()
				if err != nil || n != size {
					b.Fatalf("got %d bytes, %v", n, err)
				}
			}
		})
	}
}

func BenchmarkUploadLarge(b *testing.B) {
	const size = 128 << 20
	data := bytes.Repeat([]byte("port21!!"), size/8)
	for _, secure := range []bool{false, true} {
		b.Run(mode(secure), func(b *testing.B) {
			ts := benchServer(b)
			c := benchClient(b, ts, secure)
			b.SetBytes(size)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := c.Stor("up.bin", bytes.NewReader(data)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSmallFiles downloads 4 KiB files, one data connection each:
// the cost of a transfer's setup, which dominates mirroring jobs.
func BenchmarkSmallFiles(b *testing.B) {
	const files = 50
	for _, secure := range []bool{false, true} {
		b.Run(mode(secure), func(b *testing.B) {
			ts := benchServer(b)
			user := map[bool]string{false: "plain", true: "secure"}[secure]
			body := bytes.Repeat([]byte("s"), 4096)
			for i := 0; i < files; i++ {
				writeFile(b, filepath.Join(ts.home(user), fmt.Sprintf("f%03d", i)), body)
			}
			c := benchClient(b, ts, secure)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				r, err := c.Retr(fmt.Sprintf("f%03d", i%files))
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, r)
				r.Close()
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "files/s")
		})
	}
}

// BenchmarkLogin measures full logins: TCP, TLS handshake, argon2id.
func BenchmarkLogin(b *testing.B) {
	ts := benchServer(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c, err := ftp.Dial(ts.addr, ftp.DialWithExplicitTLS(&tls.Config{InsecureSkipVerify: true}), ftp.DialWithTimeout(10*time.Second))
		if err != nil {
			b.Fatal(err)
		}
		if err := c.Login("secure", testPassword); err != nil {
			b.Fatal(err)
		}
		c.Quit()
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "logins/s")
}

func mode(secure bool) string {
	if secure {
		return "tls"
	}
	return "plain"
}

func writeSparse(b *testing.B, path string, size int64) {
	b.Helper()
	os.MkdirAll(filepath.Dir(path), 0o755)
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	// Real bytes, not a hole, so the page cache holds data like a real file.
	chunk := bytes.Repeat([]byte("0123456789abcdef"), 1<<16)
	for written := int64(0); written < size; written += int64(len(chunk)) {
		f.Write(chunk)
	}
	f.Close()
}

// BenchmarkSmallFilesNagle moves 4 KiB files over FTPS with a client that
// leaves Nagle's algorithm on, as OpenSSL and GnuTLS clients (lftp, curl,
// Python's ftplib, wget) do: each small TLS record the client writes waits
// for the ACK of the one before, so a server that delays its ACKs (40 ms on
// Linux) stalls every such transfer. Compare files/s with BenchmarkSmallFiles.
func BenchmarkSmallFilesNagle(b *testing.B) {
	const files = 20
	body := bytes.Repeat([]byte("n"), 4096)
	for _, op := range []string{"upload", "download"} {
		b.Run(op, func(b *testing.B) {
			ts := benchServer(b)
			for i := 0; i < files; i++ {
				writeFile(b, filepath.Join(ts.home("secure"), fmt.Sprintf("f%03d", i)), body)
			}
			cfg := clientTLS()
			// With a dial function jlaffaye leaves TLS on data
			// connections to it; the control connection it upgrades.
			nagle := func(network, address string) (net.Conn, error) {
				c, err := net.DialTimeout(network, address, 10*time.Second)
				if err != nil {
					return nil, err
				}
				c.(*net.TCPConn).SetNoDelay(false)
				if address == ts.addr {
					return c, nil
				}
				return tls.Client(c, cfg), nil
			}
			c, err := ftp.Dial(ts.addr, ftp.DialWithExplicitTLS(cfg), ftp.DialWithDialFunc(nagle))
			if err != nil {
				b.Fatal(err)
			}
			if err := c.Login("secure", testPassword); err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { c.Quit() })
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				name := fmt.Sprintf("f%03d", i%files)
				if op == "upload" {
					if err := c.Stor(name, bytes.NewReader(body)); err != nil {
						b.Fatal(err)
					}
					continue
				}
				r, err := c.Retr(name)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, r)
				r.Close()
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "files/s")
		})
	}
}

// BenchmarkSmallFilesLftp mirrors a directory of 4 KiB files with lftp
// over FTPS, one data connection per file: lftp (GnuTLS, Nagle on) is the
// client whose small writes met the server's delayed ACKs, 40 ms a file.
// Skipped when lftp is not installed.
func BenchmarkSmallFilesLftp(b *testing.B) {
	if _, err := exec.LookPath("lftp"); err != nil {
		b.Skip("lftp not installed")
	}
	const files = 50
	for _, op := range []string{"download", "upload"} {
		b.Run(op, func(b *testing.B) {
			ts := benchServer(b)
			local := b.TempDir()
			for i := 0; i < files; i++ {
				name := fmt.Sprintf("f%03d", i)
				writeFile(b, filepath.Join(ts.home("secure"), "tree", name), bytes.Repeat([]byte("l"), 4096))
				writeFile(b, filepath.Join(local, "tree", name), bytes.Repeat([]byte("u"), 4096))
			}
			mirror := "mirror tree " + filepath.Join(b.TempDir(), "tree")
			if op == "upload" {
				mirror = "mirror -R " + filepath.Join(local, "tree") + " up"
			}
			script := strings.Join([]string{
				"set cmd:fail-exit yes", "set net:max-retries 1", "set ftp:ssl-force true",
				"set ftp:ssl-protect-data true", "set ssl:verify-certificate no",
				// Else lftp parses the system's CA file for every data
				// connection, ~5 ms of its CPU per file.
				"set ssl:ca-file " + filepath.Join(ts.dir, "tls", "cert.pem"),
				"open ftp://" + ts.addr, "user secure '" + testPassword + "'", mirror, "bye",
			}, "; ")
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if op == "upload" {
					b.StopTimer()
					os.RemoveAll(filepath.Join(ts.home("secure"), "up"))
					b.StartTimer()
				}
				if out, err := exec.Command("lftp", "-c", script).CombinedOutput(); err != nil {
					b.Fatalf("lftp: %v\n%s", err, out)
				}
			}
			b.ReportMetric(float64(b.N*files)/b.Elapsed().Seconds(), "files/s")
		})
	}
}
