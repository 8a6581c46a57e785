// Package config defines port21's server configuration: its embedded
// defaults, strict decoding of a TOML file, and validation in one place.
//
// Every error names the key that is wrong (as in the TOML file and on the
// command line, which use the same names), so an administrator can fix it
// without reading code. Unknown keys are errors, with their line: a typo in
// a security setting must never be silently ignored.
package config

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"
)

// Config is the server's configuration. Field tags are the TOML keys, which
// are also the command-line flag names.
type Config struct {
	Listen            string `toml:"listen"`
	ImplicitTLSListen string `toml:"implicit-tls-listen"`
	DataDir           string `toml:"data-dir"`
	// Store is where accounts, bans and their version live: "" for the
	// SQLite file users.db in DataDir, or a postgres:// URL for a
	// PostgreSQL database that several nodes share. It may hold a
	// password: print it only through RedactStore.
	Store        string `toml:"store"`
	PassivePorts string `toml:"passive-ports"`
	PublicHost   string `toml:"public-host"`
	Cert         string `toml:"cert"`
	Key          string `toml:"key"`

	// ActiveMode allows PORT/EPRT. Even when on, the server only connects
	// back to the control connection's own address on ports >= 1024.
	ActiveMode bool `toml:"active-mode"`
	// RequireCloseNotify refuses TLS uploads that end without a TLS
	// close_notify alert: without it a forged TCP FIN could truncate a file.
	RequireCloseNotify bool `toml:"require-close-notify"`

	MaxClients      int `toml:"max-clients"`
	MaxClientsPerIP int `toml:"max-clients-per-ip"`
	// MaxPassivePerIP bounds the passive ports that clients of one address
	// (IPv6: one /64) hold open at once, waiting for a data connection.
	MaxPassivePerIP int      `toml:"max-passive-per-ip"`
	IdleTimeout     Duration `toml:"idle-timeout"`
	LoginTimeout    Duration `toml:"login-timeout"`
	DataTimeout     Duration `toml:"data-timeout"`
	// ShutdownTimeout is how long SIGTERM lets running transfers finish
	// before their sessions are closed.
	ShutdownTimeout Duration `toml:"shutdown-timeout"`

	// MaxLoginFailures failed logins from one address within BanWindow ban
	// that address for BanDuration. 0 turns banning off.
	MaxLoginFailures int      `toml:"max-login-failures"`
	BanWindow        Duration `toml:"ban-window"`
	BanDuration      Duration `toml:"ban-duration"`
	// BanMaxDuration caps a ban's length: each repeat offence doubles
	// BanDuration up to it.
	BanMaxDuration Duration `toml:"ban-max-duration"`
	// DefenderExempt networks are never scored nor banned (a monitoring
	// host, the office).
	DefenderExempt []string `toml:"defender-exempt"`

	// Allow, when not empty, is the only networks that may connect; Deny
	// networks may never connect, even when in Allow. Both are checked at
	// accept, before a byte is sent.
	Allow []string `toml:"allow"`
	Deny  []string `toml:"deny"`

	// TrustedProxies are the load balancers (CIDRs or addresses) that must
	// start every control connection with a PROXY protocol header (v1 or
	// v2); the client address in it is then the session's address for
	// everything: allow and deny, bans, logs, and the data connection
	// check. A connection from them without a header is refused; a header
	// from anyone else is not believed (it is read as FTP, and fails).
	TrustedProxies []string `toml:"trusted-proxies"`
	// PassiveHost picks the address announced in PASV replies by the
	// client's network: the first rule with a network holding the client
	// wins; clients of no rule get public-host (or the control
	// connection's local address). EPSV replies carry no address.
	PassiveHost []PassiveHost `toml:"passive-host"`

	// AnonymousRoot, when set, lets anyone log in as "anonymous" or "ftp"
	// with any password, read-only, confined to this directory.
	AnonymousRoot string `toml:"anonymous-root"`

	// TLSMinVersion and TLSMaxVersion bound the TLS versions offered:
	// "1.2" or "1.3". Both are on by default; pin one only for a site
	// that must.
	TLSMinVersion string `toml:"tls-min-version"`
	TLSMaxVersion string `toml:"tls-max-version"`

	// LogFormat is "text" or "json"; the audit log goes to standard error.
	LogFormat string `toml:"log-format"`
	// LogFile, when set, takes the audit log instead of standard error,
	// as JSON lines; XferlogFile, when set, gets one xferlog(5) line per
	// file transfer. SIGUSR1 reopens both (logrotate).
	LogFile     string `toml:"log-file"`
	XferlogFile string `toml:"xferlog-file"`
	// MetricsListen, when set, serves Prometheus metrics at /metrics on
	// this address (keep it on loopback or a management network).
	MetricsListen string `toml:"metrics-listen"`
}

