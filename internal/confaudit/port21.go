package confaudit

import (
	"bufio"
	"bytes"
	"net"
	"regexp"
	"strconv"
	"strings"

	"github.com/port21/port21/internal/config"
	"github.com/port21/port21/internal/finding"
)

// AuditPort21 audits a port21 TOML configuration. port21 is secure by
// default, so what can be wrong is what the file turns off. An invalid
// file is an error: `port21 serve` would refuse it.
func AuditPort21(file string, b []byte) ([]finding.Finding, Ports, error) {
	cfg, err := config.Decode(b, file, config.Default())
	if err != nil {
		return []finding.Finding{}, Ports{}, err
	}
	v, err := cfg.Validate()
	if err != nil {
		return []finding.Finding{}, Ports{}, err
	}
	lines := tomlKeyLines(b)
	var out []finding.Finding
	add := func(id, key, fix string) {
		l := lines[key]
		out = append(out, newFinding(id, Port21, file, l.n, l.text, fix))
	}
	if cfg.MaxLoginFailures == 0 {
		add(IDNoLoginBan, "max-login-failures", "max-login-failures = 5")
	}
	if !cfg.RequireCloseNotify {
		add(IDTruncationAllowed, "require-close-notify", "require-close-notify = true")
	}
	ports := Ports{Passive: [2]uint16{v.Passive.Low, v.Passive.High}}
	for _, l := range []string{cfg.Listen, cfg.ImplicitTLSListen} {
		if _, p, err := net.SplitHostPort(l); err == nil {
			if n, err := strconv.ParseUint(p, 10, 16); err == nil && n > 0 {
				ports.Control = append(ports.Control, uint16(n))
			}
		}
	}
	return out, ports, nil
}

type keyLine struct {
	n    int
	text string
}

var tomlKey = regexp.MustCompile(`^\s*"?([A-Za-z0-9_-]+)"?\s*=`)

// tomlKeyLines finds the line of each top-level key, for file:line targets.
func tomlKeyLines(b []byte) map[string]keyLine {
	out := map[string]keyLine{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		if m := tomlKey.FindStringSubmatch(sc.Text()); m != nil {
			out[m[1]] = keyLine{n, strings.TrimSpace(sc.Text())}
		}
	}
	return out
}
