package firewall

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"strconv"
	"strings"
)

// firewalld is driven through firewall-cmd in the default zone, with rich
// rules whose priorities order them (the allows at -2 before the drops at
// -1), so the order of the calls does not matter to the result. Each
// change is made to the runtime configuration, which takes effect at once,
// and to the permanent one, which survives a reload or a reboot; an allow
// with --for is runtime only, with firewalld's --timeout, so it closes by
// itself, and a reboot closes it too.
//
// firewalld has no transactions: apply adds the new rules before it removes
// what they replace (the ftp service, the FTP ports opened to everyone, and
// port21's previous rules), so it never opens more than either policy.

// firewalldRules are the policy's rich rules: the allows (which --for makes
// expire) and the drops.
func firewalldRules(p Policy) (allows, drops []string) {
	if !p.Block {
		for _, a := range p.Allow {
			fam := "ipv4"
			if a.Addr().Is6() {
				fam = "ipv6"
			}
			rr := func(what string) {
				allows = append(allows, fmt.Sprintf(`rule priority="-2" family="%s" source address="%s" %s accept`, fam, a, what))
			}
			// The ftp service carries the conntrack helper for plain FTP.
			rr(`service name="ftp"`)
			if p.ImplicitTLS {
				rr(`port port="990" protocol="tcp"`)
			}
			if !p.Passive.IsZero() {
				rr(fmt.Sprintf(`port port="%d-%d" protocol="tcp"`, p.Passive.Low, p.Passive.High))
			}
		}
	}
	for _, fam := range []string{"ipv4", "ipv6"} {
		for _, port := range firewalldPorts(p) {
			drops = append(drops, fmt.Sprintf(`rule priority="-1" family="%s" port port="%s" protocol="tcp" drop`, fam, strings.TrimSuffix(port, "/tcp")))
		}
	}
	return allows, drops
}

// firewalldPorts are the policy's ports in firewalld's notation.
func firewalldPorts(p Policy) []string {
	var ports []string
	for _, c := range p.ControlPorts() {
		ports = append(ports, strconv.Itoa(int(c))+"/tcp")
	}
	if !p.Passive.IsZero() {
		ports = append(ports, fmt.Sprintf("%d-%d/tcp", p.Passive.Low, p.Passive.High))
	}
	return ports
}

// firewalldOpeners are the zone entries that open the policy's ports to
// everyone: apply removes those that are present.
func firewalldOpeners(p Policy) []string {
	out := []string{"service=ftp"}
	for _, port := range firewalldPorts(p) {
		out = append(out, "port="+port)
	}
	return out
}

// fwdRule is a rich rule port21 added, and whether it was also made
// permanent (an expiring allow is not).
type fwdRule struct {
	Rule      string `json:"rule"`
	Permanent bool   `json:"permanent"`
}

// firewalldState is what an apply through firewalld changed.
type firewalldState struct {
	Zone string `json:"zone"`
	// Prev are port21's rich rules before the apply, Added after it.
	Prev  []fwdRule `json:"prev,omitempty"`
	Added []fwdRule `json:"added"`
	// Removed are the zone entries the apply removed ("service=ftp",
	// "port=21/tcp"), from the runtime and from the permanent
	// configuration.
	RemovedRuntime   []string `json:"removed_runtime,omitempty"`
	RemovedPermanent []string `json:"removed_permanent,omitempty"`
}

func (m *Manager) firewallCmd(ctx context.Context, args ...string) (string, error) {
	out, err := m.run.run(ctx, "", "firewall-cmd", args...)
	if err != nil {
		return out, fmt.Errorf("firewalld: %w", err)
	}
	return strings.TrimSpace(out), nil
}

// enabled asks firewalld whether a zone entry is on ("yes", exit 0) or
// not ("no", exit 1, or an entry it does not know).
func (m *Manager) enabled(ctx context.Context, zone, entry string, permanent bool) bool {
	args := []string{"--zone=" + zone, "--query-" + entry}
	if permanent {
		args = append([]string{"--permanent"}, args...)
	}
	out, err := m.firewallCmd(ctx, args...)
	return err == nil && out == "yes"
}

// richRules adds or removes rules ("add" or "remove") in one call.
func (m *Manager) richRules(ctx context.Context, op, zone string, rules []string, permanent bool, extra ...string) error {
	if len(rules) == 0 {
		return nil
	}
	args := []string{"--zone=" + zone}
	if permanent {
		args = append([]string{"--permanent"}, args...)
	}
	for _, r := range rules {
		args = append(args, "--"+op+"-rich-rule="+r)
	}
	_, err := m.firewallCmd(ctx, append(args, extra...)...)
	return err
}

func (m *Manager) firewalldRunning(ctx context.Context) error {
	out, err := m.firewallCmd(ctx, "--state")
	switch {
	case errors.Is(err, exec.ErrNotFound):
		return fmt.Errorf("firewall: %w", err)
	case err != nil || out != "running":
		return fmt.Errorf("firewall: firewalld is not running (firewall-cmd --state: %q): start it, or use --backend nftables", out)
	}
	return nil
}

