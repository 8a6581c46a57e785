package interop

import (
	"bytes"
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
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/jlaffaye/ftp"
)

// allClients returns the matrix's clients in the order of the table.
func allClients() []*client {
	return []*client{curlClient(), lftpClient(), ftplibClient(false), ftplibClient(true), rcloneClient(), jlaffayeClient(),
		basicFTPClient(), wgetClient(), phpClient(), tnftpClient(), netFTPClient(), filezillaClient(),
		ftputilClient(false), ftputilClient(true), commonsNetClient()}
}

func noCellSkip(*cell) string         { return "" }
func noStepSkip(*cell, string) string { return "" }

// ---- curl ------------------------------------------------------------------

func curlClient() *client {
	// curl 7.87.0 to 7.88.x lost the TLS filter of active-mode data
	// connections: it accepts the server's connection and never starts the
	// TLS handshake, so the transfer hangs until a time-out (curl issue
	// #10666, fixed in 8.0.0 by pull request #10669). Debian 12 ships 7.88.1.
	activeTLSBroken := sync.OnceValue(func() string {
		r := runCmd(context.Background(), nil, "", "curl", "--version")
		if r.err != nil {
			return ""
		}
		m := regexp.MustCompile(`^curl (\d+)\.(\d+)\.(\d+)`).FindStringSubmatch(r.stdout)
		if m == nil {
			return ""
		}
		v := [3]int{}
		for i := range v {
			v[i], _ = strconv.Atoi(m[i+1])
		}
		if v[0] == 7 && (v[1] == 87 || v[1] == 88) {
			return fmt.Sprintf("curl %d.%d.%d never starts TLS on active-mode data connections (curl bug #10666, fixed in 8.0.0)", v[0], v[1], v[2])
		}
		return ""
	})
	return &client{
		name:     "curl",
		missing:  func() string { return missingClient("curl", "curl") },
		cellSkip: noCellSkip,
		stepSkip: func(c *cell, step string) string {
			if c.mode == "active" && c.tls() && slices.Contains(dataSteps, step) {
				return activeTLSBroken()
			}
			return ""
		},
		sentPrefix: `^> `,
		knownBug:   curlTLS12NoTicket,
		run:        runCurl,
	}
}

// curlTLS12NoTicket recognizes curl refused over TLS 1.2 for want of
// session resumption. curl with OpenSSL sends no session_ticket extension
// in a TLS 1.2 ClientHello (it resumes by session ID, a server-side cache),
// and Go's crypto/tls server resumes TLS 1.2 by ticket only, so the data
// connection gets a full handshake and port21 refuses it (522). With TLS
// 1.3, curl's default, it resumes with a PSK ticket and works.
func curlTLS12NoTicket(c *cell, transcript string) string {
	if c.tls12 && (strings.Contains(transcript, "< 522 ") || strings.Contains(c.srv.log.String(), `"reason":"not-resumed"`)) {
		return "curl (OpenSSL) offers no TLS 1.2 session ticket, only session-ID resumption, which Go's crypto/tls server lacks"
	}
	return ""
}

// curlUsesPASV: on IPv4 in passive mode, some steps use PASV
// (--disable-epsv) and the others curl's default EPSV, so both are covered.
var curlUsesPASV = []string{stepList, stepDownload, stepResumeDownload}

