package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/port21/port21/internal/config"
	"github.com/port21/port21/internal/firewall"
)

// policyFlags are the flags plan and apply share.
type policyFlags struct {
	block       bool
	allow       []string
	passive     string
	implicitTLS bool
	forDur      time.Duration
	backend     string
}

func (pf *policyFlags) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.BoolVar(&pf.block, "block", false, "drop new connections to the FTP ports from everyone")
	f.StringSliceVar(&pf.allow, "allow", nil, "only these networks (CIDR or address, IPv4 or IPv6) may connect; repeatable")
	f.StringVar(&pf.passive, "passive-ports", "", "the server's passive port range LOW-HIGH, opened to --allow networks only")
	f.BoolVar(&pf.implicitTLS, "implicit-tls", false, "also cover port 990 (implicit FTPS)")
	f.DurationVar(&pf.forDur, "for", 0, "the allow expires by itself after this long (e.g. 2h)")
	f.StringVar(&pf.backend, "backend", "", "nftables, iptables, ufw, firewalld, windows or pf (default: the one this machine uses)")
}

func (pf *policyFlags) policy() (firewall.Policy, error) {
	p := firewall.Policy{Block: pf.block, ImplicitTLS: pf.implicitTLS, For: pf.forDur}
	for _, a := range pf.allow {
		n, err := firewall.ParsePrefix(a)
		if err != nil {
			return p, fmt.Errorf("--allow: %w", err)
		}
		p.Allow = append(p.Allow, n)
	}
	if pf.passive != "" {
		r, err := config.ParsePortRange(pf.passive)
		if err != nil {
			return p, fmt.Errorf("--passive-ports: %w", err)
		}
		p.Passive = firewall.PortRange{Low: r.Low, High: r.High}
	}
	return p, p.Validate()
}

func resolveBackend(ctx context.Context, name string) (firewall.Backend, error) {
	if name != "" {
		return firewall.ParseBackend(name)
	}
	b, err := firewall.Detect(ctx)
	if err != nil {
		return "", fmt.Errorf("%w: pass --backend", err)
	}
	return b, nil
}

func newFirewallCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "firewall",
		Short: "Write, apply, roll back and read the firewall rules for FTP",
		Long: `Close port 21 or restrict it to the networks that need it, for IPv4 and IPv6.

  plan      print the rules for a backend (nothing is changed)
  apply     load them (nftables, iptables, ufw, firewalld), keeping what they replace
  confirm   keep rules applied with --confirm
  rollback  put back what the last apply replaced
  status    what the active rules do with ports 21, 990 and the passive range`,
	}
	cmd.AddCommand(newFirewallPlanCmd(), newFirewallApplyCmd(), newFirewallRollbackCmd(),
		newFirewallConfirmCmd(), newFirewallStatusCmd(), newFirewallWatchdogCmd())
	return cmd
}

func newFirewallPlanCmd() *cobra.Command {
	var pf policyFlags
	cmd := &cobra.Command{
		Use:   "plan (--block | --allow CIDR...) [--passive-ports LOW-HIGH] [--implicit-tls] [--for D] [--backend B]",
		Short: "Print the firewall rules for a policy without changing anything",
		Example: `  port21 firewall plan --allow 203.0.113.0/24 --allow 2001:db8::/32 --passive-ports 50000-50100
  port21 firewall plan --block --backend windows`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, err := pf.policy()
			if err != nil {
				return err
			}
			b, err := resolveBackend(cmd.Context(), pf.backend)
			if err != nil {
				return err
			}
			out, err := firewall.Plan(b, p)
			if err != nil {
				return err
			}
			_, err = io.WriteString(cmd.OutOrStdout(), out)
			return err
		},
	}
	pf.register(cmd)
	return cmd
}