func (m *Manager) applyFirewalld(ctx context.Context, p Policy, bk *backup) error {
	if err := m.firewalldRunning(ctx); err != nil {
		return err
	}
	zone, err := m.firewallCmd(ctx, "--get-default-zone")
	if err != nil {
		return fmt.Errorf("firewall: %w", err)
	}
	st := &firewalldState{Zone: zone}
	// port21's rules now are those its last apply added, if it went
	// through firewalld in this zone.
	last, _, err := m.lastBackup()
	if err != nil {
		return err
	}
	var prev backup
	ok, err := readJSON(last, &prev)
	if err != nil {
		return err
	}
	if ok && prev.Backend == Firewalld && prev.Firewalld != nil && prev.Firewalld.Zone == zone {
		st.Prev = prev.Firewalld.Added
	}
	allows, drops := firewalldRules(p)
	for _, r := range allows {
		st.Added = append(st.Added, fwdRule{Rule: r, Permanent: p.For == 0})
	}
	for _, r := range drops {
		st.Added = append(st.Added, fwdRule{Rule: r, Permanent: true})
	}
	bk.Firewalld = st
	var timeout []string
	if p.For > 0 {
		timeout = []string{"--timeout=" + strconv.FormatInt(int64(p.For.Seconds()), 10) + "s"}
	}
	if err := m.convergeFirewalld(ctx, zone, st.Prev, st.Added, timeout, func() error {
		for _, e := range firewalldOpeners(p) {
			for _, perm := range []bool{false, true} {
				if !m.enabled(ctx, zone, e, perm) {
					continue
				}
				args := []string{"--zone=" + zone, "--remove-" + e}
				if perm {
					args = append([]string{"--permanent"}, args...)
				}
				if _, err := m.firewallCmd(ctx, args...); err != nil {
					return err
				}
				if perm {
					st.RemovedPermanent = append(st.RemovedPermanent, e)
				} else {
					st.RemovedRuntime = append(st.RemovedRuntime, e)
				}
			}
		}
		return nil
	}); err != nil {
		return fmt.Errorf("firewall: apply: %w", err)
	}
	return nil
}

func (m *Manager) rollbackFirewalld(ctx context.Context, st *firewalldState) error {
	if st == nil {
		return nil
	}
	// An expiring allow of an older apply is not brought back: it may
	// have expired, and it must not come back for good.
	var want []fwdRule
	for _, r := range st.Prev {
		if r.Permanent {
			want = append(want, r)
		}
	}
	if err := m.convergeFirewalld(ctx, st.Zone, st.Added, want, nil, func() error {
		for _, set := range []struct {
			entries []string
			perm    bool
		}{{st.RemovedRuntime, false}, {st.RemovedPermanent, true}} {
			for _, e := range set.entries {
				args := []string{"--zone=" + st.Zone, "--add-" + e}
				if set.perm {
					args = append([]string{"--permanent"}, args...)
				}
				if _, err := m.firewallCmd(ctx, args...); err != nil {
					return err
				}
			}
		}
		return nil
	}); err != nil {
		return fmt.Errorf("firewall: rollback: %w", err)
	}
	return nil
}

// convergeFirewalld replaces port21's rich rules, have, with want: rules
// whose permanence changes are removed first (firewalld would keep the old
// one as "already enabled"), then want is added (the allows with timeout,
// when given), then between runs (it changes the zone's other entries),
// then the rest of have is removed.
func (m *Manager) convergeFirewalld(ctx context.Context, zone string, have, want []fwdRule, timeout []string, between func() error) error {
	in := func(list []fwdRule, r fwdRule) bool { return slices.Contains(list, r) }
	text := func(list []fwdRule, r fwdRule) bool {
		return slices.ContainsFunc(list, func(o fwdRule) bool { return o.Rule == r.Rule })
	}
	var early, late []fwdRule
	for _, r := range have {
		switch {
		case in(want, r):
		case text(want, r):
			early = append(early, r)
		default:
			late = append(late, r)
		}
	}
	remove := func(rules []fwdRule) error {
		var runtime, perm []string
		for _, r := range rules {
			runtime = append(runtime, r.Rule)
			if r.Permanent {
				perm = append(perm, r.Rule)
			}
		}
		if err := m.richRules(ctx, "remove", zone, runtime, false); err != nil {
			return err
		}
		return m.richRules(ctx, "remove", zone, perm, true)
	}
	if err := remove(early); err != nil {
		return err
	}
	var timed, runtime, perm []string
	for _, r := range want {
		if in(have, r) {
			continue
		}
		switch {
		case !r.Permanent && len(timeout) > 0:
			timed = append(timed, r.Rule)
		default:
			runtime = append(runtime, r.Rule)
		}
		if r.Permanent {
			perm = append(perm, r.Rule)
		}
	}
	if err := m.richRules(ctx, "add", zone, timed, false, timeout...); err != nil {
		return err
	}
	if err := m.richRules(ctx, "add", zone, runtime, false); err != nil {
		return err
	}
	if err := m.richRules(ctx, "add", zone, perm, true); err != nil {
		return err
	}
	if err := between(); err != nil {
		return err
	}
	return remove(late)
}
