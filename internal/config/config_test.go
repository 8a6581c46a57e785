package config

import (
	"context"
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestDefaultsValidate(t *testing.T) {
	v, err := Default().Validate()
	if err != nil {
		t.Fatal(err)
	}
	if v.Listen != "127.0.0.1:2121" || v.Passive != (PortRange{50000, 50100}) || !v.RequireCloseNotify {
		t.Errorf("defaults changed: %+v", v)
	}
}

func TestDecode(t *testing.T) {
	cfg, err := Decode([]byte(`
listen = "0.0.0.0:21"
passive-ports = "40000-40009"
idle-timeout = "90s"
active-mode = false
`), "port21.toml", Default())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != "0.0.0.0:21" || cfg.PassivePorts != "40000-40009" || cfg.IdleTimeout.Duration != 90*time.Second || cfg.ActiveMode {
		t.Errorf("decoded %+v", cfg)
	}
	// Keys absent from the file keep their defaults.
	if cfg.DataDir != "./port21-data" || cfg.MaxLoginFailures != 5 {
		t.Errorf("defaults lost: %+v", cfg)
	}
}

// Errors must name the key (and the line for the file) so an administrator
// can fix them without reading code.
func TestErrorsNameTheKey(t *testing.T) {
	for _, tc := range []struct {
		name, toml string
		want       []string
	}{
		{"unknown key", "listen = \"127.0.0.1:21\"\npasive-ports = \"1-2\"\n", []string{"port21.toml:2", `"pasive-ports"`}},
		{"wrong type", "max-clients = \"many\"\n", []string{"port21.toml:1", "max-clients"}},
		{"bad duration", "idle-timeout = \"forever\"\n", []string{"idle-timeout", "forever"}},
		{"bad syntax", "listen = \n", []string{"port21.toml:1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode([]byte(tc.toml), "port21.toml", Default())
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		key    string
		mutate func(*Config)
	}{
		{"listen", func(c *Config) { c.Listen = "localhost" }},
		{"listen", func(c *Config) { c.Listen = "ftp.example.com:21" }},
		{"implicit-tls-listen", func(c *Config) { c.ImplicitTLSListen = c.Listen }},
		{"data-dir", func(c *Config) { c.DataDir = " " }},
		{"store", func(c *Config) { c.Store = "/var/lib/port21/users.db" }},
		{"store", func(c *Config) { c.Store = "mysql://u:p@db/port21" }},
		{"store", func(c *Config) { c.Store = "postgres://u:p@[::1/port21" }},
		{"passive-ports", func(c *Config) { c.PassivePorts = "50100-50000" }},
		{"passive-ports", func(c *Config) { c.PassivePorts = "20-21" }},
		{"passive-ports", func(c *Config) { c.PassivePorts = "a-b" }},
		{"public-host", func(c *Config) { c.PublicHost = "2001:db8::1" }},
		{"public-host", func(c *Config) { c.PublicHost = "not a host!" }},
		{"public-host", func(c *Config) { c.PublicHost = "999.1.1.1" }},
		{"cert", func(c *Config) { c.Cert = "/etc/cert.pem" }},
		{"max-clients", func(c *Config) { c.MaxClients = 0 }},
		{"max-clients-per-ip", func(c *Config) { c.MaxClientsPerIP = c.MaxClients + 1 }},
		{"idle-timeout", func(c *Config) { c.IdleTimeout.Duration = time.Millisecond }},
		{"max-login-failures", func(c *Config) { c.MaxLoginFailures = -1 }},
		{"ban-window", func(c *Config) { c.BanWindow.Duration = 0 }},
		{"log-format", func(c *Config) { c.LogFormat = "xml" }},
		{"tls-min-version", func(c *Config) { c.TLSMinVersion = "1.1" }},
		{"tls-min-version", func(c *Config) { c.TLSMinVersion = "" }},
		{"tls-max-version", func(c *Config) { c.TLSMaxVersion = "TLS1.3" }},
		{"tls-min-version", func(c *Config) { c.TLSMinVersion, c.TLSMaxVersion = "1.3", "1.2" }},
		{"metrics-listen", func(c *Config) { c.MetricsListen = "localhost" }},
	} {
		c := Default()
		tc.mutate(&c)
		_, err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.key+":") {
			t.Errorf("%s: error %v does not name the key", tc.key, err)
		}
	}
}

// The store key takes "" or a PostgreSQL URL, and its errors, and
// RedactStore, never show the password.
func TestStore(t *testing.T) {
	for _, ok := range []string{"", "postgres://port21@db.example.com/port21", "postgresql:///port21?host=/run/postgresql",
		"postgres://port21:s%40cret@10.0.0.5:5432/port21?sslmode=verify-full"} {
		c := Default()
		c.Store = ok
		if _, err := c.Validate(); err != nil {
			t.Errorf("store %q: %v", ok, err)
		}
	}
	const pw = "Sup3rSecret"
	for _, bad := range []string{"postgres://u:" + pw + "@[::1/db", "postgres://u:" + pw + "@db/x#frag", "mysql://u:" + pw + "@db/x",
		"postgres://u:" + pw + "%zz@db/x"} {
		c := Default()
		c.Store = bad
		_, err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), "store:") {
			t.Errorf("store %q: error %v does not name the key", bad, err)
		} else if strings.Contains(err.Error(), pw) {
			t.Errorf("store error shows the password: %v", err)
		}
	}
	for in, want := range map[string]string{
		"postgres://u:" + pw + "@db/x":                 "postgres://u:xxxxx@db/x",
		"postgres://u@db/x?password=" + pw:             "postgres://u@db/x?password=xxxxx",
		"postgres://u:" + pw + "@[::1/db":              "postgres://(unparsable URL)",
		"host=db password=" + pw:                       "(not a URL)",
		"postgresql://db.example.com/port21":           "postgresql://db.example.com/port21",
		"postgres://u:" + pw + "@db/x?sslmode=require": "postgres://u:xxxxx@db/x?sslmode=require",
	} {
		if got := RedactStore(in); got != want {
			t.Errorf("RedactStore(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPublicHostAndPassive(t *testing.T) {
	c := Default()
	c.PublicHost = "203.0.113.10"
	c.PassivePorts = "60000"
	v, err := c.Validate()
	if err != nil {
		t.Fatal(err)
	}
	if v.Public.String() != "203.0.113.10" || v.Passive != (PortRange{60000, 60000}) || v.Passive.Len() != 1 {
		t.Errorf("got %v %v", v.Public, v.Passive)
	}
}

// TestValidateNoDNS checks that Validate sends nothing to DNS: a host
// name is kept for ResolvePublic, which uses the lookup it is given.
func TestValidateNoDNS(t *testing.T) {
	c := Default()
	c.PublicHost = "ftp.example.invalid"
	v, err := c.Validate()
	if err != nil {
		t.Fatalf("a name that does not resolve fails Validate: %v", err)
	}
	if v.Public.IsValid() || v.PublicName != "ftp.example.invalid" {
		t.Fatalf("Public %v, PublicName %q", v.Public, v.PublicName)
	}
	for _, tc := range []struct {
		name   string
		addrs  []netip.Addr
		err    error
		want   string
		wantOK bool
	}{
		{"IPv4", []netip.Addr{netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("203.0.113.7")}, nil, "203.0.113.7", true},
		{"IPv6 only", []netip.Addr{netip.MustParseAddr("2001:db8::1")}, nil, "", false},
		{"does not resolve", nil, errors.New("no such host"), "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := v
			err := w.ResolvePublic(context.Background(), func(_ context.Context, network, host string) ([]netip.Addr, error) {
				if host != "ftp.example.invalid" {
					t.Errorf("looked up %q", host)
				}
				return tc.addrs, tc.err
			})
			if (err == nil) != tc.wantOK || tc.wantOK && w.Public.String() != tc.want {
				t.Errorf("error %v, Public %v; want %q", err, w.Public, tc.want)
			}
			if err != nil && !strings.Contains(err.Error(), "public-host") {
				t.Errorf("error %v does not name the key", err)
			}
		})
	}
}

// TestValidateKeyOrder checks that with several keys wrong the same one is
// named on every run.
func TestValidateKeyOrder(t *testing.T) {
	c := Default()
	c.MaxClientsPerIP, c.MaxPassivePerIP = 0, 0
	c.LoginTimeout.Duration, c.DataTimeout.Duration = 0, 0
	for range 50 {
		_, err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), "max-clients-per-ip:") {
			t.Fatalf("error %v, want max-clients-per-ip, the first in order", err)
		}
	}
	c = Default()
	c.LoginTimeout.Duration, c.DataTimeout.Duration = 0, 0
	for range 50 {
		if _, err := c.Validate(); err == nil || !strings.Contains(err.Error(), "login-timeout:") {
			t.Fatalf("error %v, want login-timeout, the first in order", err)
		}
	}
}

