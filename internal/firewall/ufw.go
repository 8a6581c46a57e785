package firewall

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// ufw has no transactions and no runtime-only rules, so port21 manages its
// own rules there by their comment, and converges them rule by rule in an
// order that never opens more than either the old or the new rules do: new
// rules are prepended (ufw matches the first rule that fits, so they win
// over the administrator's), then the old ones are deleted.
//
// ufw keeps one rule per match: a rule for the same source, port and
// protocol as an existing one, but another action, is "skipped" by
// prepend. An administrator's `ufw allow 21/tcp` would so keep port21's
// `deny 21/tcp` out. Such rules are displaced: deleted before port21's are
// added, kept in the backup, and added back by Rollback (at the end of the
// list, since ufw cannot say where they were).

// ufwComment marks port21's rules.
const ufwComment = "port21"

// ufwRule is one inbound ufw rule, as port21 writes it and as
// `ufw show added` prints it.
type ufwRule struct {
	Action  string `json:"action"` // allow, deny, reject, limit
	From    string `json:"from"`   // "any", an address, or a prefix, as ufw prints it
	Port    string `json:"port"`   // "21" or "50000:50010"; "" for any
	Proto   string `json:"proto"`  // "tcp", "udp", or "" for both
	Comment string `json:"comment,omitempty"`
}

// key is what ufw tells rules apart by: the match, not the action.
func (r ufwRule) key() string { return r.From + " " + r.Port + "/" + r.Proto }

func (r ufwRule) same(o ufwRule) bool { return r.key() == o.key() && r.Action == o.Action }

// spec is the rule as ufw's command line takes it, after the verb.
func (r ufwRule) spec() []string {
	s := []string{r.Action}
	if r.Proto != "" {
		s = append(s, "proto", r.Proto)
	}
	s = append(s, "from", r.From, "to", "any")
	if r.Port != "" {
		s = append(s, "port", r.Port)
	}
	if r.Comment != "" {
		s = append(s, "comment", r.Comment)
	}
	return s
}

// command is the rule as a shell command line, the comment quoted as ufw
// prints it, with verb ("prepend", "delete") before the rule if not empty.
func (r ufwRule) command(verb string) string {
	spec := r.spec()
	if r.Comment != "" {
		spec[len(spec)-1] = "'" + r.Comment + "'"
	}
	if verb != "" {
		spec = append([]string{verb}, spec...)
	}
	return "ufw " + strings.Join(spec, " ")
}

// ufwAddr writes a prefix the way ufw prints it: a single address without
// its length.
func ufwAddr(p netip.Prefix) string {
	if p.IsSingleIP() {
		return p.Addr().String()
	}
	return p.Masked().String()
}

// ufwRules are the policy's rules in the order they must end up in: the
// allows above the denies.
func ufwRules(p Policy) []ufwRule {
	var ports []string
	for _, c := range p.ControlPorts() {
		ports = append(ports, fmt.Sprint(c))
	}
	if !p.Passive.IsZero() {
		ports = append(ports, fmt.Sprintf("%d:%d", p.Passive.Low, p.Passive.High))
	}
	var rules []ufwRule
	if !p.Block {
		for _, a := range p.Allow {
			for _, port := range ports {
				rules = append(rules, ufwRule{Action: "allow", From: ufwAddr(a), Port: port, Proto: "tcp", Comment: ufwComment})
			}
		}
	}
	for _, port := range ports {
		rules = append(rules, ufwRule{Action: "deny", From: "any", Port: port, Proto: "tcp", Comment: ufwComment})
	}
	return rules
}

// parseUFWAdded reads the rules of `ufw show added`. Lines of other shapes
// (outbound, on an interface, application profiles, routes) are skipped:
// port21 never writes them, and they never share a match with its rules.
func parseUFWAdded(out string) []ufwRule {
	var rules []ufwRule
	for line := range strings.SplitSeq(out, "\n") {
		if r, ok := parseUFWLine(line); ok {
			rules = append(rules, r)
		}
	}
	return rules
}

func parseUFWLine(line string) (ufwRule, bool) {
	f, ok := splitQuoted(strings.TrimSpace(line))
	if !ok || len(f) < 3 || f[0] != "ufw" {
		return ufwRule{}, false
	}
	r := ufwRule{Action: f[1], From: "any"}
	switch r.Action {
	case "allow", "deny", "reject", "limit":
	default:
		return ufwRule{}, false
	}
	rest := f[2:]
	if len(rest) > 0 && rest[0] == "in" {
		rest = rest[1:]
	}
	if len(rest) == 0 {
		return ufwRule{}, false
	}
	switch rest[0] {
	case "from", "to", "proto":
		for len(rest) >= 2 {
			k, v := rest[0], rest[1]
			rest = rest[2:]
			switch k {
			case "from":
				r.From = v
			case "to":
				if v != "any" {
					return ufwRule{}, false
				}
			case "port":
				r.Port = v
			case "proto":
				r.Proto = v
			case "comment":
				r.Comment = v
			default:
				return ufwRule{}, false
			}
		}
	default: // "21/tcp", "21", optionally followed by a comment
		port, proto, _ := strings.Cut(rest[0], "/")
		r.Port, r.Proto = port, proto
		rest = rest[1:]
		if len(rest) == 2 && rest[0] == "comment" {
			r.Comment = rest[1]
			rest = nil
		}
	}
	if len(rest) != 0 || !plainWord(r.From) || !plainWord(r.Port) && r.Port != "" || !plainWord(r.Proto) && r.Proto != "" {
		return ufwRule{}, false
	}
	return r, true
}

// plainWord is a non-empty word of printable characters without spaces or
// quotes, as ufw prints addresses, ports and protocols.
func plainWord(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c <= ' ' || c == '\'' || c == 0x7f {
			return false
		}
	}
	return true
}

