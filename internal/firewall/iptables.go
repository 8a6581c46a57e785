package firewall

import (
	"fmt"
	"strconv"
	"strings"
)

// port21's own chains. A jump at the top of PREROUTING (raw) and INPUT
// (filter) leads to them; everything else in the tables is left alone.
const (
	iptRawChain    = "PORT21-RAW"
	iptFilterChain = "PORT21-INPUT"
)

// ipsetName is the ipset holding the allowed networks of one family when the
// allow expires (--for): ipset element time-outs make it close by itself.
func ipsetName(v6 bool) string {
	if v6 {
		return "port21-allow6"
	}
	return "port21-allow4"
}

func iptDports(p Policy) string {
	var s []string
	for _, c := range p.ControlPorts() {
		s = append(s, strconv.Itoa(int(c)))
	}
	if !p.Passive.IsZero() {
		s = append(s, fmt.Sprintf("%d:%d", p.Passive.Low, p.Passive.High))
	}
	return "-p tcp -m multiport --dports " + strings.Join(s, ",")
}

// iptTables holds port21's rules for one family, as iptables-restore lines
// per table (chain declarations are not included).
type iptTables struct {
	raw, filter []string
}

func iptRules(p Policy, v6 bool) iptTables {
	var t iptTables
	dports := iptDports(p)
	if !p.Block {
		t.raw = append(t.raw, "-A "+iptRawChain+" -p tcp -m tcp --dport 21 -j CT --helper ftp")
	}
	f := func(s string) { t.filter = append(t.filter, "-A "+iptFilterChain+" "+s) }
	f("-i lo -j RETURN")
	f(dports + " -m conntrack --ctstate ESTABLISHED -j ACCEPT")
	if !p.Block {
		f("-m conntrack --ctstate RELATED -m helper --helper ftp -j ACCEPT")
		if p.For > 0 {
			f("-m set --match-set " + ipsetName(v6) + " src " + dports + " -j ACCEPT")
		} else {
			for _, a := range p.family(!v6) {
				f("-s " + a.String() + " " + dports + " -j ACCEPT")
			}
		}
	}
	f(dports + " -j DROP")
	return t
}

// ipsetCommands are the `ipset` commands (without the program name) that
// create and fill the expiring allow set of one family.
func ipsetCommands(p Policy, v6 bool) [][]string {
	if p.For <= 0 {
		return nil
	}
	fam := "inet"
	if v6 {
		fam = "inet6"
	}
	name := ipsetName(v6)
	cmds := [][]string{
		{"create", "-exist", name, "hash:net", "family", fam, "timeout", "0"},
		{"flush", name},
	}
	secs := strconv.FormatInt(int64((p.For+500_000_000)/1_000_000_000), 10)
	for _, a := range p.family(!v6) {
		cmds = append(cmds, []string{"add", "-exist", name, a.String(), "timeout", secs})
	}
	return cmds
}

func planIPTables(p Policy) string {
	var b strings.Builder
	b.WriteString("# port21 firewall plan: iptables (IPv4) and ip6tables (IPv6)\n")
	b.WriteString("# " + p.describe() + "\n")
	b.WriteString("# `port21 firewall apply --backend iptables` loads this atomically per family and can\n")
	b.WriteString("# roll back. By hand, run this as a shell script.\n")
	b.WriteString(dockerNote)
	if p.Passive.IsZero() && !p.Block {
		b.WriteString(noPassiveWarning)
	}
	for _, v6 := range []bool{false, true} {
		prog := "iptables"
		if v6 {
			prog = "ip6tables"
		}
		if cmds := ipsetCommands(p, v6); cmds != nil {
			b.WriteString("\n# The allow expires by itself: ipset element time-outs.\n")
			for _, c := range cmds {
				b.WriteString("ipset " + strings.Join(c, " ") + "\n")
			}
		}
		t := iptRules(p, v6)
		fmt.Fprintf(&b, "\n%s-restore --noflush <<'EOF'\n", prog)
		if len(t.raw) > 0 {
			b.WriteString("*raw\n:" + iptRawChain + " - [0:0]\n")
			b.WriteString(strings.Join(t.raw, "\n") + "\nCOMMIT\n")
		}
		b.WriteString("*filter\n:" + iptFilterChain + " - [0:0]\n")
		b.WriteString(strings.Join(t.filter, "\n") + "\nCOMMIT\nEOF\n")
		if len(t.raw) > 0 {
			fmt.Fprintf(&b, "%s -t raw -C PREROUTING -j %s 2>/dev/null || %s -t raw -I PREROUTING 1 -j %s\n", prog, iptRawChain, prog, iptRawChain)
		}
		fmt.Fprintf(&b, "%s -C INPUT -j %s 2>/dev/null || %s -I INPUT 1 -j %s\n", prog, iptFilterChain, prog, iptFilterChain)
	}
	return b.String()
}

