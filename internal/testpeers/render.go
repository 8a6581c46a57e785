package testpeers

import (
	"bufio"
	"bytes"
	"embed"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/template"
)

//go:embed testdata/*.conf.tmpl
var templates embed.FS

// templateData is what the configuration templates may refer to.
type templateData struct {
	Port                   int
	PassiveMin, PassiveMax int
	Dir                    string // the peer's private directory
	AnonRoot               string // the anonymous root (read-only; upload/ inside is writable)
	EmptyDir               string // an empty root-owned directory (vsftpd's secure_chroot_dir)
	CertFile, KeyFile      string
	CertKeyFile            string // key and certificate in one file
	RSAKey                 bool   // the key is RSA, not ECDSA (ProFTPD's directives differ)
	PIDFile                string
	LogFile                string
	XferLog                string
	ModulePath             string // ProFTPD's module directory
	Version                string // upstream version, e.g. "1.3.8"
}

// renderTemplate renders testdata/<product>-<profile>.conf.tmpl, after
// edit (when not nil) has rewritten it. Extra lines are appended to the
// template before it is rendered.
func renderTemplate(p Product, prof Profile, data templateData, edit func(string) string, extra ...string) ([]byte, error) {
	name := fmt.Sprintf("testdata/%s-%s.conf.tmpl", p, prof)
	src, err := templates.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("testpeers: no template for %s %s: %w", p, prof, err)
	}
	if edit != nil {
		src = []byte(edit(string(src)))
	}
	if len(extra) > 0 {
		if p == ProFTPD {
			src = dropDirectives(src, extra)
		}
		src = append(append(src, "\n# testpeers.StartWith:\n"...), strings.Join(extra, "\n")+"\n"...)
	}
	tmpl, err := template.New(filepath.Base(name)).Option("missingkey=error").Parse(string(src))
	if err != nil {
		return nil, fmt.Errorf("testpeers: %s: %w", name, err)
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, data); err != nil {
		return nil, fmt.Errorf("testpeers: %s: %w", name, err)
	}
	return buf.Bytes(), nil
}

// pureSetting is one "Name value" line of a Pure-FTPd template.
type pureSetting struct{ name, value string }

// parsePureSettings reads the rendered Pure-FTPd template: one setting per
// line, "Name value", '#' comments and blank lines ignored.
func parsePureSettings(rendered []byte) ([]pureSetting, error) {
	var settings []pureSetting
	sc := bufio.NewScanner(bytes.NewReader(rendered))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, value, _ := strings.Cut(line, " ")
		value = strings.TrimSpace(value)
		if value == "" {
			return nil, fmt.Errorf("testpeers: pure-ftpd template line %d: %q has no value", n, name)
		}
		settings = append(settings, pureSetting{name, value})
	}
	return settings, sc.Err()
}

// pureFlags turns settings into Pure-FTPd's command-line flags, the way
// Debian's wrapper turns /etc/pure-ftpd/conf into them. Only the settings
// the templates use are known; any other is an error rather than a silent
// difference between the conf directory and the running daemon.
func pureFlags(settings []pureSetting) ([]string, error) {
	var flags []string
	for _, s := range settings {
		yes := strings.EqualFold(s.value, "yes")
		switch s.name {
		case "Bind":
			flags = append(flags, "--bind="+s.value)
		case "PassivePortRange":
			lo, hi, ok := strings.Cut(s.value, " ")
			if !ok {
				return nil, fmt.Errorf("testpeers: pure-ftpd PassivePortRange %q: want \"LOW HIGH\"", s.value)
			}
			flags = append(flags, "--passiveportrange="+lo+":"+strings.TrimSpace(hi))
		case "PIDFile":
			flags = append(flags, "--pidfile="+s.value)
		case "SyslogFacility":
			flags = append(flags, "--syslogfacility="+s.value)
		case "AltLog":
			flags = append(flags, "--altlog="+s.value)
		case "UnixAuthentication":
			if yes {
				flags = append(flags, "--login=unix")
			}
		case "TLS":
			flags = append(flags, "--tls="+s.value)
		case "TLSCipherSuite":
			flags = append(flags, "--tlsciphersuite="+s.value)
		case "CertFile":
			flags = append(flags, "--certfile="+s.value)
		case "MaxClientsNumber":
			flags = append(flags, "--maxclientsnumber="+s.value)
		case "MaxClientsPerIP":
			flags = append(flags, "--maxclientsperip="+s.value)
		default:
			flag, ok := pureBoolFlag(s.name)
			if !ok {
				return nil, fmt.Errorf("testpeers: pure-ftpd setting %s is not known to testpeers", s.name)
			}
			switch {
			case yes:
				flags = append(flags, flag)
			case !strings.EqualFold(s.value, "no"):
				return nil, fmt.Errorf("testpeers: pure-ftpd %s %q: want yes or no", s.name, s.value)
			}
		}
	}
	return flags, nil
}