// PassiveHost is one passive-host rule: clients in Networks are told Host
// in PASV replies.
type PassiveHost struct {
	Networks []string `toml:"networks"`
	// Host is an IPv4 address or a host name, looked up at start and on
	// reload (see ResolvePublic), never by Validate.
	Host string `toml:"host"`
}

// Default returns the embedded defaults: loopback only, TLS required by the
// server's own policy, bans on, active mode restricted but available.
func Default() Config {
	return Config{
		Listen:             "127.0.0.1:2121",
		DataDir:            "./port21-data",
		PassivePorts:       "50000-50100",
		ActiveMode:         true,
		RequireCloseNotify: true,
		MaxClients:         512,
		MaxClientsPerIP:    32,
		MaxPassivePerIP:    16,
		IdleTimeout:        Duration{5 * time.Minute},
		LoginTimeout:       Duration{60 * time.Second},
		DataTimeout:        Duration{60 * time.Second},
		ShutdownTimeout:    Duration{30 * time.Second},
		MaxLoginFailures:   5,
		BanWindow:          Duration{10 * time.Minute},
		BanDuration:        Duration{30 * time.Minute},
		BanMaxDuration:     Duration{24 * time.Hour},
		TLSMinVersion:      "1.2",
		TLSMaxVersion:      "1.3",
		LogFormat:          "text",
	}
}

// Duration is a time.Duration written as a Go duration string ("90s", "5m").
type Duration struct{ time.Duration }

// UnmarshalText implements encoding.TextUnmarshaler for TOML strings.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("%q is not a duration like \"90s\" or \"5m\"", b)
	}
	d.Duration = v
	return nil
}

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// Load decodes a TOML file over base. Keys absent from the file keep base's
// values; unknown keys are an error that names the key and its line.
func Load(path string, base Config) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return base, fmt.Errorf("config: %w", err)
	}
	return Decode(b, path, base)
}

// Decode is Load for bytes already read; name is used in errors.
func Decode(b []byte, name string, base Config) (Config, error) {
	cfg := base
	dec := toml.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		var strict *toml.StrictMissingError
		if errors.As(err, &strict) && len(strict.Errors) > 0 {
			var msgs []string
			for _, e := range strict.Errors {
				row, _ := e.Position()
				msgs = append(msgs, fmt.Sprintf("%s:%d: unknown key %q", name, row, strings.Join(e.Key(), ".")))
			}
			return base, fmt.Errorf("config: %s", strings.Join(msgs, "; "))
		}
		var de *toml.DecodeError
		if errors.As(err, &de) {
			row, _ := de.Position()
			key := strings.Join(de.Key(), ".")
			if key != "" {
				return base, fmt.Errorf("config: %s:%d: key %q: %s", name, row, key, de.Error())
			}
			return base, fmt.Errorf("config: %s:%d: %s", name, row, de.Error())
		}
		return base, fmt.Errorf("config: %s: %w", name, err)
	}
	return cfg, nil
}

// PortRange is an inclusive range of TCP ports.
type PortRange struct{ Low, High uint16 }

// Len is the number of ports in the range.
func (r PortRange) Len() int { return int(r.High) - int(r.Low) + 1 }

func (r PortRange) String() string { return fmt.Sprintf("%d-%d", r.Low, r.High) }