func runCurl(ctx context.Context, c *cell, a action) (string, string, error) {
	argv := []string{"curl", "-sS", "-v", "--max-time", strconv.Itoa(int(stepTimeout / time.Second)),
		"--user", a.user.name + ":" + a.user.password}
	if c.tls() {
		argv = append(argv, "--ssl-reqd", "--cacert", c.srv.certFile())
		if c.tls12 {
			argv = append(argv, "--tls-max", "1.2")
		}
	}
	if c.mode == "active" {
		argv = append(argv, "--ftp-port", c.fam.host)
	} else {
		argv = append(argv, "--ftp-pasv")
		if c.fam == ipv4 && slices.Contains(curlUsesPASV, a.step) {
			argv = append(argv, "--disable-epsv")
		}
	}
	scheme := "ftp"
	if c.implicit {
		scheme = "ftps" // curl: ftps:// is implicit FTPS
	}
	base := scheme + "://" + net.JoinHostPort(c.fam.host, strconv.Itoa(c.port())) + "/"
	// --head (-I) on a directory URL logs in, runs the -Q commands and opens
	// no data connection.
	switch a.step {
	case stepList:
		argv = append(argv, base)
	case stepUpload:
		argv = append(argv, "-T", a.local, base+a.remote)
	case stepDownload:
		argv = append(argv, "-o", a.local, base+a.remote)
	case stepResumeDownload:
		argv = append(argv, "-C", "-", "-o", a.local, base+a.remote)
	case stepResumeUpload:
		argv = append(argv, "-C", "-", "-T", a.local, base+a.remote)
	case stepMkdir:
		argv = append(argv, "-I", "-Q", "MKD "+a.remote, base)
	case stepRename:
		argv = append(argv, "-I", "-Q", "-RNFR "+a.remote, "-Q", "-RNTO "+a.to, base)
	case stepDelete:
		argv = append(argv, "-I", "-Q", "-DELE "+a.remote, base)
	case stepRmdir:
		argv = append(argv, "-I", "-Q", "RMD "+a.remote, base)
	default:
		return "", "", fmt.Errorf("curl: no step %q", a.step)
	}
	r := runCmd(ctx, c.env(), "", argv...)
	return r.stdout, r.transcript(), r.err
}

// ---- lftp ------------------------------------------------------------------

func lftpClient() *client {
	return &client{
		name:       "lftp",
		missing:    func() string { return missingClient("lftp", "lftp") },
		cellSkip:   noCellSkip,
		stepSkip:   noStepSkip,
		sentPrefix: `^---> `,
		knownBug:   lftpLoopbackEPRT,
		run:        runLftp,
	}
}

// lftpLoopbackEPRT recognizes lftp's EPRT to the unspecified address. When
// the server is a loopback address, lftp leaves its active-mode data socket
// unbound (ftp:bind-data-socket only applies to non-loopback peers); for
// PORT it then puts the control connection's local address in, but for
// EPRT it sends the socket's address as is: EPRT |2|::|port|. That is not
// the client's address, so port21 refuses it (501), and lftp gives up.
// Off loopback, lftp binds the socket and sends its real address.
func lftpLoopbackEPRT(c *cell, transcript string) string {
	if c.fam == ipv6 && c.mode == "active" && strings.Contains(transcript, "---> EPRT |2|::|") &&
		regexp.MustCompile(`<--- 50\d `).MatchString(transcript) {
		return "lftp sends EPRT |2|::|port| (the unspecified address) when the server is on loopback, and port21 refuses it"
	}
	return ""
}

func runLftp(ctx context.Context, c *cell, a action) (string, string, error) {
	passive := "on"
	if c.mode == "active" {
		passive = "off"
	}
	script := []string{
		"set cmd:fail-exit yes",
		"set net:max-retries 1",
		"set net:timeout 20",
		"set net:reconnect-interval-base 1",
		"set xfer:clobber on",
		"set ftp:passive-mode " + passive,
		// Never fall back to passive mode behind the test's back.
		"set ftp:auto-passive-mode off",
	}
	if c.tls() {
		script = append(script,
			"set ftp:ssl-force true",
			"set ftp:ssl-protect-data true",
			"set ftp:ssl-protect-list true",
			"set ssl:verify-certificate yes",
			"set ssl:ca-file "+c.srv.certFile())
		if c.tls12 {
			// Debian's lftp uses GnuTLS: a priority string.
			script = append(script, "set ssl:priority NORMAL:-VERS-TLS1.3")
		}
	} else {
		script = append(script, "set ftp:ssl-allow false")
	}
	scheme := "ftp"
	if c.implicit {
		scheme = "ftps" // lftp: ftps:// is implicit FTPS
	}
	script = append(script, fmt.Sprintf("open -u %s,%s %s://%s", a.user.name, a.user.password, scheme,
		net.JoinHostPort(c.fam.host, strconv.Itoa(c.port()))))
	switch a.step {
	case stepList:
		script = append(script, "ls")
	case stepUpload:
		script = append(script, "put "+a.local+" -o "+a.remote)
	case stepDownload:
		script = append(script, "get "+a.remote+" -o "+a.local)
	case stepResumeDownload:
		script = append(script, "get -c "+a.remote+" -o "+a.local)
	case stepResumeUpload:
		script = append(script, "put -c "+a.local+" -o "+a.remote)
	case stepMkdir:
		script = append(script, "mkdir "+a.remote)
	case stepRename:
		script = append(script, "mv "+a.remote+" "+a.to)
	case stepDelete:
		script = append(script, "rm "+a.remote)
	case stepRmdir:
		script = append(script, "rmdir "+a.remote)
	default:
		return "", "", fmt.Errorf("lftp: no step %q", a.step)
	}
	script = append(script, "bye")
	r := runCmd(ctx, c.env(), "", "lftp", "-d", "-c", strings.Join(script, "; "))
	return r.stdout, r.transcript(), r.err
}

