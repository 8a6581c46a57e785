package interop

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"maps"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
)

// The steps of one matrix cell, in the order they run. Every step sets up
// what it needs on the server's disk before the server starts (see
// cell.seedHome), so a failing step does not cascade into the next ones.
const (
	stepList           = "list"
	stepUpload         = "upload"
	stepDownload       = "download"
	stepResumeDownload = "resume-download"
	stepResumeUpload   = "resume-upload"
	stepMkdir          = "mkdir"
	stepRename         = "rename"
	stepDelete         = "delete"
	stepRmdir          = "rmdir"
	// stepRefused checks that a client which cannot resume TLS sessions is
	// refused with 522 for an account that requires it (ftplib-stock only).
	stepRefused = "refused-522"
	// stepDisk checks the home directory after the other steps: expected
	// files with expected contents, and no upload temp files left behind.
	stepDisk = "disk"
)

var matrixColumns = []string{
	stepList, stepUpload, stepDownload, stepResumeDownload, stepResumeUpload,
	stepMkdir, stepRename, stepDelete, stepRmdir, stepRefused, stepDisk,
}

// dataSteps open a data connection; their transcripts must show the
// cell's mode (PASV/EPSV or PORT/EPRT).
var dataSteps = []string{stepList, stepUpload, stepDownload, stepResumeDownload, stepResumeUpload}

// Names in the home directory (see cell.seedHome).
const (
	seedName   = "seed.bin"     // the payload: list, download, resume-download
	upName     = "up.bin"       // upload target
	resumeName = "resume.bin"   // holds the payload's first half: resume-upload
	renameFrom = "torename.bin" // rename source
	renameTo   = "renamed.bin"  // rename target
	deleteName = "todelete.bin" // delete
	mkdirName  = "newdir"       // mkdir
	rmdirName  = "toremove"     // rmdir (an empty directory)
	tempPrefix = ".port21-upload-"
)

var (
	renameContent = []byte("rename me\n")
	deleteContent = []byte("delete me\n")
)

// payload is the ~3 MB random file every cell moves around.
type payload struct {
	data    []byte
	sum     string
	path    string // a local copy, read-only for the clients
	half    int    // how much of it the server has before resume-upload
	partial int    // how much of it the client has before resume-download
}