// splitQuoted splits on spaces, keeping single-quoted words whole (ufw
// quotes comments that way).
func splitQuoted(s string) ([]string, bool) {
	var out []string
	for s != "" {
		s = strings.TrimLeft(s, " \t")
		if s == "" {
			break
		}
		if s[0] == '\'' {
			end := strings.IndexByte(s[1:], '\'')
			if end < 0 {
				return nil, false
			}
			out = append(out, s[1:1+end])
			s = s[2+end:]
			continue
		}
		i := strings.IndexAny(s, " \t")
		if i < 0 {
			i = len(s)
		}
		out = append(out, s[:i])
		s = s[i:]
	}
	return out, true
}

// ufwState is what an apply through ufw replaced.
type ufwState struct {
	// Prev are port21's rules before the apply.
	Prev []ufwRule `json:"prev"`
	// Displaced are the administrator's rules the apply deleted because
	// they had the match of one of port21's.
	Displaced []ufwRule `json:"displaced,omitempty"`
}

func (m *Manager) ufw(ctx context.Context, args ...string) (string, error) {
	return m.run.run(ctx, "", "ufw", args...)
}

// ufwActive fails unless ufw is enabled: rules added to an inactive ufw are
// recorded but do nothing.
func (m *Manager) ufwActive(ctx context.Context) error {
	out, err := m.ufw(ctx, "status")
	if err != nil {
		return fmt.Errorf("firewall: ufw: %w", err)
	}
	if !strings.Contains(out, "Status: active") {
		return fmt.Errorf("firewall: ufw is not active, so its rules would do nothing: enable it (`ufw enable`) or use --backend nftables")
	}
	return nil
}

func (m *Manager) ufwAdded(ctx context.Context) ([]ufwRule, error) {
	out, err := m.ufw(ctx, "show", "added")
	if err != nil {
		return nil, fmt.Errorf("firewall: ufw: %w", err)
	}
	return parseUFWAdded(out), nil
}

func (m *Manager) applyUFW(ctx context.Context, p Policy, bk *backup) error {
	if p.For > 0 {
		return fmt.Errorf("%w: ufw rules cannot expire by themselves, and an allow left behind would survive a reboot; on this machine use --confirm, or firewalld/nftables/iptables for --for", ErrUnsupported)
	}
	if err := m.ufwActive(ctx); err != nil {
		return err
	}
	st := &ufwState{}
	displaced, prev, err := m.convergeUFW(ctx, ufwRules(p), true)
	st.Prev, st.Displaced = prev, displaced
	bk.UFW = st
	if err != nil {
		return fmt.Errorf("firewall: apply: %w", err)
	}
	return nil
}

func (m *Manager) rollbackUFW(ctx context.Context, st *ufwState) error {
	if st == nil {
		st = &ufwState{}
	}
	if _, _, err := m.convergeUFW(ctx, st.Prev, false); err != nil {
		return fmt.Errorf("firewall: rollback: %w", err)
	}
	for _, r := range st.Displaced {
		if _, err := m.ufw(ctx, r.spec()...); err != nil {
			return fmt.Errorf("firewall: rollback: %w", err)
		}
	}
	return nil
}

// convergeUFW makes port21's ufw rules exactly want, in want's order above
// everything else. With displace, the administrator's rules with the match
// of a wanted rule are deleted first and returned; prev is port21's rules as
// they were.
func (m *Manager) convergeUFW(ctx context.Context, want []ufwRule, displace bool) (displaced, prev []ufwRule, err error) {
	added, err := m.ufwAdded(ctx)
	if err != nil {
		return nil, nil, err
	}
	wantKeys := map[string]bool{}
	for _, w := range want {
		wantKeys[w.key()] = true
	}
	var del, keep []ufwRule
	for _, r := range added {
		switch {
		case r.Comment == ufwComment:
			prev = append(prev, r)
			if slices.ContainsFunc(want, r.same) {
				keep = append(keep, r)
			} else if wantKeys[r.key()] {
				// Same match, other action: ufw would skip the new
				// rule, so the old one goes first.
				del = append(del, r)
			}
		case displace && wantKeys[r.key()]:
			displaced = append(displaced, r)
			del = append(del, r)
		}
	}
	for _, r := range del {
		if _, err := m.ufw(ctx, append([]string{"delete"}, r.spec()...)...); err != nil {
			return displaced, prev, err
		}
	}
	// prepend puts each rule on top, so the last wanted rule goes first.
	for i := len(want) - 1; i >= 0; i-- {
		if slices.ContainsFunc(keep, want[i].same) {
			continue
		}
		if _, err := m.ufw(ctx, append([]string{"prepend"}, want[i].spec()...)...); err != nil {
			return displaced, prev, err
		}
	}
	for _, r := range prev {
		if slices.ContainsFunc(want, r.same) || slices.ContainsFunc(del, r.same) {
			continue
		}
		if _, err := m.ufw(ctx, append([]string{"delete"}, r.spec()...)...); err != nil {
			return displaced, prev, err
		}
	}
	// ufw answers a rule it will not add with a message and success
	// ("Skipping inserting existing rule"): check that every rule is in.
	after, err := m.ufwAdded(ctx)
	if err != nil {
		return displaced, prev, err
	}
	for _, w := range want {
		if !slices.ContainsFunc(after, func(r ufwRule) bool { return r.same(w) && r.Comment == w.Comment }) {
			return displaced, prev, fmt.Errorf("ufw did not take `%s`: it keeps one rule per match, and another rule (see `ufw show added`) shares this one's", w.command(""))
		}
	}
	return displaced, prev, nil
}
