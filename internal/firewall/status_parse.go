package firewall

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// The rulesets read here come from the kernel through nft and
// iptables-save. They are parsed defensively all the same: anything not
// understood marks the rule as skipped, never a panic.

type nftDoc struct {
	Nftables []map[string]json.RawMessage `json:"nftables"`
}

type nftChain struct {
	Family string `json:"family"`
	Table  string `json:"table"`
	Name   string `json:"name"`
	Type   string `json:"type"`
	Hook   string `json:"hook"`
	Prio   int    `json:"prio"`
	Policy string `json:"policy"`
}

type nftRule struct {
	Family string            `json:"family"`
	Table  string            `json:"table"`
	Chain  string            `json:"chain"`
	Handle int               `json:"handle"`
	Expr   []json.RawMessage `json:"expr"`
}

type nftSet struct {
	Family string            `json:"family"`
	Table  string            `json:"table"`
	Name   string            `json:"name"`
	Elem   []json.RawMessage `json:"elem"`
}

// parseNFTJSON reads `nft -j list ruleset`.
func parseNFTJSON(b []byte) (*ruleset, error) {
	var doc nftDoc
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("parse nft -j output: %w", err)
	}
	rs := &ruleset{chains: map[string]*chain{}}
	sets := map[string][]string{}
	prio := map[*chain]int{}
	key := func(fam, table, name string) string { return fam + " " + table + " " + name }
	for _, obj := range doc.Nftables {
		if raw, ok := obj["set"]; ok {
			var s nftSet
			if json.Unmarshal(raw, &s) == nil {
				sets[key(s.Family, s.Table, s.Name)] = nftValues(s.Elem)
			}
		}
		if raw, ok := obj["chain"]; ok {
			var c nftChain
			if json.Unmarshal(raw, &c) != nil {
				continue
			}
			ch := &chain{name: key(c.Family, c.Table, c.Name), policy: c.Policy}
			switch c.Family {
			case "ip":
				ch.family = 4
			case "ip6":
				ch.family = 6
			}
			rs.chains[ch.name] = ch
			if c.Hook == "input" && c.Type == "filter" && (c.Family == "inet" || c.Family == "ip" || c.Family == "ip6") {
				rs.base = append(rs.base, ch)
				prio[ch] = c.Prio
			}
		}
	}
	slices.SortStableFunc(rs.base, func(a, b *chain) int { return prio[a] - prio[b] })
	for _, obj := range doc.Nftables {
		raw, ok := obj["rule"]
		if !ok {
			continue
		}
		var r nftRule
		if json.Unmarshal(raw, &r) != nil {
			continue
		}
		ch := rs.chains[key(r.Family, r.Table, r.Chain)]
		if ch == nil {
			continue
		}
		ru := rule{text: fmt.Sprintf("nftables: %s %s chain %s handle %d", r.Family, r.Table, r.Chain, r.Handle)}
		switch r.Family {
		case "ip":
			ru.family = 4
		case "ip6":
			ru.family = 6
		}
		for _, e := range r.Expr {
			var head map[string]json.RawMessage
			if json.Unmarshal(e, &head) == nil && head["xt"] != nil {
				if rs.xtTables == nil {
					rs.xtTables = map[string]bool{}
				}
				rs.xtTables[r.Family+" "+r.Table] = true
			}
			nftExpr(&ru, e, func(name string) []string { return sets[key(r.Family, r.Table, name)] })
		}
		if ru.verdict == "jump" || ru.verdict == "goto" {
			ru.target = key(r.Family, r.Table, ru.target)
		}
		ch.rules = append(ch.rules, ru)
	}
	return rs, nil
}

// nftValues flattens set elements and match right-hand sides into strings:
// numbers, "LOW-HIGH" ranges, prefixes, addresses, "@set".
func nftValues(elems []json.RawMessage) []string {
	var out []string
	for _, e := range elems {
		out = append(out, nftValue(e)...)
	}
	return out
}