// ---- Python ftplib ---------------------------------------------------------

// python3 is Debian's interpreter: ftplib is in its standard library.
const python3 = "/usr/bin/python3"

func ftplibScript() string {
	p, _ := filepath.Abs(filepath.Join("testdata", "ftplib_client.py"))
	return p
}

// ftplibClient is Python's ftplib. With stock false it uses the script's
// SessionReusingFTP_TLS, which resumes the control connection's TLS session
// on data connections, against an ordinary account. With stock true it uses
// ftplib.FTP_TLS as shipped, which cannot: against an account created with
// --tls-reuse-optional it must work, and against an ordinary account it must
// be refused with 522 (stepRefused).
func ftplibClient(stock bool) *client {
	cl := &client{
		name:       "ftplib",
		missing:    func() string { return missingClient(python3, "python3") },
		cellSkip:   noCellSkip,
		stepSkip:   noStepSkip,
		sentPrefix: `^\*cmd\* '`,
	}
	tlsMode := "reuse"
	if stock {
		cl.name = "ftplib-stock"
		tlsMode = "stock"
		cl.user = func() account { return newAccount("carol", "--tls-reuse-optional") }
		cl.refusal = true
		cl.cellSkip = func(c *cell) string {
			if !c.tls() {
				return "plain FTP is ftplib.FTP either way: see the ftplib rows"
			}
			return ""
		}
	}
	cl.run = func(ctx context.Context, c *cell, a action) (string, string, error) {
		mode := tlsMode
		if !c.tls() {
			mode = "none"
		}
		return runFtplib(ctx, c, a, mode)
	}
	return cl
}

func runFtplib(ctx context.Context, c *cell, a action, tlsMode string) (string, string, error) {
	argv := append([]string{python3, ftplibScript()}, scriptStepArgs(c, a, tlsMode)...)
	r := runCmd(ctx, c.env(), "", argv...)
	return r.stdout, r.transcript(), r.err
}

// scriptStepArgs are the arguments every step script in testdata takes
// (ftplib_client.py, basicftp_client.js, php_client.php, netftp_client.pl):
// where to connect, as whom, how, and the step's names.
func scriptStepArgs(c *cell, a action, tlsMode string) []string {
	argv := []string{
		"--host", c.fam.host, "--port", strconv.Itoa(c.port()),
		"--user", a.user.name, "--password", a.user.password,
		"--tls", tlsMode, "--mode", c.mode, "--step", a.step,
		"--timeout", strconv.Itoa(int(stepTimeout/time.Second) - 5)}
	if tlsMode != "none" {
		argv = append(argv, "--cafile", c.srv.certFile())
		if c.tls12 {
			argv = append(argv, "--tls-max", "1.2")
		}
		if c.implicit {
			argv = append(argv, "--implicit")
		}
	}
	if a.remote != "" {
		argv = append(argv, "--remote", a.remote)
	}
	if a.local != "" {
		argv = append(argv, "--local", a.local)
	}
	if a.to != "" {
		argv = append(argv, "--new", a.to)
	}
	return argv
}

// ---- rclone ----------------------------------------------------------------

