package scan

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/netip"
	"path"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/port21/port21/internal/ftp"
)

// fake is a scripted FTP server on a loopback port, for what no real server
// here can show: a backdoored version's banner, a PASV reply with an
// internal address, a hostile peer.
type fake struct {
	// banner is sent as is on connect (after the handshake for implicit).
	banner string
	// replies maps a command line, or its verb, to the wire text sent back.
	// The full line is looked up first, then the verb.
	replies map[string]string
	// tlsReplies, when set, are looked up before replies once the
	// connection is protected by TLS: a server that answers differently
	// over TLS.
	tlsReplies map[string]string
	// tls enables AUTH TLS (or implicit TLS) with this configuration.
	tls      *tls.Config
	implicit bool
	// delay is how long the server waits before its greeting, like one
	// doing a slow reverse DNS lookup.
	delay time.Duration
	// listing is sent on the data connection for LIST when its reply is
	// "data".
	listing string
	// mlsd is sent on the data connection for MLSD when its reply is
	// "data".
	mlsd string
	// storDirs, when set, are the only directories ("" the login one) where
	// STOR with reply "data" succeeds; elsewhere it is refused with 553.
	storDirs []string
	// hangUp lists command lines (or verbs) after whose reply the server
	// closes the connection, as vsftpd does after refusing anonymous with
	// force_anon_logins_ssl=YES.
	hangUp map[string]bool
	// hold maps command lines (or verbs) to a function called before their
	// reply is sent, as a server that answers late on purpose (vsftpd
	// after a refused PASS).
	hold map[string]func()
	// raw, when set, replaces the whole session: the hostile peers.
	raw func(net.Conn)
	// helloReply, when set, answers ClientHellos without extensions (the
	// scanner's hand-made ones) with its result instead of a handshake.
	helloReply func(version uint16, suites []uint16) []byte

	// maxConns, when set, is how many connections may be open at once;
	// one more is greeted with 421 and closed, as a server limiting
	// connections per address does.
	maxConns int

	ln    net.Listener
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns []net.Conn
	open  int      // connections open now
	seen  []string // every command line received, for assertions
}

func startFake(t testing.TB, f *fake) netip.AddrPort {
	t.Helper()
	return startFakeOn(t, f, "127.0.0.1:0")
}

// startFakeOn is startFake on a given loopback address.
func startFakeOn(t testing.TB, f *fake, addr string) netip.AddrPort {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	f.ln = ln
	f.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			f.mu.Lock()
			f.conns = append(f.conns, c)
			f.open++
			over := f.maxConns > 0 && f.open > f.maxConns
			f.mu.Unlock()
			f.wg.Go(func() {
				defer func() {
					f.mu.Lock()
					f.open--
					f.mu.Unlock()
				}()
				defer c.Close()
				if over {
					_, _ = io.WriteString(c, "421 Too many connections from your address.\r\n")
					return
				}
				_ = c.SetDeadline(time.Now().Add(20 * time.Second))
				if f.raw != nil {
					f.raw(c)
					return
				}
				f.session(c)
			})
		}
	})
	t.Cleanup(func() {
		ln.Close()
		f.mu.Lock()
		for _, c := range f.conns {
			c.Close()
		}
		f.mu.Unlock()
		f.wg.Wait()
	})
	return netip.MustParseAddrPort(ln.Addr().String())
}

func (f *fake) commands() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.seen...)
}

