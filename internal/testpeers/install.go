package testpeers

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// productInfo says where a product comes from and what it needs.
type productInfo struct {
	// packages are unpacked into one prefix; the first one's version names
	// it, and the others are pinned to the same version.
	packages []string
	// binary is the daemon, relative to the prefix.
	binary string
	// modules are shared objects the daemon loads at run time, relative to
	// the prefix; their libraries must be present too.
	modules []string
	// modulePath is the directory the daemon loads modules from, relative to
	// the prefix ("" when it loads none).
	modulePath string
}

func (p Product) info() (productInfo, bool) {
	switch p {
	case VSFTPD:
		return productInfo{packages: []string{"vsftpd"}, binary: "usr/sbin/vsftpd"}, true
	case ProFTPD:
		// mod_tls lives in proftpd-mod-crypto since Debian 12.
		return productInfo{
			packages:   []string{"proftpd-core", "proftpd-mod-crypto"},
			binary:     "usr/sbin/proftpd",
			modules:    []string{"usr/lib/proftpd/mod_tls.so"},
			modulePath: "usr/lib/proftpd",
		}, true
	case PureFTPd:
		return productInfo{packages: []string{"pure-ftpd"}, binary: "usr/sbin/pure-ftpd"}, true
	}
	return productInfo{}, false
}

// installation is a product unpacked in the cache.
type installation struct {
	prefix  string // the directory the packages were unpacked into
	version string // the Debian version of the first package, e.g. "1.3.8+dfsg-4+deb12u5"
}

func (in installation) path(rel string) string {
	return filepath.Join(in.prefix, filepath.FromSlash(rel))
}

// upstreamVersion strips the Debian epoch, revision and repack suffix:
// "1:1.3.8+dfsg-4+deb12u5" -> "1.3.8".
func upstreamVersion(debian string) string {
	v := debian
	if i := strings.IndexByte(v, ':'); i >= 0 {
		v = v[i+1:]
	}
	if i := strings.LastIndexByte(v, '-'); i >= 0 {
		v = v[:i]
	}
	if i := strings.IndexAny(v, "+~"); i >= 0 {
		v = v[:i]
	}
	return v
}

// completeMarker is written last into an unpacked prefix; a prefix without
// it is an interrupted unpack and is never used.
const completeMarker = ".port21-complete"

// cacheRoot is where unpacked packages are kept between runs:
// $PORT21_PEERS_CACHE if set, else port21-peers in the user's cache
// directory ($XDG_CACHE_HOME or ~/.cache), else in the temporary directory.
func cacheRoot() string {
	if d := os.Getenv("PORT21_PEERS_CACHE"); d != "" {
		return d
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "port21-peers")
	}
	return filepath.Join(os.TempDir(), "port21-peers")
}

// install returns the product unpacked in the cache, downloading and
// unpacking apt's candidate version first if no version is there yet.
func install(ctx context.Context, p Product) (installation, error) {
	info, ok := p.info()
	if !ok {
		return installation{}, fmt.Errorf("testpeers: unknown product %q", p)
	}
	return unpack(ctx, string(p), info.packages)
}

// Unpack returns the directory where Debian packages are unpacked, never
// installed, for a test that runs a program from them: the firewall tests
// run ufw and firewalld this way, over the machine's own directories in a
// private mount namespace, so the machine neither gets their services nor
// sees their files. The first package's candidate version names the
// unpack, and the others are pinned to it; name keys the cache.
func Unpack(ctx context.Context, name string, packages ...string) (dir, version string, err error) {
	if len(packages) == 0 {
		return "", "", fmt.Errorf("testpeers: unpack %s: no packages", name)
	}
	in, err := unpack(ctx, name, packages)
	return in.prefix, in.version, err
}

// unpack returns the packages unpacked in the cache under name. It is safe
// to call from several tests and processes at once: the unpack is done
// under a file lock, into a staging directory renamed into place.
func unpack(ctx context.Context, name string, packages []string) (installation, error) {
	root := cacheRoot()
	if err := os.MkdirAll(root, 0o755); err != nil {
		return installation{}, fmt.Errorf("testpeers: cache: %w", err)
	}
	// An unpack from an earlier run is used as it is, without asking apt
	// (slow, and offline machines must still run the tests). To move to a
	// newer Debian version, delete the cache directory.
	if in, ok := newestCached(root, name); ok {
		return in, nil
	}
	version, err := aptCandidate(ctx, packages[0])
	if err != nil {
		return installation{}, err
	}
	in := installation{prefix: filepath.Join(root, name+"-"+version), version: version}
	if complete(in.prefix) {
		return in, nil
	}

	unlock, err := lockFile(filepath.Join(root, ".lock"), true)
	if err != nil {
		return installation{}, fmt.Errorf("testpeers: cache lock: %w", err)
	}
	defer unlock()
	if complete(in.prefix) { // another process finished while we waited
		return in, nil
	}
	staging, err := os.MkdirTemp(root, ".staging-"+name+"-")
	if err != nil {
		return installation{}, fmt.Errorf("testpeers: cache: %w", err)
	}
	defer os.RemoveAll(staging)
	debs := filepath.Join(staging, "debs")
	tree := filepath.Join(staging, "tree")
	if err := os.MkdirAll(debs, 0o755); err != nil {
		return installation{}, fmt.Errorf("testpeers: cache: %w", err)
	}
	args := []string{"download"}
	for _, pkg := range packages {
		args = append(args, pkg+"="+version)
	}
	if err := run(ctx, debs, "apt-get", args...); err != nil {
		return installation{}, fmt.Errorf("testpeers: download %s %s: %w", name, version, err)
	}
	files, _ := filepath.Glob(filepath.Join(debs, "*.deb"))
	if len(files) != len(packages) {
		return installation{}, fmt.Errorf("testpeers: download %s %s: got %d .deb files, want %d", name, version, len(files), len(packages))
	}
	for _, f := range files {
		if err := run(ctx, staging, "dpkg", "-x", f, tree); err != nil {
			return installation{}, fmt.Errorf("testpeers: unpack %s: %w", filepath.Base(f), err)
		}
	}
	if err := os.WriteFile(filepath.Join(tree, completeMarker), []byte(version+"\n"), 0o644); err != nil {
		return installation{}, fmt.Errorf("testpeers: cache: %w", err)
	}
	// A stale incomplete prefix (an unpack killed before it was renamed in
	// cannot leave one, but an older layout might) is replaced.
	if err := os.RemoveAll(in.prefix); err != nil {
		return installation{}, fmt.Errorf("testpeers: cache: %w", err)
	}
	if err := os.Rename(tree, in.prefix); err != nil {
		return installation{}, fmt.Errorf("testpeers: cache: %w", err)
	}
	return in, nil
}