func nftValue(e json.RawMessage) []string {
	var num json.Number
	if json.Unmarshal(e, &num) == nil {
		return []string{num.String()}
	}
	var s string
	if json.Unmarshal(e, &s) == nil {
		return []string{s}
	}
	var list []json.RawMessage
	if json.Unmarshal(e, &list) == nil {
		return nftValues(list)
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(e, &obj) != nil {
		return nil
	}
	if v, ok := obj["set"]; ok {
		return nftValue(v)
	}
	if v, ok := obj["elem"]; ok {
		var el struct {
			Val json.RawMessage `json:"val"`
		}
		if json.Unmarshal(v, &el) == nil {
			return nftValue(el.Val)
		}
	}
	if v, ok := obj["prefix"]; ok {
		var p struct {
			Addr string `json:"addr"`
			Len  int    `json:"len"`
		}
		if json.Unmarshal(v, &p) == nil {
			return []string{p.Addr + "/" + strconv.Itoa(p.Len)}
		}
	}
	if v, ok := obj["range"]; ok {
		var r []json.RawMessage
		if json.Unmarshal(v, &r) == nil && len(r) == 2 {
			lo, hi := nftValue(r[0]), nftValue(r[1])
			if len(lo) == 1 && len(hi) == 1 {
				return []string{lo[0] + "-" + hi[0]}
			}
		}
	}
	return []string{"?"}
}

type nftMatch struct {
	Op    string          `json:"op"`
	Left  json.RawMessage `json:"left"`
	Right json.RawMessage `json:"right"`
}

func nftExpr(ru *rule, e json.RawMessage, setElems func(string) []string) {
	var obj map[string]json.RawMessage
	if json.Unmarshal(e, &obj) != nil || len(obj) != 1 {
		ru.skip = "unreadable expression"
		return
	}
	for k, v := range obj {
		switch k {
		case "accept", "drop", "return":
			ru.verdict = k
		case "reject":
			ru.verdict = "drop"
		case "jump", "goto":
			var t struct {
				Target string `json:"target"`
			}
			_ = json.Unmarshal(v, &t)
			ru.verdict, ru.target = k, t.Target
		case "counter", "log", "mangle", "comment", "notrack", "limit", "quota":
			// Statements that do not decide; limit and quota can, but
			// treating them as always matching is the cautious reading.
		case "match":
			var m nftMatch
			if json.Unmarshal(v, &m) != nil {
				ru.skip = "unreadable match"
				return
			}
			nftMatchInto(ru, m, setElems)
		default:
			ru.skip = "unsupported statement " + k
		}
	}
}

func nftMatchInto(ru *rule, m nftMatch, setElems func(string) []string) {
	var left map[string]map[string]string
	if json.Unmarshal(m.Left, &left) != nil {
		ru.skip = "unsupported match"
		return
	}
	right := nftValue(m.Right)
	if len(right) == 1 && strings.HasPrefix(right[0], "@") {
		right = setElems(right[0][1:])
		if right == nil {
			right = []string{} // an empty set matches nothing
		}
	}
	neg := m.Op == "!="
	if m.Op != "==" && m.Op != "!=" && m.Op != "in" {
		ru.skip = "unsupported operator " + m.Op
		return
	}
	if p, ok := left["payload"]; ok {
		switch {
		case (p["protocol"] == "tcp" || p["protocol"] == "th") && p["field"] == "dport":
			if neg {
				ru.skip = "negated port match"
				return
			}
			ru.ports = []PortRange{}
			for _, v := range right {
				lo, hi, _ := strings.Cut(v, "-")
				if hi == "" {
					hi = lo
				}
				l, err1 := strconv.ParseUint(lo, 10, 16)
				h, err2 := strconv.ParseUint(hi, 10, 16)
				if err1 == nil && err2 == nil {
					ru.ports = append(ru.ports, PortRange{uint16(l), uint16(h)})
				}
			}
			if p["protocol"] == "tcp" {
				ru.proto = "tcp"
			}
		case (p["protocol"] == "ip" || p["protocol"] == "ip6") && p["field"] == "saddr":
			ru.family = 4
			if p["protocol"] == "ip6" {
				ru.family = 6
			}
			ru.src, ru.srcNeg = normPrefixes(right), neg
		case p["protocol"] == "tcp" || p["protocol"] == "th":
			ru.proto = "tcp"
			if p["field"] != "sport" {
				ru.skip = "match on tcp " + p["field"]
			}
		default:
			ru.skip = "match on " + p["protocol"] + " " + p["field"]
		}
	}
	if c, ok := left["ct"]; ok {
		if c["key"] != "state" {
			ru.skip = "match on ct " + c["key"]
		} else if slices.Contains(right, "new") == neg {
			ru.skip = "only for established or related connections"
		}
		return
	}
	if mt, ok := left["meta"]; ok {
		switch mt["key"] {
		case "iif", "iifname":
			if slices.Contains(right, "lo") && !neg {
				ru.skip = "loopback only"
			} else if !neg {
				ru.skip = "only for interface " + strings.Join(right, ",")
			}
		case "l4proto":
			if !slices.Contains(right, "tcp") && !slices.Contains(right, "6") {
				ru.proto = "other"
			}
		case "nfproto":
			if slices.Contains(right, "ipv4") {
				ru.family = 4
			} else if slices.Contains(right, "ipv6") {
				ru.family = 6
			}
		default:
			ru.skip = "match on meta " + mt["key"]
		}
	}
	if _, ok := left["payload"]; !ok {
		if _, ok := left["ct"]; !ok {
			if _, ok := left["meta"]; !ok {
				ru.skip = "unsupported match"
			}
		}
	}
}

func normPrefixes(vals []string) []string {
	out := []string{}
	for _, v := range vals {
		if p, err := ParsePrefix(v); err == nil {
			out = append(out, p.String())
		} else if lo, hi, ok := strings.Cut(v, "-"); ok {
			// an address range: keep it readable
			if _, err := netip.ParseAddr(lo); err == nil {
				out = append(out, lo+"-"+hi)
			}
		}
	}
	return out
}

// parseIPTSave reads `iptables-save -t filter` (or ip6tables-save).
func parseIPTSave(s string, v6 bool) *ruleset {
	rs := &ruleset{chains: map[string]*chain{}}
	fam := 4
	prog := "iptables"
	if v6 {
		fam, prog = 6, "ip6tables"
	}
	inFilter := false
	n := map[string]int{}
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "*"):
			inFilter = line == "*filter"
		case !inFilter || line == "" || line[0] == '#' || line == "COMMIT":
		case line[0] == ':':
			f := strings.Fields(line[1:])
			if len(f) == 0 {
				continue
			}
			c := &chain{name: f[0], family: fam}
			if len(f) > 1 && f[1] != "-" {
				c.policy = strings.ToLower(f[1])
			}
			rs.chains[c.name] = c
			if c.name == "INPUT" {
				rs.base = append(rs.base, c)
			}
		case strings.HasPrefix(line, "-A "):
			args := splitArgs(line)
			if len(args) < 2 {
				continue
			}
			c := rs.chains[args[1]]
			if c == nil {
				continue
			}
			n[c.name]++
			r := parseIPTRule(args[2:])
			r.family = fam
			r.text = fmt.Sprintf("%s: -A %s rule %d: %s", prog, c.name, n[c.name], strings.Join(args[2:], " "))
			c.rules = append(c.rules, r)
		}
	}
	return rs
}

