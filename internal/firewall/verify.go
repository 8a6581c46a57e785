package firewall

import (
	"context"
	"fmt"
	"strings"
)

// Describe says in words what the policy does.
func (p Policy) Describe() string {
	if p.Block {
		return "FTP ports blocked for everyone"
	}
	var nets []string
	for _, a := range p.Allow {
		nets = append(nets, a.String())
	}
	s := "FTP ports allowed only from " + strings.Join(nets, ", ")
	if p.For > 0 {
		s += ", for " + p.For.String()
	}
	return s
}

// Ports returns the ranges the policy is about: each control port, and
// the passive range when there is one.
func (p Policy) Ports() []PortRange {
	var ports []PortRange
	for _, c := range p.ControlPorts() {
		ports = append(ports, PortRange{Low: c, High: c})
	}
	if !p.Passive.IsZero() {
		ports = append(ports, p.Passive)
	}
	return ports
}

// Mismatch is a port whose rules read back do not do what the policy
// says: another rule (a drop in another table, an earlier accept) decides.
type Mismatch struct {
	Port PortStatus
	Want Access
}

func (m Mismatch) String() string {
	rule := ""
	if len(m.Port.Rules) > 0 {
		rule = " (" + m.Port.Rules[len(m.Port.Rules)-1] + ")"
	}
	return fmt.Sprintf("%s/tcp %s is %s, not %s: another rule decides%s", m.Port.Ports, m.Port.Family, m.Port.Access, m.Want, rule)
}

// Verify compares what the rules read back do (st) with what p asks for.
// A port the policy restricts must read Restricted for every family it
// allows, Blocked for the others; with Block, Blocked everywhere. Unknown
// verdicts are not mismatches: the reader could not tell.
func Verify(p Policy, st *Status) []Mismatch {
	var out []Mismatch
	for _, ps := range st.Ports {
		want := Restricted
		if p.Block || !p.hasFamily(ps.Family) {
			want = Blocked
		}
		if ps.Access != want && ps.Access != Unknown {
			out = append(out, Mismatch{Port: ps, Want: want})
		}
	}
	return out
}

// VerifyApplied reads the active rules back for p's ports and compares
// them with p, so that nobody believes a port is closed or open when it is
// not.
func VerifyApplied(ctx context.Context, p Policy) (*Status, []Mismatch, error) {
	st, err := ReadStatus(ctx, p.Ports())
	if err != nil {
		return nil, nil, fmt.Errorf("firewall: read the rules back: %w", err)
	}
	return st, Verify(p, st), nil
}

func (p Policy) hasFamily(family string) bool {
	for _, a := range p.Allow {
		if a.Addr().Is4() == (family == "ipv4") {
			return true
		}
	}
	return false
}
