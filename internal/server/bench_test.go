package server

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"os"
	"path/filepath"
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
