package server

import (
	"crypto/tls"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/port21/port21/internal/config"
)

// tls-min-version and tls-max-version bound what the control and the data
// connections negotiate, and data connections still resume under each.
func TestTLSVersionKeys(t *testing.T) {
	tests := []struct {
		min, max string
		want     uint16
	}{
		{"1.2", "1.3", tls.VersionTLS13},
		{"1.2", "1.2", tls.VersionTLS12},
		{"1.3", "1.3", tls.VersionTLS13},
	}
	for _, tt := range tests {
		t.Run(tt.min+"-"+tt.max, func(t *testing.T) {
			ts := startServer(t, func(c *config.Config) { c.TLSMinVersion, c.TLSMaxVersion = tt.min, tt.max })
			ts.addUser(t, "alice", nil)
			rc := ts.raw(t)
			rc.login("alice", clientTLS())
			if v := rc.conn.(*tls.Conn).ConnectionState().Version; v != tt.want {
				t.Errorf("control connection: %s, want %s", tls.VersionName(v), tls.VersionName(tt.want))
			}
			rc.transfer("LIST", nil, 226) // the data connection resumed
			rc.transfer("NLST", nil, 226) // and again
		})
	}
}

// A client below tls-min-version is refused, and the log says why.
func TestTLSMinVersionRefuses(t *testing.T) {
	ts := startServer(t, func(c *config.Config) { c.TLSMinVersion = "1.3" })
	c, err := net.DialTimeout("tcp", ts.addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	r := newReader(c)
	r.ReadLine()
	fmt.Fprintf(c, "AUTH TLS\r\n")
	r.ReadLine()
	cfg := clientTLS()
	cfg.MaxVersion = tls.VersionTLS12
	if err := tls.Client(c, cfg).Handshake(); err == nil {
		t.Fatal("a TLS 1.2 client got in under tls-min-version 1.3")
	}
	waitLog(t, ts, "no TLS version in common")
}