func newFirewallApplyCmd() *cobra.Command {
	var (
		pf       policyFlags
		confirm  time.Duration
		stateDir string
	)
	cmd := &cobra.Command{
		Use:   "apply (--block | --allow CIDR...) [--passive-ports LOW-HIGH] [--implicit-tls] [--for D] [--confirm D]",
		Short: "Apply the rules (nftables, iptables, ufw, firewalld), keeping the old ones for rollback",
		Long: `Apply the rules of ` + "`port21 firewall plan`" + `, keeping what they replace so that
` + "`port21 firewall rollback`" + ` can put it back. nftables and iptables take them in one
transaction (nft -f; iptables-restore per family). ufw and firewalld take them rule by
rule, new rules first and then the removal of what they replace, so no step opens more
than the old or the new rules do; ufw rules that share a match with port21's (such as
` + "`ufw allow 21/tcp`" + `) are deleted and come back on rollback. --for needs rules that
expire: nftables, iptables (ipset) or firewalld (--timeout); ufw has none.

With --confirm 60s the old rules come back by themselves after 60 seconds unless
` + "`port21 firewall confirm`" + ` is run: a detached port21 process (its PID is in the state
directory) waits for the deadline, so this works even when the SSH session that ran
apply is cut off by the new rules.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, err := pf.policy()
			if err != nil {
				return err
			}
			if confirm < 0 || (confirm > 0 && confirm < time.Second) {
				return errors.New("--confirm: must be at least 1s")
			}
			b, err := resolveBackend(cmd.Context(), pf.backend)
			if err != nil {
				return err
			}
			m, err := firewall.NewManager(b, stateDir)
			if err != nil {
				return err
			}
			if err := m.Apply(cmd.Context(), p); err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "applied (%s): %s\n", b, p.Describe())
			verifyApplied(cmd.Context(), out, p)
			if confirm == 0 {
				fmt.Fprintln(out, "undo with: port21 firewall rollback")
				return nil
			}
			deadline := time.Now().Add(confirm)
			token, err := m.Arm(deadline)
			if err == nil {
				err = startWatchdog(m, b, stateDir, token)
			}
			if err != nil {
				// Without a watchdog nobody would roll back: do it now.
				if rerr := m.Rollback(context.WithoutCancel(cmd.Context())); rerr != nil {
					return fmt.Errorf("%w; and the rollback failed too: %w", err, rerr)
				}
				return fmt.Errorf("%w (the rules were rolled back)", err)
			}
			fmt.Fprintf(out, "these rules roll back by themselves at %s unless you run: port21 firewall confirm\n",
				deadline.Format("15:04:05"))
			return nil
		},
	}
	pf.register(cmd)
	cmd.Flags().DurationVar(&confirm, "confirm", 0, "roll back by itself after this long unless `port21 firewall confirm` is run")
	cmd.Flags().StringVar(&stateDir, "state-dir", firewall.DefaultStateDir, "where the replaced rules and the pending confirmation are kept")
	return cmd
}

// startWatchdog re-executes port21 as a detached process (its own session,
// no terminal, input from /dev/null, output appended to watchdog.log in the
// state directory, so that a failed rollback leaves its reason) that rolls
// back at the deadline.
func startWatchdog(m *firewall.Manager, b firewall.Backend, stateDir, token string) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("start confirmation watchdog: %w", err)
	}
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("start confirmation watchdog: %w", err)
	}
	defer null.Close()
	logf, err := os.OpenFile(filepath.Join(stateDir, "watchdog.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("start confirmation watchdog: %w", err)
	}
	defer logf.Close()
	w := exec.Command(exe, "firewall", "watchdog", "--backend", string(b), "--state-dir", stateDir, "--token", token)
	w.Stdin, w.Stdout, w.Stderr = null, logf, logf
	w.SysProcAttr = firewall.DetachedProcAttr()
	if err := w.Start(); err != nil {
		return fmt.Errorf("start confirmation watchdog: %w", err)
	}
	pid := w.Process.Pid
	_ = w.Process.Release()
	return m.SetWatchdog(token, pid)
}

func newFirewallWatchdogCmd() *cobra.Command {
	var backend, stateDir, token string
	cmd := &cobra.Command{
		Use:    "watchdog",
		Short:  "Internal: roll back an unconfirmed apply at its deadline",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b, err := firewall.ParseBackend(backend)
			if err != nil {
				return err
			}
			m, err := firewall.NewManager(b, stateDir)
			if err != nil {
				return err
			}
			return m.Watch(cmd.Context(), token)
		},
	}
	cmd.Flags().StringVar(&backend, "backend", "", "backend of the apply")
	cmd.Flags().StringVar(&stateDir, "state-dir", firewall.DefaultStateDir, "state directory of the apply")
	cmd.Flags().StringVar(&token, "token", "", "the pending apply's token")
	return cmd
}

func newFirewallConfirmCmd() *cobra.Command {
	var stateDir string
	cmd := &cobra.Command{
		Use:   "confirm",
		Short: "Keep rules applied with --confirm (cancel their automatic rollback)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// Confirming does not depend on the backend.
			m, err := firewall.NewManager(firewall.NFTables, stateDir)
			if err != nil {
				return err
			}
			ok, err := m.Confirm()
			if err != nil {
				return err
			}
			if !ok {
				return errors.New("nothing is waiting for confirmation (it may already have rolled back)")
			}
			fmt.Fprintln(cmd.OutOrStdout(), "confirmed: the rules stay")
			return nil
		},
	}
	cmd.Flags().StringVar(&stateDir, "state-dir", firewall.DefaultStateDir, "state directory of the apply")
	return cmd
}

func newFirewallRollbackCmd() *cobra.Command {
	var backend, stateDir string
	cmd := &cobra.Command{
		Use:   "rollback",
		Short: "Put back the rules the last apply replaced",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b, err := resolveBackend(cmd.Context(), backend)
			if err != nil {
				return err
			}
			m, err := firewall.NewManager(b, stateDir)
			if err != nil {
				return err
			}
			if err := m.Rollback(cmd.Context()); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "rolled back (%s)\n", b)
			return nil
		},
	}
	cmd.Flags().StringVar(&backend, "backend", "", "nftables or iptables (default: the one this machine uses)")
	cmd.Flags().StringVar(&stateDir, "state-dir", firewall.DefaultStateDir, "state directory of the apply")
	return cmd
}

func newFirewallStatusCmd() *cobra.Command {
	var passive, format string
	cmd := &cobra.Command{
		Use:   "status [--passive-ports LOW-HIGH]",
		Short: "Say whether TCP 21, 990 and the passive range are open, restricted or blocked, and by which rule",
		Long: `Read the active rules (nftables, and iptables/ip6tables, where ufw and firewalld rules end
up too) and say what they do with a new connection from outside to TCP 21, 990 and the
passive range, for IPv4 and IPv6, naming the deciding rules.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ports := []firewall.PortRange{{Low: 21, High: 21}, {Low: 990, High: 990}}
			if passive != "" {
				r, err := config.ParsePortRange(passive)
				if err != nil {
					return fmt.Errorf("--passive-ports: %w", err)
				}
				ports = append(ports, firewall.PortRange{Low: r.Low, High: r.High})
			}
			if format != "table" && format != "json" {
				return fmt.Errorf("--format %q: want table or json", format)
			}
			st, err := firewall.ReadStatus(cmd.Context(), ports)
			if err != nil {
				return err
			}
			return writeFirewallStatus(cmd.OutOrStdout(), st, format)
		},
	}
	cmd.Flags().StringVar(&passive, "passive-ports", "", "also report this passive port range LOW-HIGH")
	cmd.Flags().StringVar(&format, "format", "table", "table or json")
	return cmd
}

