package interop

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// FileZilla has no command line to drive, so this is a scripted client that
// behaves the way FileZilla 3.6x (GnuTLS) does on the wire, step by step:
//
//   - explicit FTPS (AUTH TLS first) or implicit FTPS (TLS from the first byte,
//     the port 990 style, TestImplicit), TLS 1.3 preferred;
//   - after login: SYST, FEAT, OPTS UTF8 ON, PBSZ 0, PROT P, PWD, TYPE I;
//   - every data connection resumes the control connection's TLS session,
//     and FileZilla closes it if it did not ("TLS session resumption on data
//     connection failed. Closing data connection."): so does this client;
//   - PASV on IPv4 and EPSV on IPv6 in passive mode, PORT and EPRT in active;
//   - listings with MLSD;
//   - uploads end with close_notify (gnutls_bye), then MFMT sets the
//     modification time ("preserve timestamps of transferred files");
//   - resumed downloads are REST + RETR, resumed uploads SIZE + APPE;
//   - QUIT, then close_notify on the control connection.
//
// It is FileZilla's protocol behaviour, not FileZilla: GnuTLS's own quirks are
// covered by lftp, which uses GnuTLS too.
func filezillaClient() *client {
	return &client{
		name:       "filezilla-like",
		missing:    func() string { return "" },
		cellSkip:   noCellSkip,
		stepSkip:   noStepSkip,
		sentPrefix: `^> `,
		run:        runFileZilla,
	}
}

// fzMtime is the modification time the client sets with MFMT after uploads.
var fzMtime = time.Date(2021, 3, 4, 5, 6, 7, 0, time.UTC)

func runFileZilla(ctx context.Context, c *cell, a action) (string, string, error) {
	f := &fzSession{c: c}
	type result struct {
		out string
		err error
	}
	done := make(chan result, 1)
	go func() {
		out, err := f.do(a)
		done <- result{out, err}
	}()
	select {
	case r := <-done:
		return r.out, f.transcript(), r.err
	case <-time.After(stepTimeout):
		f.abort()
		return "", f.transcript(), fmt.Errorf("timed out after %v", stepTimeout)
	}
}

// fzSession is one control connection and its dialogue.
type fzSession struct {
	c   *cell
	cfg *tls.Config

	mu   sync.Mutex
	log  strings.Builder
	conn net.Conn
	r    *bufio.Reader
}

func (f *fzSession) logf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fmt.Fprintf(&f.log, format+"\n", args...)
}

func (f *fzSession) transcript() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.log.String()
}

func (f *fzSession) abort() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.conn != nil {
		f.conn.Close()
	}
}

func (f *fzSession) setConn(conn net.Conn) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.conn = conn
	f.r = bufio.NewReader(conn)
}