func rcloneClient() *client {
	return &client{
		name:    "rclone",
		missing: func() string { return missingClient("rclone", "rclone") },
		cellSkip: func(c *cell) string {
			if c.mode == "active" {
				return "rclone has no active mode (PORT/EPRT)"
			}
			return ""
		},
		stepSkip: func(c *cell, step string) string {
			if step == stepResumeDownload || step == stepResumeUpload {
				return "rclone cannot resume FTP transfers (it sends whole files)"
			}
			return ""
		},
		sentPrefix: `FTP Tx: "`,
		knownBug:   rcloneNoEMS,
		run:        runRclone,
	}
}

// rcloneNoEMS recognizes rclone refused over TLS 1.2 for want of Extended
// Master Secret (RFC 7627), which port21 requires of TLS 1.2 clients.
// Debian's rclone 1.60 is built with Go 1.19, whose TLS client has no EMS
// (Go added it in 1.21). With TLS 1.3 (rclone's default) this does not
// arise.
func rcloneNoEMS(c *cell, transcript string) string {
	if c.tls12 && strings.Contains(c.srv.log.String(), "Extended Master Secret") {
		return "rclone's TLS 1.2 has no Extended Master Secret (built with Go < 1.21), which port21 requires"
	}
	return ""
}

// rcloneArgs returns rclone's global flags for an on-the-fly :ftp: remote.
// The certificate is verified, not skipped: SSL_CERT_FILE (cell.env) makes
// the server's certificate rclone's only root.
func rcloneArgs(ctx context.Context, c *cell, user account) ([]string, string, error) {
	r := runCmd(ctx, nil, "", "rclone", "obscure", user.password)
	if r.err != nil {
		return nil, r.transcript(), r.err
	}
	argv := []string{"rclone", "-vv", "--dump", "headers",
		"--retries", "1", "--low-level-retries", "1", "--contimeout", "10s", "--timeout", "20s",
		// rclone 1.60 joins host and port with a bare ":", so IPv6 needs
		// the brackets in the host.
		"--ftp-host", c.fam.urlHost(), "--ftp-port", strconv.Itoa(c.srv.port),
		"--ftp-user", user.name, "--ftp-pass", strings.TrimSpace(r.stdout)}
	if c.tls() {
		argv = append(argv, "--ftp-explicit-tls")
		if c.tls12 {
			argv = append(argv, "--ftp-disable-tls13")
		}
	}
	return argv, "", nil
}

func runRclone(ctx context.Context, c *cell, a action) (string, string, error) {
	argv, tr, err := rcloneArgs(ctx, c, a.user)
	if err != nil {
		return "", tr, err
	}
	remote := func(p string) string { return ":ftp:" + p }
	switch a.step {
	case stepList:
		argv = append(argv, "lsf", remote(""))
	case stepUpload:
		argv = append(argv, "copyto", a.local, remote(a.remote))
	case stepDownload:
		argv = append(argv, "copyto", remote(a.remote), a.local)
	case stepMkdir:
		argv = append(argv, "mkdir", remote(a.remote))
	case stepRename:
		argv = append(argv, "moveto", remote(a.remote), remote(a.to))
	case stepDelete:
		argv = append(argv, "deletefile", remote(a.remote))
	case stepRmdir:
		argv = append(argv, "rmdir", remote(a.remote))
	default:
		return "", "", fmt.Errorf("rclone: no step %q", a.step)
	}
	r := runCmd(ctx, c.env(), "", argv...)
	return r.stdout, r.transcript(), r.err
}

// ---- github.com/jlaffaye/ftp -----------------------------------------------

func jlaffayeClient() *client {
	return &client{
		name:    "jlaffaye",
		missing: func() string { return "" },
		cellSkip: func(c *cell) string {
			if c.mode == "active" {
				return "github.com/jlaffaye/ftp has no active mode"
			}
			return ""
		},
		stepSkip:   noStepSkip,
		sentPrefix: `^`,
		run:        runJlaffaye,
	}
}

// runJlaffaye does one action with the Go library, in process.
func runJlaffaye(ctx context.Context, c *cell, a action) (out, transcript string, err error) {
	var debug textOnly
	// The library has no deadline for a whole dialogue, so the action runs
	// in a goroutine that is abandoned (the server's data time-out ends it)
	// when it overruns stepTimeout.
	type result struct {
		out string
		err error
	}
	done := make(chan result, 1)
	go func() {
		out, err := jlaffayeAction(ctx, c, a, &debug)
		done <- result{out, err}
	}()
	select {
	case r := <-done:
		return r.out, debug.String(), r.err
	case <-time.After(stepTimeout):
		return "", debug.String(), fmt.Errorf("timed out after %v", stepTimeout)
	}
}

