package interop

import (
	"context"
	"crypto/rand"
	"fmt"
	"io/fs"
	"maps"
	"net"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// mirrorTimeout bounds one whole mirror run (2,000 files one way).
const mirrorTimeout = 150 * time.Second

// mirrorTree writes a tree of files small enough that per-file costs (a data
// connection, a TLS handshake, the replies) dominate: dirs directories, one
// nested level inside each, perDir files in every directory, names in several
// scripts, with spaces and combining marks, sizes from 0 to 6 KiB. It
// returns the files' relative paths and SHA-256s.
func mirrorTree(t *testing.T, root string, dirs, perDir int) map[string]string {
	t.Helper()
	names := []string{"Ünïcödé", "日本語", "Ελληνικά", "кириллица", "עברית", "emoji-🗂️", "e\u0301-combining", "with space"}
	sums := map[string]string{}
	n := 0
	for d := range dirs {
		top := fmt.Sprintf("%02d-%s", d, names[d%len(names)])
		for _, dir := range []string{top, filepath.Join(top, "sub-"+names[(d+3)%len(names)])} {
			for i := range perDir {
				rel := filepath.Join(dir, fmt.Sprintf("%04d %s.dat", i, names[(i+d)%len(names)]))
				data := make([]byte, (n*37)%6144)
				rand.Read(data)
				writeFile(t, filepath.Join(root, rel), data)
				sums[filepath.ToSlash(rel)] = sha256Hex(data)
				n++
			}
		}
	}
	return sums
}

// treeSums returns the SHA-256 of every regular file under root, by
// slash-separated relative path, skipping names that match skip.
func treeSums(t *testing.T, root string, skip func(name string) bool) map[string]string {
	t.Helper()
	sums := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() || skip != nil && skip(d.Name()) {
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		sums[filepath.ToSlash(rel)] = fileSum(p)
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", root, err)
	}
	return sums
}

// compareTrees reports every file that is missing, extra or different.
func compareTrees(t *testing.T, what string, want, got map[string]string) {
	t.Helper()
	var bad []string
	for _, p := range slices.Sorted(maps.Keys(want)) {
		switch g, ok := got[p]; {
		case !ok:
			bad = append(bad, "missing "+p)
		case g != want[p]:
			bad = append(bad, "differs "+p)
		}
	}
	for _, p := range slices.Sorted(maps.Keys(got)) {
		if _, ok := want[p]; !ok {
			bad = append(bad, "extra "+p)
		}
	}
	if len(bad) > 0 {
		t.Errorf("%s: %d of %d files wrong, first ones: %q", what, len(bad), len(want), bad[:min(len(bad), 10)])
	}
}

// mirrorCell is a server for one mirror test: IPv4, passive, FTPS, an
// ordinary account (TLS session reuse and close_notify required).
func mirrorCell(t *testing.T, ports *portAllocator, cl *client) *cell {
	c := &cell{cl: cl, fam: ipv4, mode: "passive", sec: "ftps", outcome: map[string]string{}}
	c.work = t.TempDir()
	c.srv = newServer(t, c.fam, ports.take(t))
	c.user = newAccount("alice")
	c.srv.addUser(c.user)
	c.srv.start()
	return c
}

// TestLftpMirror uploads a tree of 2,000 small files with unicode names with
// `lftp mirror -R` over FTPS, mirrors it back into another directory, and
// compares the SHA-256 of every file on the server and back home. Each
// direction is bounded by mirrorTimeout; lftp runs 4 transfers in parallel
// (4 control connections, each with its own TLS session).
func TestLftpMirror(t *testing.T) {
	needServer(t)
	if missing := missingClient("lftp", "lftp"); missing != "" {
		skipOrFail(t, missing)
	}
	t.Parallel()
	c := mirrorCell(t, newPortAllocator(48000, 48199, 40), lftpClient())
	src := filepath.Join(c.work, "src")
	want := mirrorTree(t, src, 10, 100)
	if len(want) != 2000 {
		t.Fatalf("tree has %d files, want 2000", len(want))
	}

	lftp := func(cmd string) {
		t.Helper()
		script := strings.Join([]string{
			"set cmd:fail-exit yes",
			"set net:max-retries 1",
			"set net:timeout 20",
			"set ftp:ssl-force true",
			"set ftp:ssl-protect-data true",
			"set ftp:ssl-protect-list true",
			"set ssl:verify-certificate yes",
			"set ssl:ca-file " + c.srv.certFile(),
			fmt.Sprintf("open -u %s,%s ftp://%s", c.user.name, c.user.password, c.srv.addr()),
			cmd,
			"bye",
		}, "; ")
		start := time.Now()
		// A UTF-8 locale: under LC_ALL=C lftp would recode the names.
		r := runCmdTimeout(context.Background(), mirrorTimeout, append(c.env(), "LC_ALL=C.UTF-8"), "", "lftp", "-c", script)
		t.Logf("lftp %s: %v", cmd, time.Since(start).Round(time.Millisecond))
		if r.err != nil {
			t.Fatalf("lftp failed:\n%s\nserver log:\n%s", r.transcript(), tail(c.srv.log.String(), 8000))
		}
	}

	lftp("mirror -R --parallel=4 " + src + " tree")
	compareTrees(t, "on the server after mirror -R", want, treeSums(t, filepath.Join(c.srv.home(c.user.name), "tree"), nil))
	if temps := tempFiles(c.srv.dir); len(temps) > 0 {
		t.Errorf("upload temp files left behind: %d, first %q", len(temps), temps[0])
	}
	back := filepath.Join(c.work, "back")
	lftp("mirror --parallel=4 tree " + back)
	compareTrees(t, "mirrored back", want, treeSums(t, back, nil))
}

// TestWgetMirror mirrors a directory of 250 small files with unicode names
// (in two levels) with `wget -m` over FTPS and compares every file.
func TestWgetMirror(t *testing.T) {
	needServer(t)
	if missing := missingClient("wget", "wget"); missing != "" {
		skipOrFail(t, missing)
	}
	t.Parallel()
	c := mirrorCell(t, newPortAllocator(48200, 48399, 40), wgetClient())
	home := c.srv.home(c.user.name)
	all := mirrorTree(t, filepath.Join(home, "tree"), 1, 125)
	dir := filepath.Join(c.work, "mirror")
	// wgetArgs without "wget -d": 250 files of debug output are too many.
	argv := append([]string{"wget", "-nv"}, wgetArgs(c, c.user)[2:]...)
	argv = append(argv, "-m", "-nH", "--restrict-file-names=nocontrol", "-P", dir,
		"ftps://"+net.JoinHostPort(c.fam.host, strconv.Itoa(c.srv.port))+"/tree/")
	start := time.Now()
	r := runCmdTimeout(context.Background(), mirrorTimeout, append(c.env(), "LC_ALL=C.UTF-8"), "", argv...)
	t.Logf("wget -m of %d files: %v", len(all), time.Since(start).Round(time.Millisecond))
	if r.err != nil {
		t.Fatalf("wget -m failed:\n%s\nserver log:\n%s", r.transcript(), tail(c.srv.log.String(), 8000))
	}
	got := treeSums(t, filepath.Join(dir, "tree"), func(name string) bool { return name == ".listing" })
	compareTrees(t, "wget -m", all, got)
}