// ParsePortRange parses "LOW-HIGH" (or a single port).
func ParsePortRange(s string) (PortRange, error) {
	lo, hi, found := strings.Cut(strings.TrimSpace(s), "-")
	if !found {
		hi = lo
	}
	l, err1 := strconv.ParseUint(strings.TrimSpace(lo), 10, 16)
	h, err2 := strconv.ParseUint(strings.TrimSpace(hi), 10, 16)
	if err1 != nil || err2 != nil || l == 0 || h == 0 {
		return PortRange{}, fmt.Errorf("%q is not a port range like 50000-50100", s)
	}
	if l > h {
		return PortRange{}, fmt.Errorf("%q: low port is above high port", s)
	}
	if l < 1024 {
		return PortRange{}, fmt.Errorf("%q: passive ports must be 1024 or above", s)
	}
	return PortRange{uint16(l), uint16(h)}, nil
}

// Validated is a Config whose values have been checked and parsed.
type Validated struct {
	Config
	Passive PortRange
	// Public is the address announced in PASV replies; invalid means "the
	// control connection's local address", or, when PublicName is set, that
	// ResolvePublic has not run yet.
	Public netip.Addr
	// AllowNets, DenyNets and ExemptNets are Allow, Deny and
	// DefenderExempt parsed (host bits cleared, IPv4-mapped as IPv4).
	AllowNets, DenyNets, ExemptNets []netip.Prefix
	// TLSMin and TLSMax are tls-min-version and tls-max-version as
	// crypto/tls constants (tls.VersionTLS12, tls.VersionTLS13).
	TLSMin, TLSMax uint16
	// PublicName is public-host when it is a name rather than an address.
	PublicName string
	// TrustedNets is TrustedProxies parsed.
	TrustedNets []netip.Prefix
	// PassiveRules are the passive-host rules parsed, in order.
	PassiveRules []PassiveRule
}

// PassiveRule is a passive-host rule parsed: Addr is invalid while Name
// waits for ResolvePublic.
type PassiveRule struct {
	Nets []netip.Prefix
	Addr netip.Addr
	Name string
}

// PassiveAddr returns the address PASV announces to client: that of the
// first passive-host rule with a network holding it, else public-host;
// invalid means "the control connection's local address".
func (v *Validated) PassiveAddr(client netip.Addr) netip.Addr {
	client = client.Unmap()
	for _, r := range v.PassiveRules {
		for _, p := range r.Nets {
			if p.Contains(client) {
				return r.Addr
			}
		}
	}
	return v.Public
}

// Trusted reports whether peer is one of trusted-proxies.
func (v *Validated) Trusted(peer netip.Addr) bool {
	peer = peer.Unmap()
	for _, p := range v.TrustedNets {
		if p.Contains(peer) {
			return true
		}
	}
	return false
}

// tlsVersions are the values of tls-min-version and tls-max-version. TLS
// 1.0 and 1.1 are not among them: they are broken, and FTPS clients that
// need them are long gone.
var tlsVersions = map[string]uint16{"1.2": 0x0303, "1.3": 0x0304}

func parseTLSVersion(s string) (uint16, error) {
	if v, ok := tlsVersions[strings.TrimSpace(s)]; ok {
		return v, nil
	}
	return 0, fmt.Errorf("%q: want \"1.2\" or \"1.3\"", s)
}

// ResolvePublic looks up PublicName, when set, and fills in Public with its
// first IPv4 address. It is separate from Validate so that checking a
// configuration (port21 local audits other machines' files) never waits
// for, or fails on, DNS; the server calls it once before it starts.
// The host names of passive-host rules are looked up the same way.
func (v *Validated) ResolvePublic(ctx context.Context, lookup func(ctx context.Context, network, host string) ([]netip.Addr, error)) error {
	if v.PublicName != "" {
		a, err := resolve4(ctx, lookup, v.PublicName)
		if err != nil {
			return fmt.Errorf("config: public-host: %w", err)
		}
		v.Public = a
	}
	// A copy: Validated values share the rules' backing array.
	rules := slices.Clone(v.PassiveRules)
	for i, r := range rules {
		if r.Name == "" {
			continue
		}
		a, err := resolve4(ctx, lookup, r.Name)
		if err != nil {
			return fmt.Errorf("config: passive-host: rule %d: %w", i+1, err)
		}
		rules[i].Addr = a
	}
	v.PassiveRules = rules
	return nil
}

