package interop

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The clients people script with (issue 10): Node's basic-ftp, wget, PHP's
// ftp extension, tnftp and Perl's Net::FTP.

// ftpsOnly keeps a client of issue 10 to its FTPS cells: plain FTP is the
// same code path on the server for every client, and the first six clients
// cover it; leaving it out keeps the suite's time down.
func ftpsOnly(c *cell) string {
	if !c.tls() {
		return "FTPS only (plain FTP is covered by the first six clients; suite time)"
	}
	return ""
}

func testdataPath(name string) string {
	p, _ := filepath.Abs(filepath.Join("testdata", name))
	return p
}

// ---- Node's basic-ftp (npm) ------------------------------------------------

// basicFTPVersion is the exact basic-ftp release the matrix installs.
const basicFTPVersion = "6.2.6"

// basicFTPModules installs basic-ftp@basicFTPVersion with npm, once per
// test process, into tests/interop/.cache/npm (ignored by git; kept between
// runs, so a second run needs no network), never globally. It returns the
// node_modules directory, or why it cannot.
var basicFTPModules = sync.OnceValues(func() (string, string) {
	if reason := missingClient("node", "nodejs"); reason != "" {
		return "", reason
	}
	if reason := missingClient("npm", "npm"); reason != "" {
		return "", reason
	}
	prefix, err := filepath.Abs(filepath.Join(".cache", "npm"))
	if err != nil {
		return "", err.Error()
	}
	modules := filepath.Join(prefix, "node_modules")
	pkg, err := os.ReadFile(filepath.Join(modules, "basic-ftp", "package.json"))
	if err == nil && strings.Contains(string(pkg), `"version": "`+basicFTPVersion+`"`) {
		return modules, ""
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	r := runCmdTimeout(ctx, 2*time.Minute, []string{"npm_config_cache=" + filepath.Join(prefix, "cache")}, "",
		"npm", "install", "--prefix", prefix, "--no-save", "--no-audit", "--no-fund", "--ignore-scripts",
		"--no-package-lock", "basic-ftp@"+basicFTPVersion)
	if r.err != nil {
		return "", "npm install basic-ftp@" + basicFTPVersion + " failed:\n" + r.transcript()
	}
	return modules, ""
})

func basicFTPClient() *client {
	return &client{
		name: "basic-ftp",
		missing: func() string {
			_, reason := basicFTPModules()
			return reason
		},
		cellSkip: func(c *cell) string {
			if c.mode == "active" {
				return "basic-ftp has no active mode (PORT/EPRT)"
			}
			return ftpsOnly(c)
		},
		stepSkip:   noStepSkip,
		sentPrefix: `^> `,
		run: func(ctx context.Context, c *cell, a action) (string, string, error) {
			modules, _ := basicFTPModules()
			tlsMode := "reuse"
			if !c.tls() {
				tlsMode = "none"
			}
			argv := append([]string{"node", testdataPath("basicftp_client.js")}, scriptStepArgs(c, a, tlsMode)...)
			r := runCmd(ctx, append(c.env(), "NODE_PATH="+modules), "", argv...)
			return r.stdout, r.transcript(), r.err
		},
	}
}

// ---- wget --------------------------------------------------------------------

// wgetClient is GNU wget (Debian's, with GnuTLS): it only downloads, so it
// does list, download and resume-download. It resumes the control
// connection's TLS session on data connections by default
// (--ftps-resume-ssl) and uses explicit FTPS for ftps:// URLs. Its mirror
// mode is TestMirror's.
func wgetClient() *client {
	return &client{
		name:     "wget",
		missing:  func() string { return missingClient("wget", "wget") },
		cellSkip: ftpsOnly,
		stepSkip: func(c *cell, step string) string {
			switch step {
			case stepList, stepDownload, stepResumeDownload:
				return ""
			}
			return "wget only downloads"
		},
		sentPrefix: `^--> `,
		run:        runWget,
	}
}

// wgetArgs are wget's flags for a cell: debug output (the dialogue), no
// retries, and the server's certificate as the only CA.
func wgetArgs(c *cell, user account) []string {
	argv := []string{"wget", "-d", "--tries", "1", "--timeout", "20", "--no-config",
		"--user", user.name, "--password", user.password}
	if c.mode == "active" {
		argv = append(argv, "--no-passive-ftp")
	}
	if c.tls() {
		argv = append(argv, "--ca-certificate", c.srv.certFile())
		if c.implicit {
			argv = append(argv, "--ftps-implicit")
		}
		if c.tls12 {
			// --secure-protocol TLSv1_2 means "at least 1.2" with GnuTLS;
			// --ciphers takes a GnuTLS priority string.
			argv = append(argv, "--ciphers", "NORMAL:-VERS-TLS1.3")
		}
	}
	return argv
}

func (c *cell) url(path string) string {
	scheme := "ftp"
	if c.tls() {
		scheme = "ftps"
	}
	return scheme + "://" + net.JoinHostPort(c.fam.host, strconv.Itoa(c.port())) + "/" + path
}

func runWget(ctx context.Context, c *cell, a action) (string, string, error) {
	argv := wgetArgs(c, a.user)
	switch a.step {
	case stepList:
		// A directory URL: wget keeps LIST's output in .listing.
		dir := filepath.Join(c.work, "listing")
		argv = append(argv, "--no-remove-listing", "-P", dir, c.url(""))
		r := runCmd(ctx, c.env(), "", argv...)
		listing, _ := os.ReadFile(filepath.Join(dir, ".listing"))
		return string(listing), r.transcript(), r.err
	case stepDownload:
		argv = append(argv, "-O", a.local, c.url(a.remote))
	case stepResumeDownload:
		argv = append(argv, "-c", "-O", a.local, c.url(a.remote))
	default:
		return "", "", fmt.Errorf("wget: no step %q", a.step)
	}
	r := runCmd(ctx, c.env(), "", argv...)
	return r.stdout, r.transcript(), r.err
}

// ---- PHP's ftp extension (php-cli) -------------------------------------------

func phpClient() *client {
	return &client{
		name:     "php-ftp",
		missing:  func() string { return missingClient("php", "php-cli") },
		cellSkip: ftpsOnly,
		stepSkip: noStepSkip,
		// PHP's ftp functions print no dialogue: the script logs its calls.
		sentPrefix: "",
		run: func(ctx context.Context, c *cell, a action) (string, string, error) {
			tlsMode := "reuse"
			if !c.tls() {
				tlsMode = "none"
			}
			env := c.env()
			if c.tls12 {
				// The ftp extension has no TLS settings of its own; its
				// OpenSSL context takes the system default of openssl.cnf.
				cnf, err := opensslMaxTLS12(c.work)
				if err != nil {
					return "", "", err
				}
				env = append(env, "OPENSSL_CONF="+cnf)
			}
			argv := append([]string{"php", "-n", "-d", "extension=ftp", testdataPath("php_client.php")}, scriptStepArgs(c, a, tlsMode)...)
			r := runCmd(ctx, env, "", argv...)
			return r.stdout, r.transcript(), r.err
		},
	}
}

// opensslMaxTLS12 writes an openssl.cnf that caps OpenSSL's default
// contexts at TLS 1.2 (for OPENSSL_CONF), and returns its path.
func opensslMaxTLS12(dir string) (string, error) {
	p := filepath.Join(dir, "openssl-tls12.cnf")
	cnf := "openssl_conf = default_conf\n[default_conf]\nssl_conf = ssl_sect\n[ssl_sect]\n" +
		"system_default = system_default_sect\n[system_default_sect]\nMaxProtocol = TLSv1.2\n"
	return p, os.WriteFile(p, []byte(cnf), 0o600)
}

// ---- Perl's Net::FTP (IO::Socket::SSL) ---------------------------------------

func netFTPClient() *client {
	return &client{
		name: "perl-netftp",
		missing: func() string {
			if reason := missingClient("perl", "perl"); reason != "" {
				return reason
			}
			r := runCmd(context.Background(), nil, "", "perl", "-MIO::Socket::SSL", "-MNet::FTP", "-e", "1")
			if r.err != nil {
				return "Perl's IO::Socket::SSL is not installed (apt-get install libio-socket-ssl-perl):\n" + r.transcript()
			}
			return ""
		},
		cellSkip:   ftpsOnly,
		stepSkip:   noStepSkip,
		sentPrefix: `>>> `,
		knownBug:   netFTPUnreadTicket,
		run: func(ctx context.Context, c *cell, a action) (string, string, error) {
			tlsMode := "reuse"
			if !c.tls() {
				tlsMode = "none"
			}
			argv := append([]string{"perl", testdataPath("netftp_client.pl")}, scriptStepArgs(c, a, tlsMode)...)
			r := runCmd(ctx, c.env(), "", argv...)
			return r.stdout, r.transcript(), r.err
		},
	}
}

// netFTPUnreadTicket recognizes an upload lost because Net::FTP never reads
// its data socket. Over TLS 1.3, port21 sends a fresh session ticket on
// every data connection that resumed; an uploading Net::FTP (OpenSSL
// without read-ahead) never reads it, so when it closes the socket its
// kernel resets the connection, the end of the upload may be lost, and port21
// discards the upload (426) rather than keep it truncated. Whether the reset
// wins the race with the last records varies from run to run. Over TLS 1.2
// (TestTLS12) the ticket is part of the handshake and uploads work.
func netFTPUnreadTicket(c *cell, transcript string) string {
	if c.tls() && !c.tls12 && regexp.MustCompile(`>>> (STOR|APPE) `).MatchString(transcript) &&
		strings.Contains(transcript, "<<< 426 ") && strings.Contains(c.srv.log.String(), "connection reset by peer") {
		return "Net::FTP leaves the TLS 1.3 ticket of a resumed data connection unread, so its kernel resets the " +
			"upload's connection on close and port21 discards the upload (426); over TLS 1.2 it works (SSL_version => 'SSLv23:!TLSv1_3')"
	}
	return ""
}

// ---- tnftp -------------------------------------------------------------------

// tnftpClient is NetBSD's ftp (Debian's tnftp). It has no FTPS at all (no
// AUTH TLS; its TLS is for https:// URLs only), so it runs plain FTP only,
// with an --allow-cleartext account.
func tnftpClient() *client {
	return &client{
		name:    "tnftp",
		missing: func() string { return missingClient("tnftp", "tnftp") },
		cellSkip: func(c *cell) string {
			if c.tls() {
				return "tnftp has no FTPS (no AUTH TLS): plain FTP only"
			}
			return ""
		},
		stepSkip:   noStepSkip,
		sentPrefix: `^---> `,
		run:        runTnftp,
	}
}

// tnftpFailure matches a reply tnftp printed that means a command failed:
// tnftp reading commands from a pipe exits 0 whatever happened.
var tnftpFailure = regexp.MustCompile(`(?m)^[45]\d\d[ -]`)

// tnftpScript runs commands after logging in, in the cell's mode.
func tnftpScript(ctx context.Context, c *cell, user account, cmds ...string) cmdResult {
	passive := "on"
	if c.mode == "active" {
		passive = "off"
	}
	script := append([]string{
		fmt.Sprintf("open %s %d", c.fam.host, c.srv.port),
		"user " + user.name + " " + user.password,
		"passive " + passive,
		"binary",
	}, cmds...)
	script = append(script, "bye")
	// -n: no auto-login; -v: show replies; -d: show commands sent.
	r := runCmd(ctx, c.env(), strings.Join(script, "\n")+"\n", "tnftp", "-n", "-v", "-d")
	if r.err == nil {
		if m := tnftpFailure.FindString(r.stdout); m != "" {
			r.err = fmt.Errorf("tnftp got a failure reply: %q", strings.TrimSpace(m))
		}
	}
	return r
}

func runTnftp(ctx context.Context, c *cell, a action) (string, string, error) {
	var cmds []string
	switch a.step {
	case stepList:
		cmds = []string{"ls"}
	case stepUpload:
		cmds = []string{"put " + a.local + " " + a.remote}
	case stepDownload:
		cmds = []string{"get " + a.remote + " " + a.local}
	case stepResumeDownload:
		cmds = []string{"reget " + a.remote + " " + a.local}
	case stepResumeUpload:
		// tnftp has no reput: ask the size first, then restart (REST)
		// the put there, as a user of tnftp would.
		r := tnftpScript(ctx, c, a.user, "size "+a.remote)
		m := regexp.MustCompile(`(?m)^213 (\d+)`).FindStringSubmatch(r.stdout)
		if r.err != nil || m == nil {
			return "", r.transcript(), fmt.Errorf("tnftp size: no 213 reply: %v", r.err)
		}
		first := r.transcript()
		r = tnftpScript(ctx, c, a.user, "restart "+m[1], "put "+a.local+" "+a.remote)
		return r.stdout, first + r.transcript(), r.err
	case stepMkdir:
		cmds = []string{"mkdir " + a.remote}
	case stepRename:
		cmds = []string{"rename " + a.remote + " " + a.to}
	case stepDelete:
		cmds = []string{"delete " + a.remote}
	case stepRmdir:
		cmds = []string{"rmdir " + a.remote}
	default:
		return "", "", fmt.Errorf("tnftp: no step %q", a.step)
	}
	r := tnftpScript(ctx, c, a.user, cmds...)
	return r.stdout, r.transcript(), r.err
}

// ---- ftputil (python3-ftputil) -----------------------------------------------

// ftputilClient is ftputil on ftplib. With stock false its sessions are the
// session-reusing subclass of ftplib_client.py (ordinary account); with
// stock true, ftplib.FTP_TLS as shipped, which works only for an account
// with --tls-reuse-optional and must get 522 otherwise (stepRefused).
func ftputilClient(stock bool) *client {
	cl := &client{
		name: "ftputil",
		missing: func() string {
			if reason := missingClient(python3, "python3"); reason != "" {
				return reason
			}
			r := runCmd(context.Background(), nil, "", python3, "-c", "import ftputil")
			if r.err != nil {
				return "ftputil is not installed (apt-get install python3-ftputil):\n" + r.transcript()
			}
			return ""
		},
		cellSkip:   ftpsOnly,
		stepSkip:   noStepSkip,
		sentPrefix: `^\*cmd\* '`,
	}
	tlsMode := "reuse"
	if stock {
		cl.name = "ftputil-stock"
		tlsMode = "stock"
		cl.user = func() account { return newAccount("carol", "--tls-reuse-optional") }
		cl.refusal = true
		cl.cellSkip = func(c *cell) string {
			if !c.tls() {
				return "plain FTP is ftplib.FTP either way: see the ftputil rows"
			}
			return ""
		}
	}
	cl.run = func(ctx context.Context, c *cell, a action) (string, string, error) {
		mode := tlsMode
		if !c.tls() {
			mode = "none"
		}
		argv := append([]string{python3, testdataPath("ftputil_client.py")}, scriptStepArgs(c, a, mode)...)
		r := runCmd(ctx, c.env(), "", argv...)
		return r.stdout, r.transcript(), r.err
	}
	return cl
}

// ---- Apache Commons Net (libcommons-net-java) --------------------------------

// commonsNetJar is Debian's Commons Net.
const commonsNetJar = "/usr/share/java/commons-net.jar"

// commonsNetClasses compiles testdata/CommonsNetClient.java once per test
// process into tests/interop/.cache/java, and returns the class path or why
// it cannot.
var commonsNetClasses = sync.OnceValues(func() (string, string) {
	for _, need := range [][2]string{{"java", "default-jre-headless"}, {"javac", "default-jdk-headless"}, {commonsNetJar, "libcommons-net-java"}} {
		if reason := missingClient(need[0], need[1]); reason != "" {
			return "", reason
		}
	}
	dir, err := filepath.Abs(filepath.Join(".cache", "java"))
	if err != nil {
		return "", err.Error()
	}
	r := runCmdTimeout(context.Background(), 2*time.Minute, nil, "", "javac", "-cp", commonsNetJar, "-d", dir,
		testdataPath("CommonsNetClient.java"))
	if r.err != nil {
		return "", "javac CommonsNetClient.java failed:\n" + r.transcript()
	}
	return dir + string(os.PathListSeparator) + commonsNetJar, ""
})

// commonsNetClient is Commons Net's FTPSClient, which never resumes TLS
// sessions on data connections: it logs in with a --tls-reuse-optional
// account, and must get 522 with an ordinary one (stepRefused).
func commonsNetClient() *client {
	return &client{
		name: "commons-net",
		missing: func() string {
			_, reason := commonsNetClasses()
			return reason
		},
		cellSkip:   ftpsOnly,
		stepSkip:   noStepSkip,
		sentPrefix: `^`,
		user:       func() account { return newAccount("carol", "--tls-reuse-optional") },
		refusal:    true,
		run: func(ctx context.Context, c *cell, a action) (string, string, error) {
			cp, _ := commonsNetClasses()
			tlsMode := "stock"
			if !c.tls() {
				tlsMode = "none"
			}
			// A quick JVM: the steps are short.
			argv := append([]string{"java", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xshare:auto",
				"-cp", cp, "CommonsNetClient"}, scriptStepArgs(c, a, tlsMode)...)
			r := runCmd(ctx, c.env(), "", argv...)
			return r.stdout, r.transcript(), r.err
		},
	}
}
