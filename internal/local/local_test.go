package local

import (
	"net/netip"
	"testing"

	"github.com/port21/port21/internal/sockets"
)

func TestDataListener(t *testing.T) {
	lo := netip.MustParseAddr("127.0.0.1")
	proc := func(name string, args ...string) []sockets.Process {
		return []sockets.Process{{Name: name, Args: append([]string{name}, args...)}}
	}
	control := map[uint16]string{4021: "/etc/vsftpd.conf"}
	passive := [][2]uint16{{40000, 40100}}
	for _, tc := range []struct {
		name  string
		l     sockets.Listener
		probe bool
	}{
		{"well-known port", sockets.Listener{Addr: lo, Port: 21, Processes: proc("vsftpd")}, true},
		{"configured control port", sockets.Listener{Addr: lo, Port: 4021, Processes: proc("vsftpd")}, true},
		{"in a configured passive range", sockets.Listener{Addr: lo, Port: 40050}, false},
		{"wildcard in a passive range", sockets.Listener{Addr: netip.IPv4Unspecified(), Port: 40050}, true},
		{"daemon off its ports", sockets.Listener{Addr: lo, Port: 45000, Processes: proc("pure-ftpd")}, false},
		{"daemon on the wildcard", sockets.Listener{Addr: netip.IPv6Unspecified(), Port: 45000, Processes: proc("proftpd")}, true},
		{"port21 --listen", sockets.Listener{Addr: lo, Port: 3000, Processes: proc("port21", "serve", "--listen", "127.0.0.1:3000")}, true},
		{"port21 --implicit-tls-listen=", sockets.Listener{Addr: lo, Port: 3990, Processes: proc("port21", "serve", "--implicit-tls-listen=:3990")}, true},
		{"port21 passive", sockets.Listener{Addr: lo, Port: 50007, Processes: proc("port21", "serve", "--listen", "127.0.0.1:3000")}, false},
		{"port21, not serve", sockets.Listener{Addr: lo, Port: 50007, Processes: proc("port21", "scan")}, true},
		{"anything else", sockets.Listener{Addr: lo, Port: 8080, Processes: proc("nginx")}, true},
	} {
		why := dataListener(tc.l, control, passive)
		if (why == "") != tc.probe {
			t.Errorf("%s: dataListener = %q, want probe %v", tc.name, why, tc.probe)
		}
	}
}