func resolve4(ctx context.Context, lookup func(ctx context.Context, network, host string) ([]netip.Addr, error), name string) (netip.Addr, error) {
	addrs, err := lookup(ctx, "ip4", name)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("%q does not resolve: %w", name, err)
	}
	for _, a := range addrs {
		if a = a.Unmap(); a.Is4() {
			return a, nil
		}
	}
	return netip.Addr{}, fmt.Errorf("%q has no IPv4 address (PASV can only announce IPv4; IPv6 clients use EPSV)", name)
}

// Validate checks every key, in a fixed order so that errors come in the
// same order on every run, and returns the parsed values. The error joins
// one *KeyError per problem (see KeyErrors), each naming its key and why;
// the server must not start with any.
// Validate does no I/O: a public-host name is checked for its form only
// (see ResolvePublic).
func (c Config) Validate() (Validated, error) {
	v := Validated{Config: c}
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, &KeyError{Key: key, Msg: fmt.Sprintf(format, args...)})
	}
	if err := checkListen(c.Listen); err != nil {
		bad("listen", "%v", err)
	}
	if c.ImplicitTLSListen != "" {
		if err := checkListen(c.ImplicitTLSListen); err != nil {
			bad("implicit-tls-listen", "%v", err)
		}
		// Two ":0" ports are two ports the kernel picks, not one.
		if c.ImplicitTLSListen == c.Listen && !strings.HasSuffix(c.Listen, ":0") {
			bad("implicit-tls-listen", "must differ from listen (%s)", c.Listen)
		}
	}
	if strings.TrimSpace(c.DataDir) == "" {
		bad("data-dir", "must not be empty")
	}
	if err := checkStore(c.Store); err != nil {
		bad("store", "%v", err)
	}
	pr, err := ParsePortRange(c.PassivePorts)
	if err != nil {
		bad("passive-ports", "%v", err)
	}
	v.Passive = pr
	if c.PublicHost != "" {
		a, name, err := parsePassiveHost(c.PublicHost)
		if err != nil {
			bad("public-host", "%v", err)
		}
		v.Public, v.PublicName = a, name
	}
	for i, ph := range c.PassiveHost {
		var r PassiveRule
		var err error
		if ph.Host == "" {
			bad("passive-host", "rule %d: host must be set", i+1)
		} else if r.Addr, r.Name, err = parsePassiveHost(ph.Host); err != nil {
			bad("passive-host", "rule %d: host: %v", i+1, err)
		}
		if len(ph.Networks) == 0 {
			bad("passive-host", "rule %d: networks must list at least one CIDR", i+1)
		}
		for _, n := range ph.Networks {
			p, err := parsePrefix(n)
			if err != nil {
				bad("passive-host", "rule %d: networks: %v", i+1, err)
				continue
			}
			r.Nets = append(r.Nets, p)
		}
		v.PassiveRules = append(v.PassiveRules, r)
	}
	for _, e := range c.TrustedProxies {
		p, err := parsePrefix(e)
		switch {
		case err != nil:
			bad("trusted-proxies", "%v", err)
		case p.Bits() == 0:
			// Every host could then claim to be any client, and pass any
			// allow list or shed any ban.
			bad("trusted-proxies", "%q trusts every address: list the proxies' own addresses", e)
		default:
			v.TrustedNets = append(v.TrustedNets, p)
		}
	}
	if (c.Cert == "") != (c.Key == "") {
		bad("cert", "cert and key must be given together")
	}
	for _, kv := range []struct {
		key string
		val int
	}{{"max-clients", c.MaxClients}, {"max-clients-per-ip", c.MaxClientsPerIP}, {"max-passive-per-ip", c.MaxPassivePerIP}} {
		if kv.val < 1 {
			bad(kv.key, "must be at least 1, got %d", kv.val)
		}
	}
	if c.MaxClientsPerIP > c.MaxClients {
		bad("max-clients-per-ip", "%d is above max-clients (%d)", c.MaxClientsPerIP, c.MaxClients)
	}
	for _, kd := range []struct {
		key string
		d   Duration
	}{{"idle-timeout", c.IdleTimeout}, {"login-timeout", c.LoginTimeout}, {"data-timeout", c.DataTimeout}} {
		if kd.d.Duration < time.Second {
			bad(kd.key, "must be at least 1s, got %s", kd.d)
		}
	}
	if c.ShutdownTimeout.Duration < 0 {
		bad("shutdown-timeout", "must be 0 (close at once) or more, got %s", c.ShutdownTimeout)
	}
	if c.MaxLoginFailures < 0 {
		bad("max-login-failures", "must be 0 (off) or more, got %d", c.MaxLoginFailures)
	}
	if c.MaxLoginFailures > 0 {
		if c.BanWindow.Duration <= 0 {
			bad("ban-window", "must be positive when max-login-failures is set")
		}
		if c.BanDuration.Duration <= 0 {
			bad("ban-duration", "must be positive when max-login-failures is set")
		}
	}
	if c.MaxLoginFailures > 0 && c.BanMaxDuration.Duration < c.BanDuration.Duration {
		bad("ban-max-duration", "%s is below ban-duration (%s)", c.BanMaxDuration, c.BanDuration)
	}
	for _, list := range []struct {
		key string
		in  []string
		out *[]netip.Prefix
	}{{"allow", c.Allow, &v.AllowNets}, {"deny", c.Deny, &v.DenyNets}, {"defender-exempt", c.DefenderExempt, &v.ExemptNets}} {
		for _, e := range list.in {
			p, err := parsePrefix(e)
			if err != nil {
				bad(list.key, "%v", err)
				continue
			}
			*list.out = append(*list.out, p)
		}
	}
	if c.AnonymousRoot != "" && !filepath.IsAbs(c.AnonymousRoot) {
		bad("anonymous-root", "%q is not an absolute path", c.AnonymousRoot)
	}
	if c.MetricsListen != "" {
		if err := checkListen(c.MetricsListen); err != nil {
			bad("metrics-listen", "%v", err)
		}
	}
	if v.TLSMin, err = parseTLSVersion(c.TLSMinVersion); err != nil {
		bad("tls-min-version", "%v", err)
	}
	if v.TLSMax, err = parseTLSVersion(c.TLSMaxVersion); err != nil {
		bad("tls-max-version", "%v", err)
	}
	if v.TLSMin != 0 && v.TLSMax != 0 && v.TLSMin > v.TLSMax {
		bad("tls-min-version", "%s is above tls-max-version (%s)", c.TLSMinVersion, c.TLSMaxVersion)
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		bad("log-format", "%q: want \"text\" or \"json\"", c.LogFormat)
	}
	if len(errs) > 0 {
		return Validated{}, errors.Join(errs...)
	}
	return v, nil
}

