package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/port21/port21/internal/config"
)

// passiveHostFlag is --passive-host NETWORKS=HOST, repeatable: the flag form
// of one passive-host rule (networks separated by commas). The values are
// checked by config.Validate, like those of the file.
type passiveHostFlag struct{ rules *[]config.PassiveHost }

func (f passiveHostFlag) String() string {
	if f.rules == nil {
		return ""
	}
	var out []string
	for _, r := range *f.rules {
		out = append(out, strings.Join(r.Networks, ",")+"="+r.Host)
	}
	return strings.Join(out, " ")
}

func (f passiveHostFlag) Set(s string) error {
	nets, host, ok := strings.Cut(s, "=")
	if !ok || strings.TrimSpace(nets) == "" || strings.TrimSpace(host) == "" {
		return fmt.Errorf("%q is not NETWORKS=HOST (e.g. 10.0.0.0/8,192.168.0.0/16=10.0.0.5)", s)
	}
	r := config.PassiveHost{Host: strings.TrimSpace(host)}
	for _, n := range strings.Split(nets, ",") {
		r.Networks = append(r.Networks, strings.TrimSpace(n))
	}
	*f.rules = append(*f.rules, r)
	return nil
}

func (passiveHostFlag) Type() string { return "NETWORKS=HOST" }

// passiveHostTOML writes passive-host rules as a TOML array of inline tables.
func passiveHostTOML(rules []config.PassiveHost) string {
	var out []string
	for _, r := range rules {
		q := make([]string, len(r.Networks))
		for i, n := range r.Networks {
			q[i] = strconv.Quote(n)
		}
		out = append(out, fmt.Sprintf("{networks = [%s], host = %s}", strings.Join(q, ", "), strconv.Quote(r.Host)))
	}
	return "[" + strings.Join(out, ", ") + "]"
}