// mergeIPTSave takes iptables-save output, removes every port21 chain and
// jump from it, and, when add is not nil, puts port21's chains back with
// their jumps first in PREROUTING (raw) and INPUT (filter). It returns the
// new iptables-restore input (only the raw and filter tables, which are the
// only ones it changes) and the port21 lines it removed, per table, so they
// can be put back by a rollback.
func mergeIPTSave(save string, add *iptTables) (restore string, removed iptTables) {
	type table struct {
		name  string
		decls []string
		rules []string
	}
	var tables []*table
	var cur *table
	for _, line := range strings.Split(save, "\n") {
		line = strings.TrimRight(line, "\r")
		switch {
		case strings.HasPrefix(line, "*"):
			cur = &table{name: line[1:]}
			tables = append(tables, cur)
		case cur == nil || line == "" || strings.HasPrefix(line, "#"):
		case line == "COMMIT":
			cur = nil
		case strings.HasPrefix(line, ":"):
			if strings.Contains(line, "PORT21-") {
				continue // ours (or not a chain iptables-save would write)
			}
			cur.decls = append(cur.decls, line)
		default:
			if strings.Contains(line, " PORT21-") || strings.HasPrefix(line, "-A PORT21-") {
				if strings.HasPrefix(line, "-A PORT21-") {
					switch cur.name {
					case "raw":
						removed.raw = append(removed.raw, line)
					case "filter":
						removed.filter = append(removed.filter, line)
					}
				}
				continue
			}
			cur.rules = append(cur.rules, line)
		}
	}
	find := func(name string) *table {
		for _, t := range tables {
			if t.name == name {
				return t
			}
		}
		t := &table{name: name}
		tables = append(tables, t)
		return t
	}
	var b strings.Builder
	for _, spec := range []struct {
		name, chain, hook string
		rules             func(iptTables) []string
	}{
		{"raw", iptRawChain, "PREROUTING", func(t iptTables) []string { return t.raw }},
		{"filter", iptFilterChain, "INPUT", func(t iptTables) []string { return t.filter }},
	} {
		t := find(spec.name)
		var ours []string
		if add != nil {
			ours = spec.rules(*add)
		}
		if len(t.decls) == 0 && len(t.rules) == 0 && len(ours) == 0 {
			continue // the table is not in use and we add nothing to it
		}
		b.WriteString("*" + spec.name + "\n")
		hasHook := false
		for _, d := range t.decls {
			if strings.HasPrefix(d, ":"+spec.hook+" ") {
				hasHook = true
			}
			b.WriteString(d + "\n")
		}
		if len(ours) > 0 {
			if !hasHook {
				b.WriteString(":" + spec.hook + " ACCEPT [0:0]\n")
			}
			b.WriteString(":" + spec.chain + " - [0:0]\n")
			b.WriteString("-A " + spec.hook + " -j " + spec.chain + "\n")
		}
		for _, r := range t.rules {
			b.WriteString(r + "\n")
		}
		for _, r := range ours {
			b.WriteString(r + "\n")
		}
		b.WriteString("COMMIT\n")
	}
	return b.String(), removed
}