func newPayload(t *testing.T) *payload {
	t.Helper()
	// Not a multiple of any buffer size, so off-by-one-chunk bugs show.
	data := make([]byte, 3<<20+4321)
	rand.Read(data)
	p := &payload{data: data, sum: sha256Hex(data), path: filepath.Join(t.TempDir(), "payload.bin")}
	p.half = len(data)/2 + 3
	p.partial = 1234567
	if err := os.WriteFile(p.path, data, 0o444); err != nil {
		t.Fatal(err)
	}
	return p
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// fileSum is the SHA-256 of a file, or a description of why there is none.
func fileSum(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	return sha256Hex(b)
}

// action is one client operation.
type action struct {
	step   string
	user   account
	remote string // path relative to the user's home
	to     string // rename target
	local  string // local file
}

// client drives one FTP client program (or library).
type client struct {
	name string
	// missing says why the client cannot run on this machine ("" if it can).
	missing func() string
	// cellSkip says why a cell does not apply to the client ("" if it does).
	cellSkip func(c *cell) string
	// stepSkip says why a step does not apply in a cell ("" if it does).
	stepSkip func(c *cell, step string) string
	// sentPrefix is a regexp matching what precedes a command the client
	// sent in its transcript (`> ` for curl -v, `---> ` for lftp -d...).
	// "" means the client shows no dialogue (PHP's ftp extension): its
	// data commands cannot be checked.
	sentPrefix string
	// user is the account the client logs in with over FTPS; nil means an
	// ordinary account. Plain cells always use an --allow-cleartext one.
	user func() account
	// refusal adds stepRefused: an ordinary account must get 522.
	refusal bool
	// knownBug, if not nil, recognizes in a failed step's transcript a
	// known client bug, and says which; the step is then skipped, not
	// failed. Matching the transcript (not the version) keeps the cell
	// honest: once the client or the server copes, it passes again.
	knownBug func(c *cell, transcript string) string
	// run does one action and returns its output (a listing) and transcript.
	run func(ctx context.Context, c *cell, a action) (output, transcript string, err error)
}

// cell is one row of the matrix: a client, an IP family, a data connection
// mode and plain FTP or FTPS, with its own server.
type cell struct {
	cl    *client
	fam   family
	mode  string // "passive" or "active"
	sec   string // "ftps" or "plain"
	tls12 bool   // the client is limited to TLS 1.2 (TestTLS12)
	// implicit: the client uses the server's implicit FTPS port
	// (TestImplicit; see cell.port).
	implicit bool
	srv      *server
	user     account
	other    account // ordinary account for stepRefused
	pl       *payload
	work     string // the client's local directory (and $HOME)

	mu      sync.Mutex
	outcome map[string]string // step -> "pass", "fail" or "skip"
}

func (c *cell) tls() bool { return c.sec == "ftps" }
func (c *cell) row() string {
	row := strings.Join([]string{c.cl.name, c.fam.name, c.mode, c.sec}, "/")
	if c.tls12 {
		row += "-tls1.2"
	}
	if c.implicit {
		row += "-implicit"
	}
	return row
}

// port is the server port the client connects to: the implicit FTPS one in
// TestImplicit.
func (c *cell) port() int {
	if c.implicit {
		return c.srv.implicitPort
	}
	return c.srv.port
}

func (c *cell) setOutcome(step, o string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.outcome[step] = o
}

func (c *cell) getOutcome(step string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.outcome[step]
}

// env is the environment of the client's process: a private $HOME so no
// user configuration (~/.lftprc, rclone.conf, curlrc) leaks in.
func (c *cell) env() []string {
	env := []string{"HOME=" + c.work, "XDG_CONFIG_HOME=" + filepath.Join(c.work, ".config"),
		"XDG_CACHE_HOME=" + filepath.Join(c.work, ".cache"), "LC_ALL=C"}
	if c.tls() {
		// Go clients (rclone) trust exactly the server's certificate.
		env = append(env, "SSL_CERT_FILE="+c.srv.certFile())
	}
	return env
}

// seedHome lays out the home directory so every step is independent.
func (c *cell) seedHome(t *testing.T, user string) {
	home := c.srv.home(user)
	writeFile(t, filepath.Join(home, seedName), c.pl.data)
	writeFile(t, filepath.Join(home, resumeName), c.pl.data[:c.pl.half])
	writeFile(t, filepath.Join(home, renameFrom), renameContent)
	writeFile(t, filepath.Join(home, deleteName), deleteContent)
	if err := os.MkdirAll(filepath.Join(home, rmdirName), 0o750); err != nil {
		t.Fatal(err)
	}
}

// TestInterop is the matrix: client/ipv4|ipv6/passive|active/ftps|plain/step.
func TestInterop(t *testing.T) {
	needServer(t)
	pl := newPayload(t)
	ports := newPortAllocator(40000, 45999, 40)
	m := newMatrix(matrixColumns)
	t.Cleanup(func() { t.Logf("interop matrix:\n%s", m.table()) })
	noIPv6 := ipv6Missing()

	for _, cl := range allClients() {
		t.Run(cl.name, func(t *testing.T) {
			t.Parallel()
			missing := cl.missing()
			for _, fam := range []family{ipv4, ipv6} {
				t.Run(fam.name, func(t *testing.T) {
					for _, mode := range []string{"passive", "active"} {
						t.Run(mode, func(t *testing.T) {
							for _, sec := range []string{"ftps", "plain"} {
								t.Run(sec, func(t *testing.T) {
									c := &cell{cl: cl, fam: fam, mode: mode, sec: sec, pl: pl, outcome: map[string]string{}}
									switch {
									case missing != "":
										m.skipRow(c.row(), missing)
										skipOrFail(t, missing)
									case fam == ipv6 && noIPv6 != "":
										m.skipRow(c.row(), noIPv6)
										t.Skip(noIPv6)
									}
									if reason := cl.cellSkip(c); reason != "" {
										m.skipRow(c.row(), "n/a: "+reason)
										t.Skip("not applicable: " + reason)
									}
									t.Parallel()
									runCell(t, m, c, ports)
								})
							}
						})
					}
				})
			}
		})
	}
}

// ipv6Missing says why [::1] cannot be used here ("" if it can).
func ipv6Missing() string {
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		return "no IPv6 loopback on this machine: " + err.Error()
	}
	ln.Close()
	return ""
}

