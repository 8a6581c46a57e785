package confaudit

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/port21/port21/internal/finding"
)

// ProFTPDDirective is one directive of proftpd.conf, with the sections it
// is nested in (lower-case names and arguments, outermost first: e.g.
// ["anonymous ~ftp", "limit write"]).
type ProFTPDDirective struct {
	Name     string // lower-case
	Args     []string
	File     string
	Line     int
	Text     string
	Sections []string
}

// ProFTPDConfig is a proftpd.conf with its includes expanded in place.
type ProFTPDConfig struct {
	Directives []ProFTPDDirective
	Files      []string
	Errors     []error
}

// Limits on includes: a configuration that includes itself, or a glob that
// matches thousands of files, must not hang or exhaust the audit.
const (
	maxIncludeDepth = 8
	maxIncludeFiles = 256
)

// LoadProFTPD reads path and, depth first, every file it Includes
// (absolute, or relative to the including file; globs and directories as
// ProFTPD allows). <IfModule> and <IfDefine> sections are read as if they
// applied, since which modules are loaded is not known here.
func LoadProFTPD(path string) *ProFTPDConfig {
	c := &ProFTPDConfig{}
	c.load(path, nil, 0, map[string]bool{})
	return c
}

func (c *ProFTPDConfig) load(path string, sections []string, depth int, active map[string]bool) {
	if depth > maxIncludeDepth {
		c.Errors = append(c.Errors, fmt.Errorf("confaudit: %s: includes nested deeper than %d", path, maxIncludeDepth))
		return
	}
	abs, _ := filepath.Abs(path)
	if active[abs] {
		c.Errors = append(c.Errors, fmt.Errorf("confaudit: %s includes itself", path))
		return
	}
	if len(c.Files) >= maxIncludeFiles {
		c.Errors = append(c.Errors, fmt.Errorf("confaudit: more than %d included files; stopped at %s", maxIncludeFiles, path))
		return
	}
	b, err := readFile(path)
	if err != nil {
		c.Errors = append(c.Errors, err)
		return
	}
	c.Files = append(c.Files, path)
	active[abs] = true
	defer delete(active, abs)
	for _, d := range ParseProFTPD(path, b) {
		d.Sections = append(slices.Clone(sections), d.Sections...)
		if d.Name == "include" && len(d.Args) > 0 {
			for _, inc := range c.expand(path, d.Args[0]) {
				c.load(inc, d.Sections, depth+1, active)
			}
			continue
		}
		c.Directives = append(c.Directives, d)
	}
}

func (c *ProFTPDConfig) expand(from, pattern string) []string {
	if !filepath.IsAbs(pattern) {
		pattern = filepath.Join(filepath.Dir(from), pattern)
	}
	if st, err := os.Stat(pattern); err == nil && st.IsDir() {
		pattern = filepath.Join(pattern, "*")
	}
	matches, err := filepath.Glob(pattern)
	if err != nil {
		c.Errors = append(c.Errors, fmt.Errorf("confaudit: %s: Include %q: %w", from, pattern, err))
		return nil
	}
	var out []string
	for _, m := range matches {
		if st, err := os.Stat(m); err == nil && st.Mode().IsRegular() {
			out = append(out, m)
		}
	}
	slices.Sort(out)
	return out
}

// ParseProFTPD parses one proftpd.conf-style file without following
// Includes: directives, <Section> nesting, '#' comments, '\' line
// continuations and double-quoted arguments.
func ParseProFTPD(file string, b []byte) []ProFTPDDirective {
	var out []ProFTPDDirective
	var stack []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	n, start := 0, 0
	var pending strings.Builder
	for sc.Scan() {
		n++
		line := strings.TrimRight(sc.Text(), "\r")
		if pending.Len() == 0 {
			start = n
		}
		if strings.HasSuffix(line, "\\") {
			pending.WriteString(strings.TrimSuffix(line, "\\") + " ")
			continue
		}
		pending.WriteString(line)
		t := strings.TrimSpace(pending.String())
		pending.Reset()
		if t == "" || t[0] == '#' {
			continue
		}
		if strings.HasPrefix(t, "</") {
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
			continue
		}
		if strings.HasPrefix(t, "<") {
			inner := strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(t, "<"), ">"))
			f := splitProArgs(inner)
			if len(f) == 0 || f[0] == "" {
				continue
			}
			name := strings.ToLower(f[0])
			sec := strings.ToLower(strings.Join(f, " "))
			// Conditionals are read as applying: they do not scope like
			// <Anonymous> or <Limit> do.
			if name == "ifmodule" || name == "ifdefine" {
				sec = ""
			}
			stack = append(stack, sec)
			out = append(out, ProFTPDDirective{Name: "<" + name, Args: f[1:], File: file, Line: start, Text: t, Sections: visible(stack[:len(stack)-1])})
			continue
		}
		f := splitProArgs(t)
		if len(f) == 0 || f[0] == "" {
			continue
		}
		out = append(out, ProFTPDDirective{Name: strings.ToLower(f[0]), Args: f[1:], File: file, Line: start, Text: t, Sections: visible(stack)})
	}
	return out
}