func (f *fake) session(c net.Conn) {
	var rw io.ReadWriter = c
	if f.implicit {
		tc := tls.Server(c, f.tls)
		if err := tc.Handshake(); err != nil {
			return
		}
		rw = tc
	}
	time.Sleep(f.delay)
	if _, err := io.WriteString(rw, f.banner); err != nil {
		return
	}
	r := ftp.NewReader(rw)
	protected := f.implicit
	var dataLn net.Listener
	defer func() {
		if dataLn != nil {
			dataLn.Close()
		}
	}()
	for {
		line, err := r.ReadLine()
		if err != nil {
			return
		}
		f.mu.Lock()
		f.seen = append(f.seen, line)
		f.mu.Unlock()
		verb, _, _ := strings.Cut(line, " ")
		verb = strings.ToUpper(verb)
		reply, ok := "", false
		if protected {
			if reply, ok = f.tlsReplies[line]; !ok {
				reply, ok = f.tlsReplies[verb]
			}
		}
		if !ok {
			reply, ok = f.replies[line]
		}
		if !ok {
			reply, ok = f.replies[verb]
		}
		switch {
		case verb == "QUIT":
			io.WriteString(rw, "221 Goodbye.\r\n")
			return
		case line == "AUTH TLS" && f.tls != nil && !f.implicit && !ok:
			io.WriteString(rw, "234 Proceed with negotiation.\r\n")
			pc := &peekConn{Conn: c}
			if f.helloReply != nil {
				rec, v, suites, bare := readHello(c)
				if rec == nil {
					return
				}
				if bare {
					c.Write(f.helloReply(v, suites))
					return
				}
				pc.buf = rec
			}
			tc := tls.Server(pc, f.tls)
			if err := tc.Handshake(); err != nil {
				return
			}
			rw = tc
			r.Reset(tc)
			protected = true
			continue
		case verb == "EPSV" && reply == "data":
			if dataLn != nil {
				dataLn.Close()
			}
			if dataLn, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
				return
			}
			reply = fmt.Sprintf("229 Entering Extended Passive Mode (|||%d|)\r\n", netip.MustParseAddrPort(dataLn.Addr().String()).Port())
		case verb == "STOR" && reply == "data" && dataLn != nil && f.storDirs != nil && !slices.Contains(f.storDirs, path.Dir("/" + line[5:])[1:]):
			reply = "553 Could not create file.\r\n"
		case verb == "MLSD" && reply == "data" && dataLn != nil:
			dc, err := dataLn.Accept()
			if err != nil {
				return
			}
			io.WriteString(rw, "150 Accepted data connection\r\n")
			io.WriteString(dc, f.mlsd)
			dc.Close()
			reply = "226 Transfer complete.\r\n"
		case verb == "LIST" && reply == "data" && dataLn != nil:
			dc, err := dataLn.Accept()
			if err != nil {
				return
			}
			io.WriteString(rw, "150 Here comes the directory listing.\r\n")
			io.WriteString(dc, f.listing)
			dc.Close()
			reply = "226 Directory send OK.\r\n"
		case verb == "STOR" && reply == "data" && dataLn != nil:
			dc, err := dataLn.Accept()
			if err != nil {
				return
			}
			io.WriteString(rw, "150 Ok to send data.\r\n")
			io.Copy(io.Discard, io.LimitReader(dc, 1<<20))
			dc.Close()
			reply = "226 Transfer complete.\r\n"
		case !ok:
			reply = "502 Command not implemented.\r\n"
		}
		if h := f.hold[line]; h != nil {
			h()
		} else if h := f.hold[verb]; h != nil {
			h()
		}
		if _, err := io.WriteString(rw, reply); err != nil {
			return
		}
		if f.hangUp[line] || f.hangUp[verb] {
			return
		}
	}
}

// validCert returns a self-signed ECDSA P-256 certificate for 127.0.0.1,
// valid from an hour ago to an hour from now.
func validCert(t testing.TB) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return testCert(t, key, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
}

// testCert returns a self-signed certificate for 127.0.0.1 with the given
// key and validity.
func testCert(t testing.TB, key any, notBefore, notAfter time.Time, names ...string) tls.Certificate {
	t.Helper()
	var pub any
	switch k := key.(type) {
	case *rsa.PrivateKey:
		pub = &k.PublicKey
	case *ecdsa.PrivateKey:
		pub = &k.PublicKey
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "fake ftp"},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     names,
	}
	if len(names) == 0 {
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func ecKey(t testing.TB) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// peekConn replays bytes already read before reading from the connection.
type peekConn struct {
	net.Conn
	buf []byte
}

func (p *peekConn) Read(b []byte) (int, error) {
	if len(p.buf) > 0 {
		n := copy(b, p.buf)
		p.buf = p.buf[n:]
		return n, nil
	}
	return p.Conn.Read(b)
}

// readHello reads one TLS record holding a ClientHello and reports its
// version, suites, and whether it has no extensions.
func readHello(c net.Conn) (rec []byte, version uint16, suites []uint16, bare bool) {
	hdr := make([]byte, 5)
	if _, err := io.ReadFull(c, hdr); err != nil {
		return nil, 0, nil, false
	}
	body := make([]byte, int(hdr[3])<<8|int(hdr[4]))
	if _, err := io.ReadFull(c, body); err != nil || len(body) < 39 {
		return nil, 0, nil, false
	}
	rec = append(hdr, body...)
	version = uint16(body[4])<<8 | uint16(body[5])
	p := 38
	p += 1 + int(body[p]) // session id
	n := int(body[p])<<8 | int(body[p+1])
	p += 2
	for i := 0; i+1 < n && p+i+1 < len(body); i += 2 {
		suites = append(suites, uint16(body[p+i])<<8|uint16(body[p+i+1]))
	}
	p += n
	p += 1 + int(body[p]) // compression methods
	return rec, version, suites, p >= len(body)
}

// serverHello builds a ServerHello record choosing version and suite.
func serverHello(version, suite uint16) []byte {
	body := []byte{2, 0, 0, 38, byte(version >> 8), byte(version)}
	body = append(body, make([]byte, 32)...)
	body = append(body, 0, byte(suite>>8), byte(suite), 0)
	return append([]byte{22, byte(version >> 8), byte(version), 0, byte(len(body))}, body...)
}
