// Package confaudit finds the FTP server configurations on a machine
// (vsftpd, ProFTPD with its includes, Pure-FTPd's conf directory or file,
// port21's TOML) and audits them: anonymous access, cleartext logins, TLS off
// or weak, no chroot, a writable chroot, no passive range, logging off, FTP
// bounce. Every problem is a finding.Finding with the same ids `port21 scan`
// uses, a file:line target, and the directive that fixes it.
//
// Configuration files are read as hostile input: a file may have been
// written by someone else, and includes can loop. Parsers never fail on a
// malformed line; they skip it.
package confaudit

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/port21/port21/internal/finding"
)

// Product names the server a configuration belongs to, as in finding.Fix.Config.
type Product string

// Products whose configurations are audited.
const (
	Vsftpd   Product = "vsftpd"
	ProFTPD  Product = "proftpd"
	PureFTPd Product = "pure-ftpd"
	Port21   Product = "port21"
)

// Source is one configuration to audit.
type Source struct {
	Path    string  `json:"path"`
	Product Product `json:"product"`
}

// Result is the audit of one configuration.
type Result struct {
	Source
	Findings []finding.Finding `json:"findings"`
	// Files lists every file read (ProFTPD includes, Pure-FTPd options).
	Files []string `json:"files,omitempty"`
	// Ports are where the configured server listens: `port21 local`
	// reports listeners on them as FTP without waiting for a greeting.
	Ports Ports `json:"-"`
	// Err says why the audit is incomplete.
	Err error `json:"-"`
}

// Ports are the TCP ports a configuration makes its server listen on.
type Ports struct {
	// Control are the control-connection ports (explicit and implicit
	// FTPS), the built-in default when the configuration sets none.
	Control []uint16
	// Passive is the passive range; zero when the configuration sets none.
	Passive [2]uint16
}

// ErrUnknownProduct means a configuration's product could not be told from
// its name.
var ErrUnknownProduct = errors.New("confaudit: cannot tell which server this configuration is for")

// maxFile bounds how much of one configuration file is read.
const maxFile = 4 << 20

// defaultPatterns are where the servers' packages put their configuration.
var defaultPatterns = []Source{
	{"/etc/vsftpd.conf", Vsftpd},
	{"/etc/vsftpd/*.conf", Vsftpd},
	{"/etc/proftpd/proftpd.conf", ProFTPD},
	{"/etc/proftpd.conf", ProFTPD},
	{"/etc/pure-ftpd/conf", PureFTPd},
	{"/etc/pure-ftpd/pure-ftpd.conf", PureFTPd},
	{"/etc/pure-ftpd.conf", PureFTPd},
	{"/etc/port21/*.toml", Port21},
}

// Discover returns the configurations present under root ("/" normally;
// a test fixture otherwise) in the default locations, then extra paths
// (given by the user, product told from the name or content).
func Discover(root string, extra []string) ([]Source, []error) {
	var out []Source
	var errs []error
	seen := map[string]bool{}
	add := func(s Source) {
		if !seen[s.Path] {
			seen[s.Path] = true
			out = append(out, s)
		}
	}
	for _, d := range defaultPatterns {
		matches, _ := filepath.Glob(filepath.Join(root, d.Path))
		slices.Sort(matches)
		for _, m := range matches {
			add(Source{Path: m, Product: d.Product})
		}
	}
	for _, p := range extra {
		prod, err := DetectProduct(p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		add(Source{Path: p, Product: prod})
	}
	return out, errs
}

// DetectProduct tells a configuration's product from its name, then from
// its first lines.
func DetectProduct(path string) (Product, error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("confaudit: %w", err)
	}
	base := strings.ToLower(filepath.Base(path))
	switch {
	case st.IsDir() && strings.Contains(strings.ToLower(path), "pure-ftpd"):
		return PureFTPd, nil
	case st.IsDir():
		return "", fmt.Errorf("%w: %s is a directory", ErrUnknownProduct, path)
	case strings.Contains(base, "vsftpd"):
		return Vsftpd, nil
	case strings.Contains(base, "proftpd"):
		return ProFTPD, nil
	case strings.Contains(base, "pure-ftpd") || strings.Contains(base, "pureftpd"):
		return PureFTPd, nil
	case strings.HasSuffix(base, ".toml"):
		return Port21, nil
	}
	b, err := readFile(path)
	if err != nil {
		return "", err
	}
	s := strings.ToLower(string(b))
	switch {
	case strings.Contains(s, "anonymous_enable") || strings.Contains(s, "listen_ipv6=") || strings.Contains(s, "local_enable"):
		return Vsftpd, nil
	case strings.Contains(s, "<anonymous") || strings.Contains(s, "serverident") || strings.Contains(s, "defaultroot") || strings.Contains(s, "tlsengine"):
		return ProFTPD, nil
	case strings.Contains(s, "chrooteveryone") || strings.Contains(s, "noanonymous"):
		return PureFTPd, nil
	case strings.Contains(s, "passive-ports") || strings.Contains(s, "data-dir"):
		return Port21, nil
	}
	return "", fmt.Errorf("%w: %s", ErrUnknownProduct, path)
}

