package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/port21/port21/internal/policy"
	"github.com/port21/port21/internal/users"
)

// accessFlags are the account limits `user add` and `user mod` share.
type accessFlags struct {
	perms, expires               string
	noExpires                    bool
	quotaBytes, rateUp, rateDown string
	quotaFiles                   int64
	maxSessions                  int
}

var accessFlagNames = []string{"perms", "expires", "no-expires", "quota-bytes", "quota-files", "rate-up", "rate-down", "max-sessions"}

func (a *accessFlags) register(f *pflag.FlagSet) {
	f.StringVar(&a.perms, "perms", "", "what the account may do: a comma list of list,download,upload,overwrite,delete,rename,mkdir,rmdir, or all (default all; --read-only keeps list,download)")
	f.StringVar(&a.expires, "expires", "", "when the account stops working: a duration from now (2h, 30m) or an RFC 3339 time")
	f.BoolVar(&a.noExpires, "no-expires", false, "the account never expires")
	f.StringVar(&a.quotaBytes, "quota-bytes", "", "most bytes the home may hold (e.g. 500M, 2G; 0 for no limit)")
	f.Int64Var(&a.quotaFiles, "quota-files", 0, "most files the home may hold (0 for no limit)")
	f.StringVar(&a.rateUp, "rate-up", "", "upload rate limit in bytes per second over all the account's sessions (e.g. 1M; 0 for none)")
	f.StringVar(&a.rateDown, "rate-down", "", "download rate limit in bytes per second (e.g. 1M; 0 for none)")
	f.IntVar(&a.maxSessions, "max-sessions", 0, "most sessions the account may have at once (0 for no limit)")
}

// apply sets the limits whose flags were given on u.
func (a *accessFlags) apply(f *pflag.FlagSet, u *users.User, now time.Time) error {
	if f.Changed("expires") && f.Changed("no-expires") {
		return errors.New("--expires and --no-expires exclude each other")
	}
	var err error
	if f.Changed("perms") {
		if u.Perms, err = users.ParsePerms(a.perms); err != nil {
			return fmt.Errorf("--perms: %w", err)
		}
	}
	if f.Changed("expires") {
		if u.Expires, err = parseExpires(a.expires, now); err != nil {
			return fmt.Errorf("--expires: %w", err)
		}
	}
	if f.Changed("no-expires") && a.noExpires {
		u.Expires = time.Time{}
	}
	for _, x := range []struct {
		name string
		in   string
		out  *int64
	}{{"quota-bytes", a.quotaBytes, &u.QuotaBytes}, {"rate-up", a.rateUp, &u.RateUp}, {"rate-down", a.rateDown, &u.RateDown}} {
		if f.Changed(x.name) {
			if *x.out, err = parseBytes(x.in); err != nil {
				return fmt.Errorf("--%s: %w", x.name, err)
			}
		}
	}
	if f.Changed("quota-files") {
		if a.quotaFiles < 0 {
			return errors.New("--quota-files: must be 0 or more")
		}
		u.QuotaFiles = a.quotaFiles
	}
	if f.Changed("max-sessions") {
		if a.maxSessions < 0 {
			return errors.New("--max-sessions: must be 0 or more")
		}
		u.MaxSessions = a.maxSessions
	}
	return nil
}

// parseExpires reads a duration from now ("2h") or an RFC 3339 time.
func parseExpires(s string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil {
		if d <= 0 {
			return time.Time{}, fmt.Errorf("%q is not in the future", s)
		}
		return now.Add(d), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither a duration (2h) nor an RFC 3339 time (2026-12-31T18:00:00Z)", s)
	}
	return t, nil
}

