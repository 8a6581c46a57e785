package server

import (
	"net"
	"strings"
	"testing"

	"github.com/port21/port21/internal/config"
)

// TestBounceEveryAddressForm: PORT and EPRT to anything but the client's
// own address are refused, in every spelling of an address, over an IPv4
// and an IPv6 control connection: no reply 200, so no data connection to a
// third party (FTP bounce) is ever made.
func TestBounceEveryAddressForm(t *testing.T) {
	forms := map[string][]string{
		"127.0.0.1": {
			"PORT 127,0,0,2,195,80",             // another loopback address
			"PORT 198,51,100,7,0,21",            // a third party, privileged port
			"PORT 127,000,000,002,195,80",       // zero-padded octets
			"PORT 255,255,255,255,195,80",       // broadcast
			"EPRT |1|198.51.100.7|2121|",        // a third party, extended form
			"EPRT |1|127.0.0.2|2121|",           // another loopback address
			"EPRT |2|::ffff:198.51.100.7|2121|", // IPv4-mapped IPv6 of a third party
			"EPRT |2|::ffff:127.0.0.2|2121|",    // IPv4-mapped IPv6 of another loopback address
			"EPRT |2|::ffff:7f00:2|2121|",       // the same, in hex
			"EPRT |1|2130706434|2121|",          // 127.0.0.2 as one decimal number
			"EPRT |1|0x7f.0.0.2|2121|",          // hex octet
			"EPRT |1|127.0.0.1|21|",             // own address, privileged port
			"EPRT |1|127.0.0.1|0|",              // port 0
			"EPRT |1|127.0.0.1|65536|",          // port out of range
			"EPRT |3|127.0.0.2|2121|",           // unknown family
			"EPRT |1| 127.0.0.2|2121|",          // a space inside
			"EPRT |1|127.0.0.2%lo|2121|",        // a zone
		},
		"::1": {
			"EPRT |2|::2|2121|",              // another address
			"EPRT |2|2001:db8::7|2121|",      // a third party
			"EPRT |2|::ffff:127.0.0.1|2121|", // IPv4-mapped: not the control connection's ::1
			"EPRT |2|0:0:0:0:0:0:0:2|2121|",  // long form of another address
			"EPRT |2|::1%lo|2121|",           // own address with a zone
			"EPRT |1|127.0.0.1|2121|",        // the other family
			"EPRT |2|::1|1023|",              // own address, privileged port
			"PORT 127,0,0,1,195,80",          // PORT is IPv4 only
		},
	}
	for host, cmds := range forms {
		t.Run(host, func(t *testing.T) {
			if host == "::1" {
				ln, err := net.Listen("tcp", "[::1]:0")
				if err != nil {
					t.Skip("no IPv6 loopback here")
				}
				ln.Close()
			}
			listen := net.JoinHostPort(host, "0")
			ts := startServer(t, func(c *config.Config) { c.Listen = listen })
			ts.addUser(t, "alice", nil)
			rc := ts.raw(t)
			rc.login("alice", clientTLS())
			for _, cmd := range cmds {
				rc.send("%s", cmd)
				if r := rc.read(); r.Code < 500 {
					t.Errorf("%q over %s: %d %q, want a refusal", cmd, host, r.Code, r.Message())
				}
			}
			// The refusals were logged as such.
			if !strings.Contains(ts.logs.String(), "reason=bounce") && !strings.Contains(ts.logs.String(), "reason=privileged-port") {
				t.Errorf("no refused event in the log:\n%s", ts.logs.String())
			}
			// The client's own address still works, and the unspecified
			// address means it (lftp sends "EPRT |2|::|port|"): the data
			// connection goes to the client, never elsewhere.
			own := []string{"PORT 127,0,0,1,195,80", "PORT 0,0,0,0,195,80"}
			if host == "::1" {
				own = []string{"EPRT |2|::1|50000|", "EPRT |2|::|50000|"}
			}
			for _, cmd := range own {
				rc.cmd(200, "%s", cmd)
			}
		})
	}
}