// parsePassiveHost parses an address to announce in PASV replies: an IPv4
// address, or a host name for ResolvePublic (its form only is checked).
func parsePassiveHost(s string) (netip.Addr, string, error) {
	a, err := netip.ParseAddr(s)
	switch {
	case err == nil && !a.Unmap().Is4():
		return netip.Addr{}, "", fmt.Errorf("%q is not IPv4: PASV can only announce IPv4 (IPv6 clients use EPSV, which needs no address)", s)
	case err == nil:
		return a.Unmap(), "", nil
	case !hostName(s):
		return netip.Addr{}, "", fmt.Errorf("%q is neither an IP address nor a host name", s)
	default:
		return netip.Addr{}, s, nil
	}
}

// KeyError is one problem with one key.
type KeyError struct {
	Key string // as in the TOML file and on the command line
	Msg string
}

func (e *KeyError) Error() string { return "config: " + e.Key + ": " + e.Msg }

// KeyErrors returns the problems in an error from Validate, one per key
// at fault (a key may have several).
func KeyErrors(err error) []*KeyError {
	var out []*KeyError
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			out = append(out, KeyErrors(e)...)
		}
		return out
	}
	var ke *KeyError
	if errors.As(err, &ke) {
		out = append(out, ke)
	}
	return out
}