// parseBytes reads a byte count with an optional K, M, G or T suffix
// (powers of 1024).
func parseBytes(s string) (int64, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	t = strings.TrimSuffix(strings.TrimSuffix(t, "B"), "I")
	mult := int64(1)
	if n := len(t); n > 0 {
		if i := strings.IndexByte("KMGT", t[n-1]); i >= 0 {
			mult = int64(1) << (10 * (i + 1))
			t = t[:n-1]
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("%q is not a size like 500M or 2G", s)
	}
	return n * mult, nil
}

func newUserDisableCmd(sf *storeFlags, disable bool) *cobra.Command {
	use, short, verb := "enable NAME", "Let a disabled account log in again", "enabled"
	if disable {
		use, short, verb = "disable NAME", "Stop an account: no logins, and its sessions end within seconds", "disabled"
	}
	return &cobra.Command{
		Use:   use,
		Short: short,
		Long: short + `. A running server ends a disabled account's sessions, transfers
included, within about a second, and logs why.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			op := "user " + strings.Fields(use)[0]
			name := args[0]
			ctx := cmd.Context()
			store, err := sf.open(ctx, op)
			if err != nil {
				return err
			}
			defer store.Close()
			u, err := store.Get(ctx, name)
			if err != nil {
				return notFound(op, name, err)
			}
			u.Disabled = disable
			u.Hash = "" // keep the stored one
			if err := store.Update(ctx, u); err != nil {
				return notFound(op, name, err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s user %q\n", verb, name)
			return nil
		},
	}
}

// accessColumn summarises an account's limits for `user list`.
func accessColumn(u users.User, now time.Time) string {
	var parts []string
	if why := u.Blocked(now); why != "" {
		parts = append(parts, strings.TrimPrefix(why, "account "))
	} else if !u.Expires.IsZero() {
		parts = append(parts, "expires "+u.Expires.UTC().Format(time.RFC3339))
	}
	if p := u.Effective(); p != users.PermAll {
		parts = append(parts, "perms "+p.String())
	}
	if u.QuotaBytes > 0 || u.QuotaFiles > 0 {
		parts = append(parts, fmt.Sprintf("quota %dB/%d files", u.QuotaBytes, u.QuotaFiles))
	}
	if u.RateUp > 0 || u.RateDown > 0 {
		parts = append(parts, fmt.Sprintf("rate up %d down %d B/s", u.RateUp, u.RateDown))
	}
	if u.MaxSessions > 0 {
		parts = append(parts, fmt.Sprintf("max %d sessions", u.MaxSessions))
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, "; ")
}

// newBanCmd returns `port21 ban`: the defender's bans in the store, shared
// with a running server, which picks changes up within about a second.
func newBanCmd() *cobra.Command {
	var sf storeFlags
	cmd := &cobra.Command{
		Use:   "ban",
		Short: "List, add and remove banned addresses (list, add, del)",
		Long: `List, add and remove the addresses the server refuses at connect. The server's
defender adds bans by itself (failed logins, unknown users, connections that never log in,
protocol errors, connection floods); they are kept in <data-dir>/users.db (or the
PostgreSQL database of --store, shared by every node), survive a restart, and running
servers apply changes made here within about a second.`,
		Args:              cobra.NoArgs,
		RunE:              func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error { return sf.resolve(cmd) },
	}
	sf.register(cmd, "state directory holding users.db")
	cmd.AddCommand(newBanListCmd(&sf), newBanAddCmd(&sf), newBanDelCmd(&sf))
	return cmd
}

type banJSON struct {
	Prefix   string    `json:"prefix"`
	Until    time.Time `json:"until"`
	Offences int       `json:"offences"`
	Reason   string    `json:"reason"`
	Created  time.Time `json:"created"`
}

func newBanListCmd(sf *storeFlags) *cobra.Command {
	var asJSON, all bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the bans in force",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			const op = "ban list"
			ctx := cmd.Context()
			store, err := sf.open(ctx, op)
			if err != nil {
				return err
			}
			defer store.Close()
			bans, err := store.Bans(ctx)
			if err != nil {
				return fmt.Errorf("%s: %w", op, err)
			}
			now := time.Now()
			out := []banJSON{}
			for _, b := range bans {
				if all || now.Before(b.Until) {
					out = append(out, banJSON{b.Prefix.String(), b.Until.UTC(), b.Offences, b.Reason, b.Created.UTC()})
				}
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(out)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "PREFIX\tUNTIL\tOFFENCES\tREASON")
			for _, b := range out {
				fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", b.Prefix, b.Until.Format(time.RFC3339), b.Offences, b.Reason)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON array instead of a table")
	cmd.Flags().BoolVar(&all, "all", false, "include ended bans still remembered as offences")
	return cmd
}

func newBanAddCmd(sf *storeFlags) *cobra.Command {
	var (
		dur    time.Duration
		reason string
	)
	cmd := &cobra.Command{
		Use:   "add ADDRESS|CIDR",
		Short: "Ban an address or network",
		Long: `Ban an address or network (IPv6 addresses are banned with their /64, as the
defender does). A running server drops its new connections within about a second and
ends its connections that have not logged in.`,
		Example: `  port21 ban add 203.0.113.7 --for 24h --reason "seen in the firewall logs"
  port21 ban add 2001:db8:1:2::/64`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			const op = "ban add"
			p, err := users.ParsePrefix(args[0])
			if err != nil {
				return fmt.Errorf("%s: %w", op, err)
			}
			if p.IsSingleIP() {
				p = policy.Key(p.Addr())
			}
			if dur <= 0 {
				return fmt.Errorf("%s: --for must be positive", op)
			}
			ctx := cmd.Context()
			store, err := sf.open(ctx, op)
			if err != nil {
				return err
			}
			defer store.Close()
			now := time.Now()
			b := users.Ban{Prefix: p, Until: now.Add(dur), Offences: 1, Reason: reason, Created: now}
			if err := store.PutBan(ctx, b); err != nil {
				return fmt.Errorf("%s: %w", op, err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "banned %s until %s\n", p, b.Until.UTC().Format(time.RFC3339))
			return nil
		},
	}
	cmd.Flags().DurationVar(&dur, "for", 24*time.Hour, "how long the ban lasts")
	cmd.Flags().StringVar(&reason, "reason", "manual", "why, for the list and the log")
	return cmd
}

func newBanDelCmd(sf *storeFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "del ADDRESS|CIDR",
		Short: "Lift a ban (and forget its offences)",
		Long: `Lift a ban: a running server lets the address in again within about a second. An
IPv6 address lifts the ban of its /64. The address's earlier offences are forgotten too.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			const op = "ban del"
			p, err := users.ParsePrefix(args[0])
			if err != nil {
				return fmt.Errorf("%s: %w", op, err)
			}
			ctx := cmd.Context()
			store, err := sf.open(ctx, op)
			if err != nil {
				return err
			}
			defer store.Close()
			err = store.DeleteBan(ctx, p)
			if errors.Is(err, users.ErrNotFound) && p.IsSingleIP() {
				err = store.DeleteBan(ctx, policy.Key(p.Addr()))
			}
			if errors.Is(err, users.ErrNotFound) {
				return fmt.Errorf("%s: %s is not banned", op, p)
			}
			if err != nil {
				return fmt.Errorf("%s: %w", op, err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "lifted the ban of %s\n", p)
			return nil
		},
	}
}
