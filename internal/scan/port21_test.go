package scan

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/port21/port21/internal/certs"
	"github.com/port21/port21/internal/config"
	"github.com/port21/port21/internal/server"
	"github.com/port21/port21/internal/users"
)

// startPort21 runs the real port21 server in-process on a loopback port,
// with its defaults: TLS required, generated self-signed certificate.
func startPort21(t testing.TB, implicit bool) netip.AddrPort {
	t.Helper()
	dir := t.TempDir()
	cfg := config.Default()
	cfg.DataDir = dir
	cfg.Listen = "127.0.0.1:0"
	cfg.PassivePorts = "30000-39999"
	v, err := cfg.Validate()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	store, err := users.OpenStore(ctx, filepath.Join(dir, "users.db"))
	if err != nil {
		t.Fatal(err)
	}
	cert, err := certs.LoadOrCreate(filepath.Join(dir, "tls"), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Options{
		Config: v, Cert: cert.TLS, Accounts: store, Passwords: users.NewHasher(1),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), FailDelay: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln, implicit) }()
	t.Cleanup(func() {
		cancel()
		<-done
		store.Close()
	})
	return netip.MustParseAddrPort(ln.Addr().String())
}

// TestPort21Server scans the real port21 server: secure by default, it
// must show only that its generated certificate is self-signed.
func TestPort21Server(t *testing.T) {
	for _, implicit := range []bool{false, true} {
		ap := startPort21(t, implicit)
		// The server hashes a dummy password for the refused anonymous
		// login, which is slow under the race detector.
		s := newTestScanner(t, func(o *Options) { o.Timeout = 30 * time.Second })
		r := auditOne(t, s, ap)
		if r.Error != "" {
			t.Fatalf("implicit=%v: %v", implicit, r.Error)
		}
		want := []string{IDTLSCertUntrusted}
		if got := ids(r); !slices.Equal(got, want) {
			t.Errorf("implicit=%v: findings %v, want %v", implicit, got, want)
			for _, f := range r.Findings {
				t.Logf("%s: %+v", f.ID, f.Evidence)
			}
		}
		wantTLS := "explicit"
		if implicit {
			wantTLS = "implicit"
		}
		if r.Service == nil || r.Service.Product != "port21" || r.Service.TLS != wantTLS {
			t.Errorf("implicit=%v: service %+v", implicit, r.Service)
		}
	}
}