// KeyLine returns the line of key in a TOML file's text (1-based), or 0
// when the file does not set it.
func KeyLine(text []byte, key string) int {
	for i, line := range strings.Split(string(text), "\n") {
		k, _, ok := strings.Cut(line, "=")
		if ok && strings.Trim(strings.TrimSpace(k), `"'`) == key {
			return i + 1
		}
	}
	return 0
}

// parsePrefix parses a CIDR or a bare address (one host).
func parsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	var p netip.Prefix
	var err error
	if strings.Contains(s, "/") {
		p, err = netip.ParsePrefix(s)
	} else {
		var a netip.Addr
		if a, err = netip.ParseAddr(s); err == nil && a.Zone() != "" {
			err = errors.New("zoned")
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not a CIDR or IP address", s)
	}
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p.Masked(), nil
}

// checkStore checks the store key's form: "" or a postgres:// (or
// postgresql://) URL. Errors never quote the value: it may hold a password.
// Options are checked when the store is opened.
func checkStore(s string) error {
	if s == "" {
		return nil
	}
	scheme, _, ok := strings.Cut(s, "://")
	if !ok || (scheme != "postgres" && scheme != "postgresql") {
		return errors.New(`want "" (SQLite in data-dir) or a postgres:// URL`)
	}
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("%s: not a valid URL (percent-encode special characters in the password)", RedactStore(s))
	}
	if u.Fragment != "" || u.Opaque != "" {
		return fmt.Errorf("%s: not a valid PostgreSQL URL", RedactStore(s))
	}
	return nil
}

// RedactStore returns the store key as it may be shown: a URL with its
// password (in the user part or a password= option) masked, and only the
// scheme of a value that is not a URL.
func RedactStore(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" {
		if scheme, _, ok := strings.Cut(s, "://"); ok && (scheme == "postgres" || scheme == "postgresql") {
			return scheme + "://(unparsable URL)"
		}
		return "(not a URL)"
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

func checkListen(s string) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return fmt.Errorf("%q is not HOST:PORT (IPv6 as [::1]:2121)", s)
	}
	if host != "" {
		if _, err := netip.ParseAddr(host); err != nil {
			return fmt.Errorf("%q: host must be an IP address", s)
		}
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("%q: bad port", s)
	}
	return nil
}

// hostName reports whether s has the form of a DNS name: labels of letters,
// digits, hyphens and underscores, 1 to 63 bytes each, 253 in all, the last
// not all digits (that is a mistyped address).
func hostName(s string) bool {
	s = strings.TrimSuffix(s, ".")
	if s == "" || len(s) > 253 {
		return false
	}
	labels := strings.Split(s, ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return strings.Trim(labels[len(labels)-1], "0123456789") != ""
}

// StartupKeys are the keys a running server cannot change: the sockets it
// listens on, where its state lives, the TLS versions its base config was
// built with, and where and how it logs. A reload keeps their old values
// (see KeepStartupKeys).
var StartupKeys = []string{"listen", "implicit-tls-listen", "data-dir", "store", "tls-min-version", "tls-max-version",
	"log-format", "log-file", "xferlog-file", "metrics-listen"}

// KeepStartupKeys returns next with the StartupKeys (and the values parsed
// from them) of running, and the names of those next would have changed.
func KeepStartupKeys(running, next Validated) (Validated, []string) {
	var changed []string
	r, n := reflect.ValueOf(&running.Config).Elem(), reflect.ValueOf(&next.Config).Elem()
	for i := 0; i < r.NumField(); i++ {
		key := r.Type().Field(i).Tag.Get("toml")
		if !slices.Contains(StartupKeys, key) || reflect.DeepEqual(r.Field(i).Interface(), n.Field(i).Interface()) {
			continue
		}
		changed = append(changed, key)
		n.Field(i).Set(r.Field(i))
	}
	next.TLSMin, next.TLSMax = running.TLSMin, running.TLSMax
	return next, changed
}