func jlaffayeAction(ctx context.Context, c *cell, a action, debug io.Writer) (out string, err error) {
	opts := []ftp.DialOption{ftp.DialWithContext(ctx), ftp.DialWithTimeout(stepTimeout), ftp.DialWithDebugOutput(debug)}
	if c.tls() {
		pemBytes, err := os.ReadFile(c.srv.certFile())
		if err != nil {
			return "", err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pemBytes) {
			return "", errors.New("no certificate in cert.pem")
		}
		cfg := &tls.Config{
			ServerName: "localhost",
			RootCAs:    pool,
			// The cache is what lets data connections resume the control
			// connection's session.
			ClientSessionCache: tls.NewLRUClientSessionCache(8),
		}
		if c.tls12 {
			cfg.MaxVersion = tls.VersionTLS12
		}
		opts = append(opts, ftp.DialWithExplicitTLS(cfg))
	}
	conn, err := ftp.Dial(c.srv.addr(), opts...)
	if err != nil {
		return "", err
	}
	defer func() {
		if qerr := conn.Quit(); qerr != nil && err == nil {
			err = fmt.Errorf("QUIT: %w", qerr)
		}
	}()
	if err := conn.Login(a.user.name, a.user.password); err != nil {
		return "", err
	}
	switch a.step {
	case stepList:
		entries, err := conn.List("")
		if err != nil {
			return "", err
		}
		var b strings.Builder
		for _, e := range entries {
			fmt.Fprintf(&b, "%s %d %s\n", e.Type, e.Size, e.Name)
		}
		return b.String(), nil
	case stepUpload:
		f, err := os.Open(a.local)
		if err != nil {
			return "", err
		}
		defer f.Close()
		return "", conn.Stor(a.remote, f)
	case stepDownload, stepResumeDownload:
		flags := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
		if a.step == stepResumeDownload {
			flags = os.O_WRONLY | os.O_APPEND
		}
		f, err := os.OpenFile(a.local, flags, 0o600)
		if err != nil {
			return "", err
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil {
			return "", err
		}
		resp, err := conn.RetrFrom(a.remote, uint64(fi.Size()))
		if err != nil {
			return "", err
		}
		_, cerr := io.Copy(f, resp)
		if err := resp.Close(); err != nil && cerr == nil {
			cerr = err
		}
		return "", cerr
	case stepResumeUpload:
		have, err := conn.FileSize(a.remote)
		if err != nil {
			return "", err
		}
		f, err := os.Open(a.local)
		if err != nil {
			return "", err
		}
		defer f.Close()
		if _, err := f.Seek(have, io.SeekStart); err != nil {
			return "", err
		}
		return "", conn.StorFrom(a.remote, f, uint64(have))
	case stepMkdir:
		return "", conn.MakeDir(a.remote)
	case stepRename:
		return "", conn.Rename(a.remote, a.to)
	case stepDelete:
		return "", conn.Delete(a.remote)
	case stepRmdir:
		return "", conn.RemoveDir(a.remote)
	}
	return "", fmt.Errorf("jlaffaye: no step %q", a.step)
}

// textOnly keeps the protocol dialogue of jlaffaye's debug output and
// replaces file data (which it also copies there) with a byte count.
type textOnly struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (w *textOnly) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if isDialogue(p) {
		w.buf.Write(p)
	} else {
		fmt.Fprintf(&w.buf, "[%d bytes of data]\n", len(p))
	}
	return len(p), nil
}

func (w *textOnly) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// isDialogue reports whether p looks like FTP control lines: printable
// text only.
func isDialogue(p []byte) bool {
	if len(p) > 4096 || !utf8.Valid(p) {
		return false
	}
	for _, b := range p {
		if b < 0x20 && b != '\r' && b != '\n' && b != '\t' {
			return false
		}
	}
	return true
}
