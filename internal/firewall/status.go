package firewall

import (
	"context"
	"fmt"
	"net/netip"
	"os/exec"
	"slices"
	"strconv"
	"strings"
)

// Access is what the firewall does with new connections to a port from
// outside the machine.
type Access int

// Accesses, from most to least open.
const (
	Open       Access = iota // anyone may connect
	Restricted               // only some networks may connect
	Blocked                  // nobody may connect
	// Unknown means the rules could not be read (no root): port21 does
	// not guess.
	Unknown
)

func (a Access) String() string {
	switch a {
	case Open:
		return "open"
	case Restricted:
		return "restricted"
	case Blocked:
		return "blocked"
	case Unknown:
		return "unknown"
	}
	return "access(" + strconv.Itoa(int(a)) + ")"
}

// MarshalText writes the access's name.
func (a Access) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalText parses an access's name.
func (a *Access) UnmarshalText(b []byte) error {
	for _, v := range []Access{Open, Restricted, Blocked, Unknown} {
		if v.String() == string(b) {
			*a = v
			return nil
		}
	}
	return fmt.Errorf("firewall: unknown access %q", b)
}

// PortStatus is the verdict for one port (or range) and one address family.
type PortStatus struct {
	Port   PortRange `json:"-"`
	Ports  string    `json:"ports"`
	Family string    `json:"family"` // "ipv4" or "ipv6"
	Access Access    `json:"access"`
	// Allowed lists the networks (or named sets, "set NAME") that may
	// connect when Access is Restricted.
	Allowed []string `json:"allowed,omitempty"`
	// Rules name the rules that decided: the allows, then the drop.
	Rules []string `json:"rules,omitempty"`
}

// Status is what the active ruleset does with the FTP ports.
type Status struct {
	// Sources names the rulesets read: "nftables", "iptables", "ip6tables".
	Sources []string     `json:"sources"`
	Ports   []PortStatus `json:"ports"`
	// Notes says what could not be read or was only approximated.
	Notes []string `json:"notes,omitempty"`
}

// Lookup returns the status for port and family ("ipv4" or "ipv6").
func (s *Status) Lookup(port uint16, family string) (PortStatus, bool) {
	for _, p := range s.Ports {
		if p.Family == family && port >= p.Port.Low && port <= p.Port.High {
			return p, true
		}
	}
	return PortStatus{}, false
}

// ReadStatus reads the active rules (nftables, and iptables/ip6tables,
// which ufw and firewalld also end up in) and says, for each of ports
// (ranges allowed) and each family, whether new connections from outside
// are open, restricted or blocked, and by which rule.
//
// It evaluates the input path for a new TCP connection from an arbitrary
// outside address. Matches it does not understand (marks, interface names
// other than lo, verdict maps ...) make a rule be skipped, and a note says
// so: the answer is then an approximation.
func ReadStatus(ctx context.Context, ports []PortRange) (*Status, error) {
	return readStatus(ctx, execRunner{}, ports)
}