// setup gives the cell its server: accounts, home directories, start.
func (c *cell) setup(t *testing.T, ports *portAllocator) {
	c.work = t.TempDir()
	c.srv = newServer(t, c.fam, ports.take(t))
	switch {
	case !c.tls():
		c.user = newAccount("bob", "--allow-cleartext")
	case c.cl.user != nil:
		c.user = c.cl.user()
	default:
		c.user = newAccount("alice")
	}
	c.srv.addUser(c.user)
	c.seedHome(t, c.user.name)
	if c.cl.refusal && c.tls() {
		c.other = newAccount("alice")
		c.srv.addUser(c.other)
		c.seedHome(t, c.other.name)
	}
	if c.implicit {
		// port21 refuses --implicit-tls-listen equal to --listen, even
		// when both are port 0 (kernel-chosen): pick a free port first.
		ln, err := net.Listen("tcp", net.JoinHostPort(c.fam.host, "0"))
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		c.srv.start("--implicit-tls-listen", addr)
		if c.srv.implicitPort == 0 {
			t.Fatalf("the server announced no implicit FTPS port:\n%s", c.srv.stdout.String())
		}
		return
	}
	c.srv.start()
}

// runCell runs every step of a cell in order, recording outcomes in m.
func runCell(t *testing.T, m *matrix, c *cell, ports *portAllocator) {
	c.setup(t, ports)
	for _, step := range matrixColumns {
		if step == stepRefused && !(c.cl.refusal && c.tls()) {
			continue
		}
		t.Run(step, func(t *testing.T) {
			reason := ""
			defer func() {
				switch {
				case t.Failed():
					c.setOutcome(step, "fail")
					m.set(c.row(), step, "FAIL", "")
				case t.Skipped():
					c.setOutcome(step, "skip")
					m.set(c.row(), step, "skip", reason)
				default:
					c.setOutcome(step, "pass")
					m.set(c.row(), step, "ok", "")
				}
			}()
			if step == stepDisk {
				c.checkDisk(t)
				return
			}
			if reason = c.cl.stepSkip(c, step); reason != "" {
				t.Skip("not applicable: " + reason)
			}
			if reason = c.runStep(t, step); reason != "" {
				t.Skip("known client bug: " + reason)
			}
		})
	}
}

// actionFor returns the action of a step in this cell.
func (c *cell) actionFor(step string) action {
	a := action{step: step, user: c.user}
	switch step {
	case stepList:
		a.remote = ""
	case stepUpload:
		a.remote, a.local = upName, c.pl.path
	case stepDownload:
		a.remote, a.local = seedName, filepath.Join(c.work, "download.bin")
	case stepResumeDownload:
		a.remote, a.local = seedName, filepath.Join(c.work, "partial.bin")
	case stepResumeUpload:
		a.remote, a.local = resumeName, c.pl.path
	case stepMkdir:
		a.remote = mkdirName
	case stepRename:
		a.remote, a.to = renameFrom, renameTo
	case stepDelete:
		a.remote = deleteName
	case stepRmdir:
		a.remote = rmdirName
	}
	return a
}