// FuzzDecode decodes and validates arbitrary config files: every problem
// names the file (decoding) or the key (validation), as port21 config check
// promises, and a file that is refused leaves the base config as it was.
func FuzzDecode(f *testing.F) {
	f.Add([]byte("listen = \"127.0.0.1:21\"\n"))
	f.Add([]byte("idle-timeout = \"5m\"\nmax-clients = 3\n"))
	f.Add([]byte("[x]\ny = 1\n"))
	// contrib/port21.toml and the README's example, in part, and mistakes.
	f.Add([]byte("listen = \"0.0.0.0:21\"\npassive-ports = \"50000-50100\"\nlog-format = \"json\"\n"))
	f.Add([]byte("implicit-tls-listen = \"0.0.0.0:990\"\npublic-host = \"203.0.113.10\"\nactive-mode = true\nmax-clients-per-ip = 32\n" +
		"ban-duration = \"30m\"\ndefender-exempt = [\"192.0.2.0/28\"]\nallow = [\"198.51.100.0/24\", \"2001:db8::/32\"]\ndeny = [\"198.51.100.66\"]\n"))
	f.Add([]byte("passive-ports = \"100-50\"\nmax-clients = 0\nidle-timeout = \"-1s\"\n"))
	f.Add([]byte("max-clients = \"many\"\n"))
	f.Add([]byte("trusted-proxies = [\"127.0.0.1/32\"]\npassive-host = [{networks = [\"10.0.0.0/8\"], host = \"10.0.0.5\"}]\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		base := Default()
		cfg, err := Decode(b, "fuzz.toml", base)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "config: fuzz.toml") {
				t.Fatalf("Decode error %q does not name the file", err)
			}
			if !reflect.DeepEqual(cfg, base) {
				t.Fatalf("a refused file changed the config: %+v", cfg)
			}
			return
		}
		v, err := cfg.Validate()
		if err != nil {
			joined, ok := err.(interface{ Unwrap() []error })
			if !ok {
				t.Fatalf("Validate error %T %v is not a list of key errors", err, err)
			}
			for _, e := range joined.Unwrap() {
				var ke *KeyError
				if !errors.As(e, &ke) || ke.Key == "" {
					t.Fatalf("Validate error %q names no key", e)
				}
			}
			return
		}
		if v.Passive.Low < 1024 || v.Passive.Low > v.Passive.High {
			t.Fatalf("valid config with passive ports %v", v.Passive)
		}
	})
}