// reply reads one reply, multi-line ones included.
func (f *fzSession) reply() (int, string, error) {
	f.conn.SetReadDeadline(time.Now().Add(stepTimeout))
	line, err := f.r.ReadString('\n')
	if err != nil {
		return 0, "", fmt.Errorf("reading a reply: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	f.logf("< %s", line)
	if len(line) < 4 {
		return 0, "", fmt.Errorf("malformed reply %q", line)
	}
	code, err := strconv.Atoi(line[:3])
	if err != nil {
		return 0, "", fmt.Errorf("malformed reply %q", line)
	}
	text := line[4:]
	if line[3] == '-' {
		for {
			l, err := f.r.ReadString('\n')
			if err != nil {
				return 0, "", fmt.Errorf("reading a reply: %w", err)
			}
			l = strings.TrimRight(l, "\r\n")
			f.logf("< %s", l)
			text += "\n" + l
			if strings.HasPrefix(l, line[:3]+" ") {
				break
			}
		}
	}
	return code, text, nil
}

// cmd sends a command and reads its reply; want is the first digit a
// success has (2 or 3), 0 to accept anything.
func (f *fzSession) cmd(want int, format string, args ...any) (int, string, error) {
	line := fmt.Sprintf(format, args...)
	if strings.HasPrefix(line, "PASS ") {
		f.logf("> PASS ****")
	} else {
		f.logf("> %s", line)
	}
	f.conn.SetWriteDeadline(time.Now().Add(stepTimeout))
	if _, err := io.WriteString(f.conn, line+"\r\n"); err != nil {
		return 0, "", err
	}
	code, text, err := f.reply()
	if err == nil && want != 0 && code/100 != want {
		err = fmt.Errorf("%s: %d %s", strings.Fields(line)[0], code, text)
	}
	return code, text, err
}

func (f *fzSession) do(a action) (out string, err error) {
	c := f.c
	if c.tls() {
		pemBytes, err := os.ReadFile(c.srv.certFile())
		if err != nil {
			return "", err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pemBytes) {
			return "", errors.New("no certificate in cert.pem")
		}
		f.cfg = &tls.Config{ServerName: "localhost", RootCAs: pool, MinVersion: tls.VersionTLS12,
			ClientSessionCache: tls.NewLRUClientSessionCache(4)}
		if c.tls12 {
			f.cfg.MaxVersion = tls.VersionTLS12
		}
	}
	raw, err := net.DialTimeout("tcp", net.JoinHostPort(c.fam.host, strconv.Itoa(c.port())), stepTimeout)
	if err != nil {
		return "", err
	}
	defer raw.Close()
	if c.implicit {
		f.setConn(tls.Client(raw, f.cfg))
	} else {
		f.setConn(raw)
	}
	if _, _, err := f.reply(); err != nil {
		return "", err
	}
	if c.tls() && !c.implicit {
		if _, _, err := f.cmd(2, "AUTH TLS"); err != nil {
			return "", err
		}
		f.setConn(tls.Client(raw, f.cfg))
	}
	if tc, ok := f.conn.(*tls.Conn); ok {
		if err := tc.Handshake(); err != nil {
			return "", fmt.Errorf("TLS handshake: %w", err)
		}
		f.logf("* TLS %s on the control connection", tls.VersionName(tc.ConnectionState().Version))
	}
	if _, _, err := f.cmd(3, "USER %s", a.user.name); err != nil {
		return "", err
	}
	if _, _, err := f.cmd(2, "PASS %s", a.user.password); err != nil {
		return "", err
	}
	for _, setup := range []string{"SYST", "FEAT", "OPTS UTF8 ON"} {
		if _, _, err := f.cmd(0, "%s", setup); err != nil {
			return "", err
		}
	}
	if c.tls() {
		if _, _, err := f.cmd(2, "PBSZ 0"); err != nil {
			return "", err
		}
		if _, _, err := f.cmd(2, "PROT P"); err != nil {
			return "", err
		}
	}
	for _, setup := range []string{"PWD", "TYPE I"} {
		if _, _, err := f.cmd(2, "%s", setup); err != nil {
			return "", err
		}
	}
	defer func() {
		if _, _, qerr := f.cmd(2, "QUIT"); qerr != nil && err == nil {
			err = qerr
		}
		if tc, ok := f.conn.(*tls.Conn); ok {
			tc.Close() // close_notify
		}
	}()

	home := c.srv.home(a.user.name)
	switch a.step {
	case stepList:
		var b strings.Builder
		err := f.transfer("MLSD", nil, &b)
		return b.String(), err
	case stepUpload, stepResumeUpload:
		src, err := os.Open(a.local)
		if err != nil {
			return "", err
		}
		defer src.Close()
		command := "STOR " + a.remote
		if a.step == stepResumeUpload {
			_, text, err := f.cmd(2, "SIZE %s", a.remote)
			if err != nil {
				return "", err
			}
			have, err := strconv.ParseInt(strings.TrimSpace(text), 10, 64)
			if err != nil {
				return "", fmt.Errorf("SIZE reply %q: %w", text, err)
			}
			if _, err := src.Seek(have, io.SeekStart); err != nil {
				return "", err
			}
			command = "APPE " + a.remote
		}
		if err := f.transfer(command, src, nil); err != nil {
			return "", err
		}
		if _, _, err := f.cmd(2, "MFMT %s %s", fzMtime.Format("20060102150405"), a.remote); err != nil {
			return "", err
		}
		if fi, err := os.Stat(filepath.Join(home, a.remote)); err != nil || !fi.ModTime().Equal(fzMtime) {
			return "", fmt.Errorf("after MFMT the file on the server has modification time %v (%v), want %v", fi.ModTime(), err, fzMtime)
		}
		return "", nil
	case stepDownload, stepResumeDownload:
		flags := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
		if a.step == stepResumeDownload {
			flags = os.O_WRONLY | os.O_APPEND
		}
		dst, err := os.OpenFile(a.local, flags, 0o600)
		if err != nil {
			return "", err
		}
		defer dst.Close()
		if a.step == stepResumeDownload {
			fi, err := dst.Stat()
			if err != nil {
				return "", err
			}
			if _, _, err := f.cmd(3, "REST %d", fi.Size()); err != nil {
				return "", err
			}
		}
		return "", f.transfer("RETR "+a.remote, nil, dst)
	case stepMkdir:
		_, _, err := f.cmd(2, "MKD %s", a.remote)
		return "", err
	case stepRename:
		if _, _, err := f.cmd(3, "RNFR %s", a.remote); err != nil {
			return "", err
		}
		_, _, err := f.cmd(2, "RNTO %s", a.to)
		return "", err
	case stepDelete:
		_, _, err := f.cmd(2, "DELE %s", a.remote)
		return "", err
	case stepRmdir:
		_, _, err := f.cmd(2, "RMD %s", a.remote)
		return "", err
	}
	return "", fmt.Errorf("filezilla-like: no step %q", a.step)
}

var (
	pasvReply = regexp.MustCompile(`\((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)`)
	epsvReply = regexp.MustCompile(`\(\|\|\|(\d+)\|\)`)
)

// transfer runs one data command: upload from src, or download to dst.
func (f *fzSession) transfer(command string, src io.Reader, dst io.Writer) error {
	c := f.c
	var data net.Conn
	var ln net.Listener
	if c.mode == "passive" {
		var port int
		if c.fam == ipv4 {
			_, text, err := f.cmd(2, "PASV")
			if err != nil {
				return err
			}
			m := pasvReply.FindStringSubmatch(text)
			if m == nil {
				return fmt.Errorf("cannot parse the PASV reply %q", text)
			}
			hi, _ := strconv.Atoi(m[5])
			lo, _ := strconv.Atoi(m[6])
			port = hi<<8 | lo
		} else {
			_, text, err := f.cmd(2, "EPSV")
			if err != nil {
				return err
			}
			m := epsvReply.FindStringSubmatch(text)
			if m == nil {
				return fmt.Errorf("cannot parse the EPSV reply %q", text)
			}
			port, _ = strconv.Atoi(m[1])
		}
		// FileZilla uses the control connection's peer address, not the
		// one in the PASV reply.
		conn, err := net.DialTimeout("tcp", net.JoinHostPort(c.fam.host, strconv.Itoa(port)), stepTimeout)
		if err != nil {
			return err
		}
		data = conn
	} else {
		local := f.conn.LocalAddr().(*net.TCPAddr)
		var err error
		ln, err = net.Listen("tcp", net.JoinHostPort(local.IP.String(), "0"))
		if err != nil {
			return err
		}
		defer ln.Close()
		port := ln.Addr().(*net.TCPAddr).Port
		if c.fam == ipv4 {
			ip := local.IP.To4()
			_, _, err = f.cmd(2, "PORT %d,%d,%d,%d,%d,%d", ip[0], ip[1], ip[2], ip[3], port>>8, port&0xff)
		} else {
			_, _, err = f.cmd(2, "EPRT |2|%s|%d|", local.IP, port)
		}
		if err != nil {
			return err
		}
	}
	if data != nil {
		defer data.Close()
	}
	if _, _, err := f.cmd(1, "%s", command); err != nil {
		return err
	}
	if ln != nil {
		ln.(*net.TCPListener).SetDeadline(time.Now().Add(stepTimeout))
		conn, err := ln.Accept()
		if err != nil {
			return fmt.Errorf("accepting the data connection: %w", err)
		}
		data = conn
		defer data.Close()
	}
	data.SetDeadline(time.Now().Add(stepTimeout))
	stream := data
	if c.tls() {
		tc := tls.Client(data, f.cfg)
		if err := tc.Handshake(); err != nil {
			return fmt.Errorf("data connection TLS handshake: %w", err)
		}
		cs := tc.ConnectionState()
		if !cs.DidResume {
			return errors.New("TLS session resumption on data connection failed. Closing data connection. (FileZilla's check)")
		}
		f.logf("* data connection: %s, session resumed", tls.VersionName(cs.Version))
		stream = tc
	}
	var n int64
	var err error
	if src != nil {
		n, err = io.Copy(stream, src)
	} else {
		n, err = io.Copy(dst, stream)
	}
	f.logf("* %d bytes", n)
	if err != nil {
		return fmt.Errorf("data connection: %w", err)
	}
	// tls.Conn.Close sends close_notify before the FIN.
	if err := stream.Close(); err != nil {
		return fmt.Errorf("closing the data connection: %w", err)
	}
	code, text, err := f.reply()
	if err == nil && code/100 != 2 {
		err = fmt.Errorf("%s: %d %s", strings.Fields(command)[0], code, text)
	}
	return err
}