// runStep runs one step and checks its effect: on the server's disk, on the
// client's side, and in the server's audit log. It returns a reason to skip
// when the step failed because of a known client bug (client.knownBug).
func (c *cell) runStep(t *testing.T, step string) (skip string) {
	if step == stepRefused {
		c.checkRefused(t)
		return ""
	}
	a := c.actionFor(step)
	if step == stepResumeDownload {
		writeFile(t, a.local, c.pl.data[:c.pl.partial])
	}
	mark := len(c.srv.entries())
	ctx := context.Background()
	out, transcript, err := c.cl.run(ctx, c, a)
	c.srv.settle(mark)
	report := func(format string, args ...any) {
		t.Helper()
		t.Errorf("%s: %s\nclient transcript:\n%s\nserver log of this step:\n%s",
			c.row()+"/"+step, fmt.Sprintf(format, args...), transcript, c.srv.logSince(mark))
	}

	if err != nil {
		if c.cl.knownBug != nil {
			if reason := c.cl.knownBug(c, transcript); reason != "" {
				t.Logf("client transcript:\n%s", transcript)
				return reason
			}
		}
		report("client failed: %v", err)
		return ""
	}
	home := c.srv.home(c.user.name)
	switch step {
	case stepList:
		for _, want := range []string{seedName, renameFrom, rmdirName} {
			if !strings.Contains(out, want) {
				report("listing lacks %q:\n%s", want, out)
			}
		}
	case stepUpload:
		if got := fileSum(filepath.Join(home, upName)); got != c.pl.sum {
			report("uploaded file on the server: sha256 %s, want %s", got, c.pl.sum)
		}
	case stepDownload:
		if got := fileSum(a.local); got != c.pl.sum {
			report("downloaded file: sha256 %s, want %s", got, c.pl.sum)
		}
	case stepResumeDownload:
		if got := fileSum(a.local); got != c.pl.sum {
			report("resumed download: sha256 %s, want %s", got, c.pl.sum)
		}
		want := int64(len(c.pl.data) - c.pl.partial)
		if _, ok := c.srv.waitEntry(mark, func(e logEntry) bool {
			return e.Msg == "transfer" && e.Op == "RETR" && e.Path == "/"+seedName && e.Code == 226 && e.Bytes == want
		}); !ok {
			report("no RETR of the last %d bytes in the audit log: the client did not resume (REST)", want)
		}
	case stepResumeUpload:
		if got := fileSum(filepath.Join(home, resumeName)); got != c.pl.sum {
			report("resumed upload on the server: sha256 %s, want %s", got, c.pl.sum)
		}
		want := int64(len(c.pl.data) - c.pl.half)
		if _, ok := c.srv.waitEntry(mark, func(e logEntry) bool {
			return e.Msg == "transfer" && (e.Op == "STOR" || e.Op == "APPE") && e.Path == "/"+resumeName && e.Code == 226 && e.Bytes == want
		}); !ok {
			report("no STOR/APPE of the last %d bytes in the audit log: the client did not resume", want)
		}
	case stepMkdir:
		if fi, err := os.Stat(filepath.Join(home, mkdirName)); err != nil || !fi.IsDir() {
			report("%s is not a directory on the server: %v", mkdirName, err)
		}
	case stepRename:
		if b, err := os.ReadFile(filepath.Join(home, renameTo)); err != nil || !bytes.Equal(b, renameContent) {
			report("%s on the server: %q, %v", renameTo, b, err)
		}
		if _, err := os.Lstat(filepath.Join(home, renameFrom)); err == nil {
			report("%s still exists after the rename", renameFrom)
		}
	case stepDelete:
		if _, err := os.Lstat(filepath.Join(home, deleteName)); err == nil {
			report("%s still exists after DELE", deleteName)
		}
	case stepRmdir:
		if _, err := os.Lstat(filepath.Join(home, rmdirName)); err == nil {
			report("%s still exists after RMD", rmdirName)
		}
	}
	if slices.Contains(dataSteps, step) && c.cl.sentPrefix != "" {
		c.checkDataCommands(t, transcript, report)
	}
	c.checkLogins(t, mark, report)
	return ""
}

// checkRefused: a client that cannot resume the control connection's TLS
// session on data connections (stock ftplib.FTP_TLS), logged in as an
// account that requires it, must get the 522 that names the way out, for a
// download and for an upload, and nothing may move or stay behind.
func (c *cell) checkRefused(t *testing.T) {
	t.Helper()
	home := c.srv.home(c.other.name)
	for _, a := range []action{
		{step: stepDownload, user: c.other, remote: seedName, local: filepath.Join(c.work, "refused.bin")},
		{step: stepUpload, user: c.other, remote: "refused-up.bin", local: c.pl.path},
	} {
		mark := len(c.srv.entries())
		_, transcript, err := c.cl.run(context.Background(), c, a)
		c.srv.settle(mark)
		report := func(format string, args ...any) {
			t.Helper()
			t.Errorf("%s/%s (%s by %s): %s\nclient transcript:\n%s\nserver log of this step:\n%s",
				c.row(), stepRefused, a.step, a.user.name, fmt.Sprintf(format, args...), transcript, c.srv.logSince(mark))
		}
		if err == nil {
			report("the %s succeeded; want a 522 refusal (data connection without TLS session reuse)", a.step)
			continue
		}
		// An uploading client is still sending when the server drops the
		// data connection, so it fails on that and may never read the 522;
		// the audit log shows it either way.
		if a.step == stepDownload && (!strings.Contains(transcript, "522 ") || !strings.Contains(transcript, "--tls-reuse-optional")) {
			report("want a 522 reply naming --tls-reuse-optional")
		}
		if _, ok := c.srv.waitEntry(mark, func(e logEntry) bool {
			return e.Msg == "transfer" && e.Code == 522
		}); !ok {
			report("no transfer with code 522 in the audit log")
		}
		switch a.step {
		case stepDownload:
			if b, err := os.ReadFile(a.local); err == nil && len(b) > 0 {
				report("%d bytes arrived over a refused data connection", len(b))
			}
		case stepUpload:
			if _, err := os.Lstat(filepath.Join(home, a.remote)); err == nil {
				report("%s exists on the server after a refused upload", a.remote)
			}
			if temps := tempFiles(home); len(temps) > 0 {
				report("upload temp files left behind after a refused upload: %q", temps)
			}
		}
	}
}