// splitArgs splits an iptables-save line, honouring double quotes.
func splitArgs(s string) []string {
	var out []string
	var cur strings.Builder
	inQ, have := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && inQ && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
		case c == '"':
			inQ, have = !inQ, true
		case (c == ' ' || c == '\t') && !inQ:
			if have {
				out = append(out, cur.String())
				cur.Reset()
				have = false
			}
		default:
			cur.WriteByte(c)
			have = true
		}
	}
	if have {
		out = append(out, cur.String())
	}
	return out
}

func parseIPTRule(args []string) rule {
	var r rule
	neg := false
	next := func(i *int) string {
		if *i+1 < len(args) {
			*i++
			return args[*i]
		}
		return ""
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch a {
		case "!":
			neg = true
			continue
		case "-s", "--source":
			r.src, r.srcNeg = normPrefixes(strings.Split(next(&i), ",")), neg
		case "-p", "--protocol":
			p := next(&i)
			if neg || (p != "tcp" && p != "6" && p != "all") {
				r.proto = "other"
			} else if p != "all" {
				r.proto = "tcp"
			}
		case "-i", "--in-interface":
			v := next(&i)
			if !neg {
				if v == "lo" {
					r.skip = "loopback only"
				} else {
					r.skip = "only for interface " + v
				}
			}
		case "--dport", "--destination-port", "--dports", "--destination-ports":
			if neg {
				r.skip = "negated port match"
			}
			r.ports = []PortRange{}
			for _, v := range strings.Split(next(&i), ",") {
				lo, hi, _ := strings.Cut(v, ":")
				if hi == "" {
					hi = lo
				}
				l, err1 := strconv.ParseUint(lo, 10, 16)
				h, err2 := strconv.ParseUint(hi, 10, 16)
				if err1 == nil && err2 == nil {
					r.ports = append(r.ports, PortRange{uint16(l), uint16(h)})
				}
			}
		case "--ctstate", "--state":
			states := strings.Split(strings.ToUpper(next(&i)), ",")
			if slices.Contains(states, "NEW") == neg {
				r.skip = "only for established or related connections"
			}
		case "--match-set":
			name := next(&i)
			dir := next(&i)
			if dir == "src" {
				r.src, r.srcNeg = []string{"set " + name}, neg
			} else {
				r.skip = "ipset match on " + dir
			}
		case "-m", "--match":
			switch next(&i) {
			case "tcp", "multiport", "conntrack", "state", "set", "comment", "addrtype":
			case "helper":
				r.skip = "only for helper-related connections"
			default:
				r.skip = "match " + args[i]
			}
		case "--dst-type", "--src-type":
			// What reaches a local listener from outside is addressed to
			// a local unicast address, from a unicast one (ufw sends
			// everything through such a check).
			types := strings.Split(strings.ToUpper(next(&i)), ",")
			match := slices.Contains(types, "UNICAST")
			if a == "--dst-type" {
				match = match || slices.Contains(types, "LOCAL")
			}
			if match == neg {
				r.skip = "only for address type " + strings.Join(types, ",")
			}
		case "--comment":
			next(&i)
		case "--sport", "--source-port", "--sports", "--source-ports":
			next(&i)
		case "-j", "--jump", "-g", "--goto":
			t := next(&i)
			switch t {
			case "ACCEPT":
				r.verdict = "accept"
			case "DROP", "REJECT":
				r.verdict = "drop"
			case "RETURN":
				r.verdict = "return"
			case "LOG", "NFLOG", "CT", "MARK", "CONNMARK", "NOTRACK", "AUDIT":
				// non-terminating targets
			default:
				r.verdict, r.target = "jump", t
				if a == "-g" || a == "--goto" {
					r.verdict = "goto"
				}
			}
			// REJECT options follow; nothing after -j matters for matching.
			return r
		default:
			if r.skip == "" {
				r.skip = "option " + a
			}
		}
		neg = false
	}
	return r
}