func visible(stack []string) []string {
	var out []string
	for _, s := range stack {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

func splitProArgs(s string) []string {
	var out []string
	var cur strings.Builder
	inQ, have := false, false
	for _, r := range s {
		switch {
		case r == '"':
			inQ, have = !inQ, true
		case (r == ' ' || r == '\t') && !inQ:
			if have {
				out = append(out, cur.String())
				cur.Reset()
				have = false
			}
		default:
			cur.WriteRune(r)
			have = true
		}
	}
	if have {
		out = append(out, cur.String())
	}
	return out
}

// inAnonymous reports whether d is inside an <Anonymous> section.
func inAnonymous(d ProFTPDDirective) bool {
	return slices.ContainsFunc(d.Sections, func(s string) bool { return strings.HasPrefix(s, "anonymous") })
}

// AuditProFTPD audits a loaded ProFTPD configuration.
func AuditProFTPD(c *ProFTPDConfig) ([]finding.Finding, Ports) {
	var out []finding.Finding
	main := ""
	if len(c.Files) > 0 {
		main = c.Files[0]
	}
	add := func(id string, d *ProFTPDDirective, fix ...string) {
		if d == nil {
			out = append(out, newFinding(id, ProFTPD, main, 0, "not set: the default applies", fix...))
			return
		}
		out = append(out, newFinding(id, ProFTPD, d.File, d.Line, d.Text, fix...))
	}
	last := func(name string) *ProFTPDDirective {
		for i := len(c.Directives) - 1; i >= 0; i-- {
			if d := &c.Directives[i]; d.Name == name && !inAnonymous(*d) {
				return d
			}
		}
		return nil
	}
	arg := func(d *ProFTPDDirective) string {
		if d == nil || len(d.Args) == 0 {
			return ""
		}
		return strings.ToLower(d.Args[0])
	}
	on := func(d *ProFTPDDirective) bool {
		switch arg(d) {
		case "on", "yes", "true", "1":
			return true
		}
		return false
	}

	// Anonymous sections: each is an anonymous login; writable unless a
	// <Limit> covering writes denies them.
	for i := range c.Directives {
		d := &c.Directives[i]
		if d.Name != "<anonymous" {
			continue
		}
		sec := strings.ToLower(strings.Join(append([]string{"anonymous"}, d.Args...), " "))
		denied, allowedBy, noLogin := false, (*ProFTPDDirective)(nil), false
		for j := range c.Directives {
			e := &c.Directives[j]
			if len(e.Sections) < 2 || e.Sections[len(e.Sections)-2] != sec {
				continue
			}
			limit := e.Sections[len(e.Sections)-1]
			if !strings.HasPrefix(limit, "limit ") {
				continue
			}
			if e.Name == "denyall" && slices.Contains(strings.Fields(limit)[1:], "login") {
				noLogin = true
			}
			if !limitCoversWrite(limit) {
				continue
			}
			switch e.Name {
			case "denyall":
				denied = true
			case "allowall":
				allowedBy = e
			}
		}
		if noLogin {
			continue // <Limit LOGIN> DenyAll: nobody can log in anonymously
		}
		add(finding.IDAnonymousLogin, d, "# remove the <Anonymous> section")
		if allowedBy != nil {
			add(finding.IDAnonymousWrite, allowedBy, "<Limit WRITE>", "  DenyAll", "</Limit>")
		} else if !denied {
			add(finding.IDAnonymousWrite, d, "<Limit WRITE>", "  DenyAll", "</Limit>")
		}
	}

	tls := last("tlsengine")
	if !on(tls) {
		add(finding.IDNoTLS, tls, "TLSEngine on", "TLSRSACertificateFile /etc/ssl/certs/ftp.pem", "TLSRSACertificateKeyFile /etc/ssl/private/ftp.key", "TLSRequired on")
		// Without TLS ProFTPD takes every login in clear ("USER x" is
		// answered 331), which is what `port21 scan` reports.
		add(finding.IDCleartextLogin, tls, "TLSEngine on", "TLSRequired on")
	} else {
		req := last("tlsrequired")
		v := arg(req)
		ctrl := v == "on" || v == "auth" || strings.HasPrefix(v, "auth+") || (strings.Contains(v, "ctrl") && !strings.Contains(v, "!ctrl"))
		data := v == "on" || (strings.Contains(v, "data") && !strings.Contains(v, "!data"))
		if !ctrl {
			add(finding.IDCleartextLogin, req, "TLSRequired on")
		}
		if !data {
			add(finding.IDDataCleartext, req, "TLSRequired on")
		}
		if p := last("tlsprotocol"); p != nil {
			legacy := false
			all := false
			for _, a := range p.Args {
				switch strings.ToLower(a) {
				case "sslv3", "tlsv1", "tlsv1.1", "+sslv3", "+tlsv1", "+tlsv1.1":
					legacy = true
				case "all":
					all = true
				}
			}
			if all && !slices.ContainsFunc(p.Args, func(a string) bool { return strings.EqualFold(a, "-TLSv1") }) {
				legacy = true
			}
			if legacy {
				add(finding.IDTLSLegacyProtocol, p, "TLSProtocol TLSv1.2 TLSv1.3")
			}
		}
		if cs := last("tlsciphersuite"); cs != nil && weakCiphers(strings.Join(cs.Args, ":")) {
			add(finding.IDTLSWeakCipher, cs, "TLSCipherSuite HIGH:!aNULL:!MD5:!3DES:!RC4")
		}
	}
	if last("defaultroot") == nil {
		add(IDNoChroot, nil, "DefaultRoot ~")
	}
	if d := last("allowforeignaddress"); d != nil && arg(d) != "off" && arg(d) != "no" && arg(d) != "false" {
		add(finding.IDFTPBounce, d, "AllowForeignAddress off")
	}
	var passive [2]uint16
	if d := last("passiveports"); d != nil && len(d.Args) >= 2 {
		l, err1 := strconv.ParseUint(d.Args[0], 10, 16)
		h, err2 := strconv.ParseUint(d.Args[1], 10, 16)
		if err1 == nil && err2 == nil && l > 0 && l <= h {
			passive = [2]uint16{uint16(l), uint16(h)}
		}
	}
	if passive[0] == 0 {
		add(IDNoPassiveRange, last("passiveports"), "PassivePorts 50000 50100")
	}
	if d := last("transferlog"); d != nil && arg(d) == "none" {
		add(IDLoggingOff, d, "TransferLog /var/log/proftpd/xferlog")
	}
	// ServerIdent on without a string is the default: "ProFTPD Server
	// (name) [address]" names the product, and before 1.3.6 its version
	// too, which the configuration cannot rule out.
	switch d := last("serverident"); {
	case d == nil:
		add(finding.IDVersionDisclosed, nil, "ServerIdent on \"FTP server ready.\"")
		out[len(out)-1].Evidence = []finding.Evidence{{Note: "ServerIdent not set: ProFTPD greets with \"ProFTPD Server (name) [address]\", and before 1.3.6 with its version"}}
	case on(d) && len(d.Args) < 2:
		add(finding.IDVersionDisclosed, d, "ServerIdent on \"FTP server ready.\"")
	case on(d) && namesVersion(strings.Join(d.Args[1:], " ")):
		add(finding.IDVersionDisclosed, d, "ServerIdent on \"FTP server ready.\"")
	}
	return out, Ports{Control: proPorts(c), Passive: passive}
}

// proPorts returns the ports ProFTPD listens on: the main server's Port
// (21 by default; "Port 0" turns the main server off) and the Port of
// every <VirtualHost> (21 when it sets none).
func proPorts(c *ProFTPDConfig) []uint16 {
	var out []uint16
	mainSet := false
	vhosts := map[string]bool{} // <VirtualHost> sections, by name
	vhostSet := map[string]bool{}
	for _, d := range c.Directives {
		vh := ""
		for _, s := range d.Sections {
			if strings.HasPrefix(s, "virtualhost") {
				vh = s
			}
		}
		if d.Name == "<virtualhost" {
			vhosts[strings.ToLower(strings.Join(append([]string{"virtualhost"}, d.Args...), " "))] = true
			continue
		}
		if d.Name != "port" || len(d.Args) == 0 {
			continue
		}
		p, err := strconv.ParseUint(d.Args[0], 10, 16)
		if err != nil {
			continue
		}
		if vh != "" {
			vhostSet[vh] = true
		} else {
			mainSet = true
		}
		if p > 0 {
			out = append(out, uint16(p))
		}
	}
	if !mainSet {
		out = append(out, 21)
	}
	for vh := range vhosts {
		if !vhostSet[vh] {
			out = append(out, 21)
		}
	}
	return out
}

// limitCoversWrite reports whether a "<Limit ...>" section names writes.
func limitCoversWrite(limit string) bool {
	for _, cmd := range strings.Fields(limit)[1:] {
		switch strings.ToUpper(cmd) {
		case "WRITE", "ALL", "STOR", "STOU", "APPE", "MKD", "XMKD":
			return true
		}
	}
	return false
}