func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("confaudit: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxFile))
	if err != nil {
		return nil, fmt.Errorf("confaudit: %s: %w", path, err)
	}
	return b, nil
}

// Audit audits one configuration.
func Audit(s Source) Result {
	r := Result{Source: s, Findings: []finding.Finding{}}
	switch s.Product {
	case Vsftpd:
		b, err := readFile(s.Path)
		if err != nil {
			r.Err = err
			return r
		}
		r.Files = []string{s.Path}
		r.Findings, r.Ports = AuditVsftpd(s.Path, b)
	case ProFTPD:
		conf := LoadProFTPD(s.Path)
		r.Files = conf.Files
		if len(conf.Errors) > 0 {
			r.Err = errors.Join(conf.Errors...)
		}
		r.Findings, r.Ports = AuditProFTPD(conf)
	case PureFTPd:
		conf, err := LoadPureFTPd(s.Path)
		if err != nil {
			r.Err = err
			return r
		}
		r.Files = conf.Files
		r.Findings, r.Ports = AuditPureFTPd(conf)
	case Port21:
		b, err := readFile(s.Path)
		if err != nil {
			r.Err = err
			return r
		}
		r.Files = []string{s.Path}
		r.Findings, r.Ports, r.Err = AuditPort21(s.Path, b)
	default:
		r.Err = fmt.Errorf("%w: %q", ErrUnknownProduct, s.Product)
	}
	slices.Sort(r.Ports.Control)
	r.Ports.Control = slices.Compact(r.Ports.Control)
	slices.SortStableFunc(r.Findings, func(a, b finding.Finding) int {
		if finding.Less(a, b) {
			return -1
		}
		if finding.Less(b, a) {
			return 1
		}
		return 0
	})
	return r
}

// FromCommandLine returns the configuration file a running server was
// started with, from its process name and arguments: vsftpd's first
// non-option argument, proftpd's -c, pure-ftpd's *.conf argument, port21's
// --config. ProFTPD and Pure-FTPd overwrite their command lines with a
// status text once running, so for them this often finds nothing.
func FromCommandLine(name string, args []string) (Source, bool) {
	if len(args) == 0 {
		return Source{}, false
	}
	rest := args[1:]
	flag := func(names ...string) string {
		for i, a := range rest {
			for _, n := range names {
				if a == n && i+1 < len(rest) {
					return rest[i+1]
				}
				if v, ok := strings.CutPrefix(a, n+"="); ok {
					return v
				}
			}
		}
		return ""
	}
	var s Source
	switch name {
	case "vsftpd":
		for _, a := range rest {
			if !strings.HasPrefix(a, "-") {
				s = Source{Path: a, Product: Vsftpd}
				break
			}
		}
	case "proftpd":
		s = Source{Path: flag("-c", "--config"), Product: ProFTPD}
	case "pure-ftpd":
		for _, a := range rest {
			if strings.HasSuffix(a, ".conf") && !strings.HasPrefix(a, "-") {
				s = Source{Path: a, Product: PureFTPd}
			}
		}
	case "port21":
		s = Source{Path: flag("--config"), Product: Port21}
	}
	return s, s.Path != "" && filepath.IsAbs(s.Path)
}