// tempFiles lists the upload temp files under dir.
func tempFiles(dir string) []string {
	var temps []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), tempPrefix) {
			temps = append(temps, p)
		}
		return nil
	})
	return temps
}

// checkDataCommands makes sure the client used the cell's mode: a test that
// silently fell back from active to passive would prove nothing.
func (c *cell) checkDataCommands(t *testing.T, transcript string, report func(string, ...any)) {
	t.Helper()
	passive := regexp.MustCompile(`(?m)` + c.cl.sentPrefix + `(PASV|EPSV)\b`)
	active := regexp.MustCompile(`(?m)` + c.cl.sentPrefix + `(PORT|EPRT)\b`)
	want, notWant := passive, active
	if c.mode == "active" {
		want, notWant = active, passive
	}
	if !want.MatchString(transcript) {
		report("the transcript shows no %s command: is the client in %s mode?", c.mode, c.mode)
	}
	if m := notWant.FindString(transcript); m != "" {
		report("the client sent %q in %s mode", strings.TrimSpace(m), c.mode)
	}
}

// checkLogins makes sure every login of the step was (or was not) over TLS.
func (c *cell) checkLogins(t *testing.T, mark int, report func(string, ...any)) {
	t.Helper()
	n := 0
	for _, e := range c.srv.entries()[mark:] {
		if e.Msg != "login" {
			continue
		}
		n++
		if e.TLS == nil || *e.TLS != c.tls() {
			report("login over TLS = %v, want %v: %s", e.TLS != nil && *e.TLS, c.tls(), e.raw)
		}
	}
	if n == 0 {
		report("no login in the audit log")
	}
	if c.tls12 {
		for _, e := range c.srv.entries()[mark:] {
			if e.Msg == "tls" && e.Version != "TLS 1.2" {
				report("control connection used %s, want TLS 1.2: %s", e.Version, e.raw)
			}
		}
	}
}