// pureBoolFlag maps a yes/no setting to the flag it turns on.
func pureBoolFlag(name string) (string, bool) {
	switch name {
	case "DontResolve":
		return "--dontresolve", true
	case "NoAnonymous":
		return "--noanonymous", true
	case "AnonymousCantUpload":
		return "--anonymouscantupload", true
	case "AnonymousCanCreateDirs":
		return "--anonymouscancreatedirs", true
	case "AllowAnonymousFXP":
		return "--allowanonymousfxp", true
	case "AllowUserFXP":
		return "--allowuserfxp", true
	case "ChrootEveryone":
		return "--chrooteveryone", true
	}
	return "", false
}

// writePureConfDir writes one file per setting into dir, as in Debian's
// /etc/pure-ftpd/conf.
func writePureConfDir(dir string, settings []pureSetting) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("testpeers: pure-ftpd conf dir: %w", err)
	}
	for _, s := range settings {
		if err := os.WriteFile(filepath.Join(dir, s.name), []byte(s.value+"\n"), 0o644); err != nil {
			return fmt.Errorf("testpeers: pure-ftpd conf dir: %w", err)
		}
	}
	return nil
}

// privatePasswd returns the machine's /etc/passwd with the accounts the
// daemons look up added: ftp (anonymous sessions, at home in the anonymous
// root) and _pure-ftpd (Pure-FTPd's privilege separation). Both use the
// nobody/nogroup ids. The file is bind-mounted over /etc/passwd in the
// daemon's own mount namespace only; the machine's accounts are untouched.
//
// accounts are added after them, for Launch's callers.
func privatePasswd(anonRoot, emptyDir string, accounts []Account) ([]byte, error) {
	orig, err := os.ReadFile("/etc/passwd")
	if err != nil {
		return nil, fmt.Errorf("testpeers: %w", err)
	}
	var b bytes.Buffer
	for line := range strings.Lines(string(orig)) {
		name, _, _ := strings.Cut(line, ":")
		if name == "ftp" || name == "_pure-ftpd" {
			continue
		}
		b.WriteString(line)
		if !strings.HasSuffix(line, "\n") {
			b.WriteByte('\n')
		}
	}
	fmt.Fprintf(&b, "ftp:x:65534:65534:port21 test anonymous FTP:%s:/usr/sbin/nologin\n", anonRoot)
	fmt.Fprintf(&b, "_pure-ftpd:x:65534:65534:port21 test Pure-FTPd privsep:%s:/usr/sbin/nologin\n", emptyDir)
	for _, a := range accounts {
		fmt.Fprintf(&b, "%s:%s:%d:%d:port21 peer account:%s:/bin/sh\n", a.Name, a.Hash, a.UID, a.GID, a.Home)
	}
	return b.Bytes(), nil
}

// lastWins keeps the last of settings with one name, in the place of the
// first: Debian's conf directory holds one file per option, so a setting
// added by StartWith replaces the profile's.
func lastWins(settings []pureSetting) []pureSetting {
	last := map[string]string{}
	for _, s := range settings {
		last[s.name] = s.value
	}
	var out []pureSetting
	seen := map[string]bool{}
	for _, s := range settings {
		if !seen[s.name] {
			seen[s.name] = true
			out = append(out, pureSetting{s.name, last[s.name]})
		}
	}
	return out
}

// dropDirectives removes from a ProFTPD template the directives the extra
// lines set: ProFTPD takes the first of two, so an appended line would not
// override the profile's. Only single-line directives are matched.
func dropDirectives(src []byte, extra []string) []byte {
	set := map[string]bool{}
	for _, l := range extra {
		if f := strings.Fields(l); len(f) > 0 && !strings.HasPrefix(f[0], "<") && !strings.HasPrefix(f[0], "#") {
			set[strings.ToLower(f[0])] = true
		}
	}
	var out []byte
	for line := range strings.Lines(string(src)) {
		if f := strings.Fields(line); len(f) > 0 && set[strings.ToLower(f[0])] {
			continue
		}
		out = append(out, line...)
	}
	return out
}