func readStatus(ctx context.Context, r runner, ports []PortRange) (*Status, error) {
	st := &Status{}
	var rulesets []*ruleset
	var nft *ruleset
	unreadable := false
	if _, err := exec.LookPath("nft"); err == nil {
		out, err := r.run(ctx, "", "nft", "-j", "list", "ruleset")
		if err != nil {
			st.Notes = append(st.Notes, "nftables: "+permissionHint(err))
			unreadable = true
		} else if rs, err := parseNFTJSON([]byte(out)); err != nil {
			st.Notes = append(st.Notes, "nftables: "+err.Error())
		} else {
			st.Sources = append(st.Sources, "nftables")
			rulesets = append(rulesets, rs)
			nft = rs
		}
	}
	for _, v6 := range []bool{false, true} {
		save, _, _ := iptProgs(v6)
		if _, err := exec.LookPath(save); err != nil {
			continue
		}
		out, err := r.run(ctx, "", save, "-t", "filter")
		if err != nil {
			st.Notes = append(st.Notes, save+": "+permissionHint(err))
			unreadable = true
			continue
		}
		// iptables-nft rules are also in the nftables ruleset; reading
		// them twice gives the same verdicts, so no need to tell them apart.
		rs := parseIPTSave(out, v6)
		if len(rs.base) == 0 {
			continue
		}
		// Rules iptables-nft wrote with matches nft cannot show (ufw's
		// addrtype, limit ...) are only readable here: the nftables view
		// of their table is left out.
		table := "ip filter"
		if v6 {
			table = "ip6 filter"
		}
		if nft != nil && nft.xtTables[table] {
			nft.withoutTable(table)
			st.Notes = append(st.Notes, "nftables: table "+table+" is managed by iptables-nft; read with "+save)
		}
		st.Sources = append(st.Sources, strings.TrimSuffix(save, "-save"))
		rulesets = append(rulesets, rs)
	}
	if len(st.Sources) == 0 && len(st.Notes) == 0 {
		st.Notes = append(st.Notes, "no nftables or iptables found: nothing filters these ports as far as port21 can see")
	}
	for _, pr := range ports {
		for _, fam := range []string{"ipv4", "ipv6"} {
			ps := PortStatus{Port: pr, Ports: portString(pr), Family: fam, Access: Open}
			if unreadable && len(rulesets) == 0 {
				ps.Access = Unknown
			}
			first := true
			for _, rs := range rulesets {
				o := rs.eval(pr.Low, fam == "ipv6")
				ps = combine(ps, o, first)
				first = false
			}
			st.Ports = append(st.Ports, ps)
		}
	}
	for _, rs := range rulesets {
		st.Notes = append(st.Notes, rs.notes...)
	}
	slices.Sort(st.Notes)
	st.Notes = slices.Compact(st.Notes)
	return st, nil
}

func portString(p PortRange) string {
	if p.Low == p.High {
		return strconv.Itoa(int(p.Low))
	}
	return p.String()
}

func permissionHint(err error) string {
	s := err.Error()
	if strings.Contains(s, "Operation not permitted") || strings.Contains(s, "Permission denied") {
		return "cannot read the rules without root (run as root to see them)"
	}
	return s
}

// combine merges the outcome of one more ruleset into ps: a connection must
// pass every ruleset, so the strictest wins.
func combine(ps PortStatus, o outcome, first bool) PortStatus {
	if o.access == Open && !first {
		return ps
	}
	ps.Rules = append(ps.Rules, o.rules...)
	switch {
	case first || ps.Access == Open:
		ps.Access, ps.Allowed = o.access, o.allowed
	case o.access == Blocked || ps.Access == Blocked:
		ps.Access, ps.Allowed = Blocked, nil
	default: // both restricted
		ps.Allowed = intersect(ps.Allowed, o.allowed)
		if len(ps.Allowed) == 0 {
			ps.Access = Blocked
		}
	}
	return ps
}

