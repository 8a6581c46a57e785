package confaudit

import (
	"bufio"
	"bytes"
	"regexp"
	"strings"

	"github.com/port21/port21/internal/config"
	"github.com/port21/port21/internal/finding"
)

// AuditPort21 audits a port21 TOML configuration. port21 is secure by
// default, so what can be wrong is what the file turns off. An invalid
// file is an error: `port21 serve` would refuse it.
func AuditPort21(file string, b []byte) ([]finding.Finding, [2]uint16, error) {
	cfg, err := config.Decode(b, file, config.Default())
	if err != nil {
		return []finding.Finding{}, [2]uint16{}, err
	}
	v, err := cfg.Validate()
	if err != nil {
		return []finding.Finding{}, [2]uint16{}, err
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
	return out, [2]uint16{v.Passive.Low, v.Passive.High}, nil
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
