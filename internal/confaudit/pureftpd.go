package confaudit

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/port21/port21/internal/finding"
)

// PureFTPdOption is one Pure-FTPd setting: a file of Debian's conf
// directory (name = option, content = value), or a line of pure-ftpd.conf.
type PureFTPdOption struct {
	Value string
	File  string
	Line  int
	Text  string
}

// PureFTPdConfig is a Pure-FTPd configuration, keyed by lower-case option.
type PureFTPdConfig struct {
	Options map[string]PureFTPdOption
	Files   []string
	// Where the fix goes: the directory (one file per option) or the file.
	Path  string
	IsDir bool
}

// LoadPureFTPd reads Debian's /etc/pure-ftpd/conf directory (one file per
// option) or a pure-ftpd.conf file ("Option value" lines).
func LoadPureFTPd(path string) (*PureFTPdConfig, error) {
	c := &PureFTPdConfig{Options: map[string]PureFTPdOption{}, Path: path}
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		b, err := readFile(path)
		if err != nil {
			return nil, err
		}
		c.Files = []string{path}
		c.Options = ParsePureFTPdConf(path, b)
		return c, nil
	}
	c.IsDir = true
	ents, err := os.ReadDir(path)
	if err != nil {
		return nil, err
	}
	for i, e := range ents {
		if i >= maxIncludeFiles {
			break
		}
		if !e.Type().IsRegular() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		f := filepath.Join(path, e.Name())
		b, err := readFile(f)
		if err != nil {
			continue
		}
		c.Files = append(c.Files, f)
		v, _, _ := strings.Cut(string(b), "\n")
		v = strings.TrimSpace(v)
		c.Options[strings.ToLower(e.Name())] = PureFTPdOption{Value: v, File: f, Line: 1, Text: e.Name() + ": " + v}
	}
	return c, nil
}

// ParsePureFTPdConf parses pure-ftpd.conf: "Option value" lines, '#'
// comments. A later setting wins.
func ParsePureFTPdConf(file string, b []byte) map[string]PureFTPdOption {
	opts := map[string]PureFTPdOption{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		t := strings.TrimSpace(sc.Text())
		if t == "" || t[0] == '#' {
			continue
		}
		k, v, _ := strings.Cut(t, " ")
		if i := strings.IndexByte(k, '\t'); i >= 0 {
			k, v = k[:i], k[i+1:]+" "+v
		}
		opts[strings.ToLower(k)] = PureFTPdOption{Value: strings.TrimSpace(v), File: file, Line: n, Text: t}
	}
	return opts
}

// AuditPureFTPd audits a Pure-FTPd configuration. Built-in defaults:
// anonymous allowed when an "ftp" account exists, uploads by anonymous
// allowed, TLS off, no chroot.
func AuditPureFTPd(c *PureFTPdConfig) ([]finding.Finding, Ports) {
	var out []finding.Finding
	// fix renders "Option value" the way this configuration is written.
	fix := func(opt, val string) string {
		if c.IsDir {
			return "echo '" + val + "' > " + filepath.Join(c.Path, opt)
		}
		return opt + " " + val
	}
	add := func(id, key string, fixes ...string) {
		o, ok := c.Options[strings.ToLower(key)]
		if !ok {
			target := c.Path
			if c.IsDir {
				target = filepath.Join(c.Path, key)
			}
			out = append(out, newFinding(id, PureFTPd, target, 0, key+" not set: the default applies", fixes...))
			return
		}
		out = append(out, newFinding(id, PureFTPd, o.File, o.Line, o.Text, fixes...))
	}
	yes := func(key string) bool {
		switch strings.ToLower(c.Options[strings.ToLower(key)].Value) {
		case "yes", "1", "true", "on":
			return true
		}
		return false
	}
	if !yes("NoAnonymous") {
		add(finding.IDAnonymousLogin, "NoAnonymous", fix("NoAnonymous", "yes"))
		if !yes("AnonymousCantUpload") {
			add(finding.IDAnonymousWrite, "AnonymousCantUpload", fix("AnonymousCantUpload", "yes"))
		}
	}
	tls := 0
	if v, ok := c.Options["tls"]; ok {
		tls, _ = strconv.Atoi(v.Value)
	}
	switch {
	case tls <= 0:
		add(finding.IDNoTLS, "TLS", fix("TLS", "3"), "# certificate and key in /etc/ssl/private/pure-ftpd.pem")
		// Without TLS every login is in clear, as `port21 scan` sees it.
		add(finding.IDCleartextLogin, "TLS", fix("TLS", "3"))
	case tls == 1:
		add(finding.IDCleartextLogin, "TLS", fix("TLS", "3"))
		add(finding.IDDataCleartext, "TLS", fix("TLS", "3"))
	case tls == 2:
		add(finding.IDDataCleartext, "TLS", fix("TLS", "3"))
	}
	if tls > 0 {
		if o, ok := c.Options["tlsciphersuite"]; ok && weakCiphers(o.Value) {
			add(finding.IDTLSWeakCipher, "TLSCipherSuite", fix("TLSCipherSuite", "HIGH:!aNULL:!MD5:!3DES:!RC4"))
		}
	}
	if !yes("ChrootEveryone") {
		add(IDNoChroot, "ChrootEveryone", fix("ChrootEveryone", "yes"))
	}
	for _, k := range []string{"AllowUserFXP", "AllowAnonymousFXP"} {
		if yes(k) {
			add(finding.IDFTPBounce, k, fix(k, "no"))
		}
	}
	var passive [2]uint16
	if o, ok := c.Options["passiveportrange"]; ok {
		f := strings.Fields(strings.ReplaceAll(o.Value, ":", " "))
		if len(f) == 2 {
			l, err1 := strconv.ParseUint(f[0], 10, 16)
			h, err2 := strconv.ParseUint(f[1], 10, 16)
			if err1 == nil && err2 == nil && l > 0 && l <= h {
				passive = [2]uint16{uint16(l), uint16(h)}
			}
		}
	}
	if passive[0] == 0 {
		add(IDNoPassiveRange, "PassivePortRange", fix("PassivePortRange", "\"50000 50100\""))
	}
	if strings.EqualFold(c.Options["syslogfacility"].Value, "none") {
		add(IDLoggingOff, "SyslogFacility", fix("SyslogFacility", "ftp"))
	}
	// Pure-FTPd never names its version in the greeting: no
	// version-disclosed here.
	slices.SortStableFunc(out, func(a, b finding.Finding) int { return strings.Compare(a.ID, b.ID) })
	return out, Ports{Control: []uint16{pureBindPort(c.Options["bind"].Value)}, Passive: passive}
}

// pureBindPort reads Pure-FTPd's Bind (-S) setting, "[address,]port", and
// returns the port, 21 by default.
func pureBindPort(v string) uint16 {
	v = strings.TrimSpace(v)
	if i := strings.LastIndexByte(v, ','); i >= 0 {
		v = v[i+1:]
	}
	if p, err := strconv.ParseUint(strings.TrimSpace(v), 10, 16); err == nil && p > 0 {
		return uint16(p)
	}
	return 21
}