// intersect keeps the networks of a contained in some network of b and
// the other way round; named sets are kept as they are.
func intersect(a, b []string) []string {
	var out []string
	for _, pair := range [][2][]string{{a, b}, {b, a}} {
		for _, x := range pair[0] {
			px, err := netip.ParsePrefix(x)
			if err != nil {
				out = append(out, x)
				continue
			}
			for _, y := range pair[1] {
				if py, err := netip.ParsePrefix(y); err == nil && py.Bits() <= px.Bits() && py.Contains(px.Addr()) {
					out = append(out, x)
					break
				}
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// A ruleset is the input path of one firewall in a common form.
type ruleset struct {
	chains map[string]*chain
	base   []*chain // input hooks, in priority order
	notes  []string
	// xtTables are nftables tables ("ip filter") with rules written by
	// iptables-nft that use matches nft cannot show ("xt" expressions).
	xtTables map[string]bool
}

// withoutTable drops a table's input hooks from the evaluation.
func (rs *ruleset) withoutTable(table string) {
	rs.base = slices.DeleteFunc(rs.base, func(c *chain) bool { return strings.HasPrefix(c.name, table+" ") })
}

type chain struct {
	family int // 0 both, 4, 6: a chain of an ip or ip6 table, or of iptables/ip6tables
	name   string
	policy string // "accept", "drop" for base chains
	rules  []rule
}

type rule struct {
	family  int         // 0 both, 4, 6
	ports   []PortRange // nil: any port
	proto   string      // "" any, "tcp", or another protocol (never matches)
	src     []string    // prefixes or "set NAME"; nil: any source
	srcNeg  bool
	skip    string // why the rule cannot match a new outside connection, or cannot be read
	verdict string // accept, drop, reject, jump, goto, return, or "" (no verdict)
	target  string
	text    string
}

type outcome struct {
	access   Access
	allowed  []string
	rules    []string
	terminal bool
}

func (rs *ruleset) eval(port uint16, v6 bool) outcome {
	res := outcome{access: Open}
	first := true
	for _, c := range rs.base {
		if (c.family == 4 && v6) || (c.family == 6 && !v6) {
			continue // this family never passes through the chain
		}
		ev := &evaluator{rs: rs, port: port, v6: v6, memo: map[*chain]outcome{}, onStack: map[*chain]bool{}}
		o := ev.chain(c, 0)
		if !o.terminal {
			if c.policy == "drop" {
				o = finish(o, Blocked, "policy drop of "+c.name)
			} else {
				o = finish(o, Open, "")
			}
		}
		res = outcomeOf(combine(PortStatus{Access: res.access, Allowed: res.allowed, Rules: res.rules}, o, first))
		first = false
	}
	return res
}

func outcomeOf(ps PortStatus) outcome {
	return outcome{access: ps.Access, allowed: ps.Allowed, rules: ps.Rules, terminal: true}
}

// finish ends an evaluation: def is what happens to sources not allowed so
// far (Open: they pass, Blocked: they are dropped).
func finish(o outcome, def Access, rule string) outcome {
	o.terminal = true
	if rule != "" {
		o.rules = append(o.rules, rule)
	}
	switch {
	case def == Open:
		o.access, o.allowed = Open, nil
	case len(o.allowed) > 0:
		o.access = Restricted
	default:
		o.access = Blocked
	}
	return o
}

// evaluator walks chains for one port and family. A chain's outcome does
// not depend on who jumped to it, so it is computed once (a ruleset from a
// hostile or broken source could otherwise make the walk exponential), and
// a jump back into a chain being walked (a loop) is ignored.
type evaluator struct {
	rs      *ruleset
	port    uint16
	v6      bool
	memo    map[*chain]outcome
	onStack map[*chain]bool
}

func (ev *evaluator) chain(c *chain, depth int) outcome {
	if o, ok := ev.memo[c]; ok {
		return o
	}
	if depth > 16 || ev.onStack[c] {
		ev.rs.notes = append(ev.rs.notes, "chain "+c.name+": jump loop or nesting too deep; not followed")
		return outcome{}
	}
	ev.onStack[c] = true
	o := ev.walk(c, depth)
	delete(ev.onStack, c)
	ev.memo[c] = o
	return o
}

func (ev *evaluator) walk(c *chain, depth int) outcome {
	port, v6 := ev.port, ev.v6
	var o outcome
	for _, r := range c.rules {
		if r.skip != "" || (r.family == 4 && v6) || (r.family == 6 && !v6) || (r.proto != "" && r.proto != "tcp") {
			continue
		}
		if r.ports != nil && !slices.ContainsFunc(r.ports, func(p PortRange) bool { return p.Contains(port) }) {
			continue
		}
		if r.verdict == "" {
			continue
		}
		if r.verdict == "return" && r.src == nil {
			return o
		}
		if r.verdict == "return" {
			continue // some sources return: the rest go on; approximate as no-op
		}
		sub := outcome{}
		if r.verdict == "jump" || r.verdict == "goto" {
			t, ok := ev.rs.chains[r.target]
			if !ok {
				continue
			}
			sub = ev.chain(t, depth+1)
			if !sub.terminal {
				if r.verdict == "goto" && r.src == nil {
					return o
				}
				continue
			}
		}
		accept := r.verdict == "accept" || (sub.terminal && sub.access != Blocked)
		switch {
		case r.src != nil && !r.srcNeg:
			if accept {
				nets := r.src
				if sub.terminal && sub.access == Restricted {
					nets = intersect(r.src, sub.allowed)
				}
				o.allowed = append(o.allowed, nets...)
				o.rules = append(o.rules, r.text)
			}
		case r.src != nil: // negated source
			if accept {
				return finish(o, Open, r.text)
			}
			o.allowed = append(o.allowed, r.src...)
			return finish(o, Blocked, r.text)
		default:
			if accept && (!sub.terminal || sub.access == Open) {
				return finish(o, Open, r.text)
			}
			if sub.terminal && sub.access == Restricted {
				o.allowed = append(o.allowed, sub.allowed...)
				o.rules = append(o.rules, sub.rules...)
			}
			return finish(o, Blocked, r.text)
		}
	}
	return o
}
