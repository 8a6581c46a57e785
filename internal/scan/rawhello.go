package scan

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"

	"golang.org/x/crypto/cryptobyte"

	"github.com/port21/port21/internal/finding"
	"github.com/port21/port21/internal/ftp"
)

// crypto/tls cannot offer SSL 3.0, or the NULL, EXPORT, anonymous and
// single-DES cipher suites. Whether a server would accept them is told by
// its reply to a ClientHello alone, so the scanner writes that hello by
// hand and reads only the ServerHello: no key exchange is ever done, and the
// connection is closed after it.

// versionSSL30 is SSL 3.0's protocol version.
const versionSSL30 = 0x0300

// sslv3Suites are the suites SSL 3.0 servers commonly chose.
var sslv3Suites = []uint16{0x000a, 0x002f, 0x0035, 0x0005, 0x0004, 0x0009, 0x0016, 0x0033, 0x0039}

// brokenSuites are suites no server should accept: NULL encryption, EXPORT
// grade, anonymous Diffie-Hellman (no authentication) and single DES.
var brokenSuites = map[uint16]string{
	0x0001: "TLS_RSA_WITH_NULL_MD5", 0x0002: "TLS_RSA_WITH_NULL_SHA", 0x003b: "TLS_RSA_WITH_NULL_SHA256",
	0x0003: "TLS_RSA_EXPORT_WITH_RC4_40_MD5", 0x0006: "TLS_RSA_EXPORT_WITH_RC2_CBC_40_MD5",
	0x0008: "TLS_RSA_EXPORT_WITH_DES40_CBC_SHA", 0x0014: "TLS_DHE_RSA_EXPORT_WITH_DES40_CBC_SHA",
	0x0009: "TLS_RSA_WITH_DES_CBC_SHA", 0x0015: "TLS_DHE_RSA_WITH_DES_CBC_SHA",
	0x0018: "TLS_DH_anon_WITH_RC4_128_MD5", 0x001b: "TLS_DH_anon_WITH_3DES_EDE_CBC_SHA",
	0x0034: "TLS_DH_anon_WITH_AES_128_CBC_SHA", 0x003a: "TLS_DH_anon_WITH_AES_256_CBC_SHA",
	0xc015: "TLS_ECDH_anon_WITH_NULL_SHA", 0xc018: "TLS_ECDH_anon_WITH_AES_128_CBC_SHA",
}

// clientHello returns a TLS record holding a minimal ClientHello for
// version offering suites, with no extensions (none are needed to learn
// whether the server accepts the version and a suite).
func clientHello(version uint16, suites []uint16) ([]byte, error) {
	var random [32]byte
	if _, err := rand.Read(random[:]); err != nil {
		return nil, err
	}
	var hs cryptobyte.Builder
	hs.AddUint8(1) // client_hello
	hs.AddUint24LengthPrefixed(func(b *cryptobyte.Builder) {
		b.AddUint16(version)
		b.AddBytes(random[:])
		b.AddUint8(0) // no session id
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
			for _, s := range suites {
				b.AddUint16(s)
			}
		})
		b.AddUint8(1) // one compression method: null
		b.AddUint8(0)
	})
	body, err := hs.Bytes()
	if err != nil {
		return nil, err
	}
	rec := []byte{22, byte(version >> 8), byte(version), 0, 0}
	binary.BigEndian.PutUint16(rec[3:], uint16(len(body)))
	return append(rec, body...), nil
}

// parseServerHello reads the server's first record and, if it is a
// ServerHello, returns the version and suite it chose. An alert, or
// anything else, means the offer was refused.
func parseServerHello(r io.Reader) (version, suite uint16, ok bool) {
	var hdr [5]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil || hdr[0] != 22 {
		return 0, 0, false
	}
	n := int(binary.BigEndian.Uint16(hdr[3:]))
	if n < 4 || n > 1<<14 {
		return 0, 0, false
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return 0, 0, false
	}
	s := cryptobyte.String(body)
	var typ uint8
	var hello, random, sid cryptobyte.String
	if !s.ReadUint8(&typ) || typ != 2 || !s.ReadUint24LengthPrefixed(&hello) ||
		!hello.ReadUint16(&version) || !hello.ReadBytes((*[]byte)(&random), 32) ||
		!hello.ReadUint8LengthPrefixed(&sid) || !hello.ReadUint16(&suite) {
		return 0, 0, false
	}
	return version, suite, true
}

// rawHandshake opens a connection (after AUTH TLS for explicit FTPS), sends
// a hand-made ClientHello and returns the server's choice.
func (a *audit) rawHandshake(version uint16, suites []uint16) (gotVersion, gotSuite uint16, ok bool, ev finding.Evidence, err error) {
	var c *conn
	if a.implicit {
		raw, err := a.dial()
		if err != nil {
			return 0, 0, false, ev, fmt.Errorf("TLS probe connection: %w", err)
		}
		c = newConn(a.ctx, raw)
	} else if c, _, err = a.open(false, nil); err != nil {
		return 0, 0, false, ev, fmt.Errorf("TLS probe connection: %w", err)
	}
	defer c.close()
	raw := c.raw
	if !a.implicit {
		var r ftp.Reply
		r, ev, err = c.cmd("AUTH TLS")
		if err != nil || r.Code != ftp.CodeAuthOK {
			return 0, 0, false, ev, err
		}
	}
	hello, err := clientHello(version, suites)
	if err != nil {
		return 0, 0, false, ev, err
	}
	if _, err := raw.Write(hello); err != nil {
		return 0, 0, false, ev, nil
	}
	gotVersion, gotSuite, ok = parseServerHello(&capReader{r: raw, n: 1 << 15})
	return gotVersion, gotSuite, ok, ev, nil
}