func TestAccessListsValidate(t *testing.T) {
	c := Default()
	c.Allow = []string{"127.0.0.0/8", "::1"}
	c.Deny = []string{"::ffff:127.0.0.3"}
	c.DefenderExempt = []string{"10.0.0.0/8"}
	v, err := c.Validate()
	if err != nil {
		t.Fatal(err)
	}
	if len(v.AllowNets) != 2 || v.DenyNets[0].String() != "127.0.0.3/32" || len(v.ExemptNets) != 1 {
		t.Fatalf("%v %v %v", v.AllowNets, v.DenyNets, v.ExemptNets)
	}
	for key, mod := range map[string]func(*Config){
		"deny":             func(c *Config) { c.Deny = []string{"nope"} },
		"allow":            func(c *Config) { c.Allow = []string{"10.0.0.0/33"} },
		"defender-exempt":  func(c *Config) { c.DefenderExempt = []string{"fe80::1%eth0"} },
		"anonymous-root":   func(c *Config) { c.AnonymousRoot = "relative" },
		"ban-max-duration": func(c *Config) { c.BanMaxDuration = Duration{time.Minute} },
	} {
		c := Default()
		mod(&c)
		if _, err := c.Validate(); err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("%s: err %v does not name the key", key, err)
		}
	}
}

// Validate reports every problem, each as a KeyError naming its key, and
// KeyLine finds where a file sets a key.
func TestValidateReportsEveryProblem(t *testing.T) {
	c := Default()
	c.MaxClients, c.LogFormat, c.Deny = 0, "xml", []string{"nope", "10.0.0.1", "also bad"}
	_, err := c.Validate()
	var keys []string
	for _, ke := range KeyErrors(err) {
		keys = append(keys, ke.Key)
	}
	want := []string{"max-clients", "max-clients-per-ip", "deny", "deny", "log-format"}
	if strings.Join(keys, ",") != strings.Join(want, ",") {
		t.Errorf("problems for keys %v, want %v (err %v)", keys, want, err)
	}
	text := []byte("# max-clients = 1\n\n  max-clients=0\n\"deny\" = []\n")
	for key, line := range map[string]int{"max-clients": 3, "deny": 4, "listen": 0} {
		if got := KeyLine(text, key); got != line {
			t.Errorf("KeyLine(%s) = %d, want %d", key, got, line)
		}
	}
}
