package server

import (
	"net"
	"syscall"
)

// quickAck asks Linux to acknowledge at once instead of delaying the ACK.
// Clients with Nagle's algorithm on (OpenSSL and GnuTLS clients: lftp, curl,
// ftplib) hold each small write until the one before is acknowledged, so a
// delayed ACK (40 ms) stalls every small TLS transfer on its handshake and
// close. The mode is not permanent: the kernel leaves it as it sees fit, so
// stallConn asks again on the reads where it matters.
func quickAck(c *net.TCPConn) {
	rc, err := c.SyscallConn()
	if err != nil {
		return
	}
	rc.Control(func(fd uintptr) {
		syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_QUICKACK, 1)
	})
}