// checkDisk checks the home directory after all steps. A step that failed
// was reported already, so its files are not checked again; a step that was
// skipped must have left its files alone.
func (c *cell) checkDisk(t *testing.T) {
	home := c.srv.home(c.user.name)
	if temps := tempFiles(c.srv.dir); len(temps) > 0 {
		t.Errorf("upload temp files left behind: %q", temps)
	}

	// want is what one home entry must be.
	type want struct {
		kind string // "file", "dir", "absent" or "any" (a failed step's)
		data []byte // for "file"
	}
	file := func(b []byte) want { return want{kind: "file", data: b} }
	dir, absent, dontCare := want{kind: "dir"}, want{kind: "absent"}, want{kind: "any"}

	wants := map[string]want{seedName: file(c.pl.data)}
	expect := func(step string, pass, skip map[string]want) {
		switch c.getOutcome(step) {
		case "pass":
			maps.Copy(wants, pass)
		case "skip":
			maps.Copy(wants, skip)
		default: // failed, and reported by the step: anything goes
			for name := range pass {
				wants[name] = dontCare
			}
			for name := range skip {
				wants[name] = dontCare
			}
		}
	}
	expect(stepUpload, map[string]want{upName: file(c.pl.data)}, map[string]want{upName: absent})
	expect(stepResumeUpload, map[string]want{resumeName: file(c.pl.data)}, map[string]want{resumeName: file(c.pl.data[:c.pl.half])})
	expect(stepMkdir, map[string]want{mkdirName: dir}, map[string]want{mkdirName: absent})
	expect(stepRename, map[string]want{renameTo: file(renameContent), renameFrom: absent},
		map[string]want{renameFrom: file(renameContent), renameTo: absent})
	expect(stepDelete, map[string]want{deleteName: absent}, map[string]want{deleteName: file(deleteContent)})
	expect(stepRmdir, map[string]want{rmdirName: absent}, map[string]want{rmdirName: dir})

	entries, err := os.ReadDir(home)
	if err != nil {
		t.Fatalf("read home: %v", err)
	}
	var unexpected []string
	for _, e := range entries {
		if _, ok := wants[e.Name()]; !ok && !strings.HasPrefix(e.Name(), tempPrefix) {
			unexpected = append(unexpected, e.Name())
		}
	}
	if len(unexpected) > 0 {
		t.Errorf("unexpected entries in the home directory: %q", unexpected)
	}
	for _, name := range slices.Sorted(maps.Keys(wants)) {
		w := wants[name]
		p := filepath.Join(home, name)
		fi, err := os.Lstat(p)
		switch {
		case w.kind == "any":
		case w.kind == "absent":
			if err == nil {
				t.Errorf("%s exists, want it gone", name)
			}
		case err != nil:
			t.Errorf("%s: %v", name, err)
		case w.kind == "dir":
			if !fi.IsDir() {
				t.Errorf("%s is not a directory", name)
			}
		case !fi.Mode().IsRegular():
			t.Errorf("%s is not a regular file (%v)", name, fi.Mode())
		default:
			if got := fileSum(p); got != sha256Hex(w.data) {
				t.Errorf("%s: %d bytes, sha256 %s; want %d bytes, sha256 %s", name, fi.Size(), got, len(w.data), sha256Hex(w.data))
			}
		}
	}
}

// matrix collects the outcome of every cell and step for the summary.
type matrix struct {
	cols []string

	mu      sync.Mutex
	rows    map[string]map[string]mark
	rowSkip map[string]string
}

type mark struct{ status, reason string }

func newMatrix(cols []string) *matrix {
	return &matrix{cols: cols, rows: map[string]map[string]mark{}, rowSkip: map[string]string{}}
}

func (m *matrix) set(row, col, status, reason string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.rows[row] == nil {
		m.rows[row] = map[string]mark{}
	}
	m.rows[row][col] = mark{status, reason}
}

// skipRow records a cell that did not run at all.
func (m *matrix) skipRow(row, reason string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.rowSkip[row] = reason
}

// table renders the matrix: one row per cell, one column per step, "ok",
// "FAIL", "skip[n]" or "-" (step not part of that row), and the skip
// reasons as numbered notes.
func (m *matrix) table() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var notes []string
	note := func(reason string) string {
		i := slices.Index(notes, reason)
		if i < 0 {
			notes = append(notes, reason)
			i = len(notes) - 1
		}
		return fmt.Sprintf("[%d]", i+1)
	}
	names := slices.Sorted(maps.Keys(m.rows))
	for row := range m.rowSkip {
		if _, ok := m.rows[row]; !ok {
			names = append(names, row)
		}
	}
	slices.Sort(names)

	width := len("client/family/mode/security")
	for _, n := range names {
		width = max(width, len(n))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%-*s", width, "client/family/mode/security")
	for _, c := range m.cols {
		fmt.Fprintf(&b, " %-*s", max(len(c), 7), c)
	}
	b.WriteByte('\n')
	var pass, fail, skip int
	for _, n := range names {
		fmt.Fprintf(&b, "%-*s", width, n)
		if reason, ok := m.rowSkip[n]; ok {
			fmt.Fprintf(&b, " not run %s\n", note(reason))
			skip++
			continue
		}
		for _, c := range m.cols {
			v := "-"
			if mk, ok := m.rows[n][c]; ok {
				v = mk.status
				switch mk.status {
				case "ok":
					pass++
				case "FAIL":
					fail++
				case "skip":
					skip++
					v += note(mk.reason)
				}
			}
			fmt.Fprintf(&b, " %-*s", max(len(c), 7), v)
		}
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "%d passed, %d failed, %d skipped (rows not run count once)\n", pass, fail, skip)
	for i, r := range notes {
		fmt.Fprintf(&b, "[%d] %s\n", i+1, r)
	}
	return b.String()
}