func complete(prefix string) bool {
	_, err := os.Stat(filepath.Join(prefix, completeMarker))
	return err == nil
}

// newestCached finds a complete unpack of the product from an earlier run.
func newestCached(root, name string) (installation, bool) {
	dirs, _ := filepath.Glob(filepath.Join(root, name+"-*"))
	sort.Strings(dirs)
	for i := len(dirs) - 1; i >= 0; i-- {
		if complete(dirs[i]) {
			return installation{prefix: dirs[i], version: strings.TrimPrefix(filepath.Base(dirs[i]), name+"-")}, true
		}
	}
	return installation{}, false
}

// aptCandidate asks apt which version of pkg it would install.
func aptCandidate(ctx context.Context, pkg string) (string, error) {
	if _, err := exec.LookPath("apt-cache"); err != nil {
		return "", fmt.Errorf("testpeers: %s: apt-cache not found (Debian's packages are unpacked with apt-get download and dpkg -x)", pkg)
	}
	out, err := exec.CommandContext(ctx, "apt-cache", "policy", pkg).Output()
	if err != nil {
		return "", fmt.Errorf("testpeers: apt-cache policy %s: %w", pkg, err)
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "Candidate:"); ok {
			v = strings.TrimSpace(v)
			if v == "" || v == "(none)" {
				break
			}
			return v, nil
		}
	}
	return "", fmt.Errorf("testpeers: apt knows no candidate version of %s (run apt-get update?)", pkg)
}

// run runs a command in dir and returns its combined output in the error.
func run(ctx context.Context, dir, name string, args ...string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, tail(out, 2048))
	}
	return nil
}

// libraryPackage names the Debian package of a shared library the daemons
// need that a minimal system may lack, for the error message.
func libraryPackage(lib string) string {
	switch lib {
	case "libwrap.so.0":
		return "libwrap0"
	case "libhiredis.so.0.14":
		return "libhiredis0.14"
	case "libmemcached.so.11":
		return "libmemcached11"
	case "libmemcachedutil.so.2":
		return "libmemcachedutil2"
	case "libpcre2-posix.so.3":
		return "libpcre2-posix3"
	case "libsodium.so.23":
		return "libsodium23"
	case "libcap.so.2":
		return "libcap2"
	case "libssl.so.3", "libcrypto.so.3":
		return "libssl3"
	case "libpam.so.0":
		return "libpam0g"
	case "libacl.so.1":
		return "libacl1"
	case "libidn2.so.0":
		return "libidn2-0"
	}
	return ""
}

// ErrMissingLibraries is wrapped by Available when a daemon's shared
// libraries are not installed.
var ErrMissingLibraries = errors.New("shared libraries missing")

// checkLibraries runs ldd on the daemon and its modules and reports the
// libraries the dynamic linker cannot find, with the packages to install.
func checkLibraries(ctx context.Context, p Product, in installation) error {
	info, _ := p.info()
	if _, err := exec.LookPath("ldd"); err != nil {
		return nil // cannot tell; Start will say what fails
	}
	missing := map[string]bool{}
	for _, rel := range append([]string{info.binary}, info.modules...) {
		out, err := exec.CommandContext(ctx, "ldd", in.path(rel)).Output()
		if err != nil {
			return fmt.Errorf("testpeers: ldd %s: %w", rel, err)
		}
		for line := range strings.Lines(string(out)) {
			lib, rest, ok := strings.Cut(strings.TrimSpace(line), " => ")
			if ok && strings.TrimSpace(rest) == "not found" {
				missing[lib] = true
			}
		}
	}
	if len(missing) == 0 {
		return nil
	}
	var libs, pkgs []string
	seen := map[string]bool{}
	for lib := range missing {
		libs = append(libs, lib)
		if pkg := libraryPackage(lib); pkg != "" && !seen[pkg] {
			seen[pkg] = true
			pkgs = append(pkgs, pkg)
		}
	}
	sort.Strings(libs)
	sort.Strings(pkgs)
	hint := ""
	if len(pkgs) > 0 {
		hint = " (apt-get install " + strings.Join(pkgs, " ") + ")"
	}
	return fmt.Errorf("testpeers: %s: %w: %s%s", p, ErrMissingLibraries, strings.Join(libs, ", "), hint)
}

// tail returns the last n bytes of b, trimmed, for error messages and logs.
func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return strings.TrimSpace(string(b))
}