func writeFirewallStatus(w io.Writer, st *firewall.Status, format string) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(st)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "PORT\tFAMILY\tACCESS\tALLOWED FROM\tDECIDED BY\n")
	for _, p := range st.Ports {
		allowed, rule := "-", "-"
		switch p.Access {
		case firewall.Open:
			allowed = "anywhere"
		case firewall.Restricted:
			allowed = strings.Join(p.Allowed, ", ")
		}
		if len(p.Rules) > 0 {
			rule = p.Rules[len(p.Rules)-1]
		}
		fmt.Fprintf(tw, "%s/tcp\t%s\t%s\t%s\t%s\n", p.Ports, p.Family, p.Access, allowed, rule)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(st.Sources) > 0 {
		fmt.Fprintf(w, "\nread from: %s\n", strings.Join(st.Sources, ", "))
	}
	for _, n := range st.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	return nil
}

// verifyApplied prints what the rules read back now do with each port,
// and a warning for each that another rule decides (firewall.Verify).
func verifyApplied(ctx context.Context, w io.Writer, p firewall.Policy) {
	st, mismatches, err := firewall.VerifyApplied(ctx, p)
	if err != nil {
		fmt.Fprintf(w, "could not read the rules back: %v\n", err)
		return
	}
	for _, ps := range st.Ports {
		line := fmt.Sprintf("  %s/tcp %s: %s", ps.Ports, ps.Family, ps.Access)
		if ps.Access == firewall.Restricted {
			line += " to " + strings.Join(ps.Allowed, ", ")
		}
		fmt.Fprintln(w, line)
		for _, m := range mismatches {
			if m.Port.Ports == ps.Ports && m.Port.Family == ps.Family {
				fmt.Fprintf(w, "  WARNING: %s\n", m)
			}
		}
	}
}
