package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/port21/port21/internal/datadir"
	"github.com/port21/port21/internal/users"
)

// defaultDataDir matches serve's default, so both find the same users.db.
const defaultDataDir = string(datadir.Default)

// newUserCmd returns `port21 user`, which manages the accounts in
// <data-dir>/users.db. It is safe to run while `port21 serve` uses the same
// data directory: a running server re-reads the account before every
// command, so changes reach logged-in sessions at once.
func newUserCmd() *cobra.Command {
	var sf storeFlags
	cmd := &cobra.Command{
		Use:   "user",
		Short: "Manage FTP accounts (add, passwd, mod, disable, enable, del, list)",
		Long: `Manage the FTP accounts kept in <data-dir>/users.db, or in the PostgreSQL database
that --store (or the store key of --config's file) names. Accounts are virtual: they
are not system users and never grant a shell. Changes may be made while the server
runs and take effect at once: del and passwd end the account's sessions, mod
applies the new rights to them (or ends them if the allow list no longer holds
their address); a new home directory applies from the next login.`,
		Args:              cobra.NoArgs,
		RunE:              func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error { return sf.resolve(cmd) },
	}
	sf.register(cmd, "state directory holding users.db and the default homes (created 0700 if missing)")
	cmd.AddCommand(
		newUserAddCmd(&sf),
		newUserPasswdCmd(&sf),
		newUserModCmd(&sf),
		newUserDelCmd(&sf),
		newUserDisableCmd(&sf, true),
		newUserDisableCmd(&sf, false),
		newUserListCmd(&sf),
		newUserImportShadowCmd(&sf),
		newUserCopyCmd(&sf),
	)
	return cmd
}

func newUserAddCmd(sf *storeFlags) *cobra.Command {
	var (
		u             users.User
		allow         []string
		passwordStdin bool
		access        accessFlags
	)
	cmd := &cobra.Command{
		Use:   "add NAME",
		Short: "Add an account",
		Long: `Add an account. Without --password-stdin or --hash a strong password is generated
and printed once. NAME is 1-64 characters of letters, digits and . _ @ -, not starting
with . or -. The home directory (default <data-dir>/home/NAME) is created if missing.
A custom --home may not be /, the data directory, a directory containing it, or a place
inside it other than <data-dir>/home/NAME (symbolic links are resolved first); only its
last element is created, so its parent must exist.

By default the account must use TLS (AUTH TLS) and may log in from anywhere. --allow
limits it to some networks. --allow-cleartext lets it log in without TLS, sending its
password in clear: only from its --allow networks, or from loopback if it has none.`,
		Example: `  port21 user add alice
  printf '%s\n' "$PASSWORD" | port21 user add bob --password-stdin --read-only --allow 192.0.2.0/24
  port21 user add carol --hash '$6$...'   # import a hash from /etc/shadow`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			const op = "user add"
			u.Name = args[0]
			if err := users.ValidateName(u.Name); err != nil {
				return fmt.Errorf("%s: %w", op, err)
			}
			var err error
			if u.Allow, err = parseAllow(allow); err != nil {
				return fmt.Errorf("%s: %w", op, err)
			}
			if err := access.apply(cmd.Flags(), &u, time.Now()); err != nil {
				return fmt.Errorf("%s: %w", op, err)
			}
			if cmd.Flags().Changed("home") {
				if u.Home, err = absHome(u.Home); err != nil {
					return fmt.Errorf("%s: %w", op, err)
				}
				if err := users.CheckHome(u.Home, sf.dataDir, u.Name); err != nil {
					return fmt.Errorf("%s: --home: %w", op, err)
				}
			}
			if u.Hash != "" {
				if err := users.ValidateHash(u.Hash); err != nil {
					return fmt.Errorf("%s: --hash: %w", op, err)
				}
			}
			ctx := cmd.Context()
			store, err := sf.open(ctx, op)
			if err != nil {
				return err
			}
			defer store.Close()
			// Check before the (deliberately slow) hashing and creating a home.
			if _, err := store.Get(ctx, u.Name); err == nil {
				return fmt.Errorf("%s: user %q already exists", op, u.Name)
			} else if !errors.Is(err, users.ErrNotFound) {
				return fmt.Errorf("%s: %w", op, err)
			}
			var password string
			generated := false
			if u.Hash == "" {
				if password, generated, err = choosePassword(cmd.InOrStdin(), passwordStdin); err != nil {
					return fmt.Errorf("%s: %w", op, err)
				}
				if u.Hash, err = users.NewHasher(1).Hash(ctx, password); err != nil {
					return fmt.Errorf("%s: %w", op, err)
				}
			}
			home, created, err := makeHome(sf.dataDir, u)
			if err != nil {
				return fmt.Errorf("%s: %w", op, err)
			}
			w := cmd.OutOrStdout()
			reportHome(w, home, created)
			if err := store.Add(ctx, u); err != nil {
				if errors.Is(err, users.ErrExists) {
					return fmt.Errorf("%s: user %q already exists", op, u.Name)
				}
				return fmt.Errorf("%s: %w", op, err)
			}
			fmt.Fprintf(w, "added user %q, home %s\n", u.Name, home)
			if generated {
				printPassword(w, u.Name, password)
			}
			warnCleartext(cmd.ErrOrStderr(), u)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&u.Home, "home", "", "absolute path of the home directory (default <data-dir>/home/NAME)")
	f.BoolVar(&passwordStdin, "password-stdin", false, "read the password from the first line of standard input")
	f.StringVar(&u.Hash, "hash", "", "import an existing hash (argon2id, bcrypt, sha512-crypt, sha256-crypt, yescrypt) instead of a password")
	f.BoolVar(&u.ReadOnly, "read-only", false, "forbid uploads, deletes, renames and new directories")
	f.StringSliceVar(&allow, "allow", nil, "network (CIDR) or IP address the account may log in from; repeatable (default anywhere)")
	f.BoolVar(&u.AllowCleartext, "allow-cleartext", false, "allow logins without TLS, from --allow networks only (loopback if none)")
	f.BoolVar(&u.TLSReuseOptional, "tls-reuse-optional", false, "do not require data connections to resume the control TLS session (Python ftplib)")
	access.register(f)
	cmd.MarkFlagsMutuallyExclusive("hash", "password-stdin")
	return cmd
}

func newUserPasswdCmd(sf *storeFlags) *cobra.Command {
	var passwordStdin bool
	cmd := &cobra.Command{
		Use:   "passwd NAME",
		Short: "Set an account's password",
		Long: `Set an account's password. Without --password-stdin a strong password is generated
and printed once. Sessions already logged in are not affected.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			const op = "user passwd"
			name := args[0]
			ctx := cmd.Context()
			store, err := sf.open(ctx, op)
			if err != nil {
				return err
			}
			defer store.Close()
			if _, err := store.Get(ctx, name); err != nil {
				return notFound(op, name, err)
			}
			password, generated, err := choosePassword(cmd.InOrStdin(), passwordStdin)
			if err != nil {
				return fmt.Errorf("%s: %w", op, err)
			}
			hash, err := users.NewHasher(1).Hash(ctx, password)
			if err != nil {
				return fmt.Errorf("%s: %w", op, err)
			}
			if err := store.SetHash(ctx, name, hash); err != nil {
				return notFound(op, name, err)
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "changed the password of user %q\n", name)
			if generated {
				printPassword(w, name, password)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&passwordStdin, "password-stdin", false, "read the password from the first line of standard input")
	return cmd
}

func newUserModCmd(sf *storeFlags) *cobra.Command {
	var (
		home                                     string
		allow                                    []string
		readOnly, clearAllow, cleartext, noReuse bool
		access                                   accessFlags
	)
	cmd := &cobra.Command{
		Use:   "mod NAME",
		Short: "Change an account's settings",
		Long: `Change an account's settings. Only the flags given change; the others keep their
values. --allow adds networks to the account's list; --clear-allow empties the list
first (alone, it lets the account log in from anywhere). --home "" returns to the
default home, <data-dir>/home/NAME. To change the password, use passwd.`,
		Example: `  port21 user mod bob --read-only=false
  port21 user mod bob --clear-allow --allow 192.0.2.0/24 --allow-cleartext`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			const op = "user mod"
			name := args[0]
			f := cmd.Flags()
			changed := false
			for _, name := range append([]string{"home", "read-only", "allow", "clear-allow", "allow-cleartext", "tls-reuse-optional"}, accessFlagNames...) {
				changed = changed || f.Changed(name)
			}
			if !changed {
				return fmt.Errorf("%s: nothing to change: give at least one of --home, --read-only, --allow, --clear-allow, --allow-cleartext, --tls-reuse-optional, --%s", op, strings.Join(accessFlagNames, ", --"))
			}
			added, err := parseAllow(allow)
			if err != nil {
				return fmt.Errorf("%s: %w", op, err)
			}
			if f.Changed("home") && home != "" {
				if home, err = absHome(home); err != nil {
					return fmt.Errorf("%s: %w", op, err)
				}
				if err := users.CheckHome(home, sf.dataDir, name); err != nil {
					return fmt.Errorf("%s: --home: %w", op, err)
				}
			}
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
			if f.Changed("home") {
				u.Home = home
			}
			if f.Changed("read-only") {
				u.ReadOnly = readOnly
			}
			if clearAllow {
				u.Allow = nil
			}
			u.Allow = mergePrefixes(u.Allow, added)
			if f.Changed("allow-cleartext") {
				u.AllowCleartext = cleartext
			}
			if f.Changed("tls-reuse-optional") {
				u.TLSReuseOptional = noReuse
			}
			if err := access.apply(f, &u, time.Now()); err != nil {
				return fmt.Errorf("%s: %w", op, err)
			}
			newHome, created := "", false
			if f.Changed("home") {
				if newHome, created, err = makeHome(sf.dataDir, u); err != nil {
					return fmt.Errorf("%s: %w", op, err)
				}
			}
			// An empty Hash keeps the stored one, which the server may have
			// upgraded since Get.
			u.Hash = ""
			if err := store.Update(ctx, u); err != nil {
				return notFound(op, name, err)
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "modified user %q\n", name)
			reportHome(w, newHome, created)
			if newHome != "" {
				fmt.Fprintf(w, "home is now %s; files in the old home were not moved\n", newHome)
			}
			warnCleartext(cmd.ErrOrStderr(), u)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&home, "home", "", `absolute path of the home directory ("" for <data-dir>/home/NAME)`)
	f.BoolVar(&readOnly, "read-only", false, "forbid (true) or allow (false) changes to files")
	f.StringSliceVar(&allow, "allow", nil, "add a network (CIDR) or IP address the account may log in from; repeatable")
	f.BoolVar(&clearAllow, "clear-allow", false, "empty the account's network list before adding --allow ones")
	f.BoolVar(&cleartext, "allow-cleartext", false, "allow (true) or forbid (false) logins without TLS")
	f.BoolVar(&noReuse, "tls-reuse-optional", false, "do not require (true) or require (false) TLS session resumption on data connections")
	access.register(f)
	return cmd
}

func newUserDelCmd(sf *storeFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "del NAME",
		Short: "Delete an account (its home directory is kept)",
		Long: `Delete an account. Its home directory and files are kept: remove them yourself if
they are no longer needed. A running server ends the account's sessions, transfers
included, within about a second.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			const op = "user del"
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
			if err := store.Delete(ctx, name); err != nil {
				return notFound(op, name, err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "deleted user %q; its home %s was left in place\n", name, resolveHome(sf.dataDir, u))
			return nil
		},
	}
}

// userJSON is how `user list --json` shows an account: never with its hash.
type userJSON struct {
	Name             string    `json:"name"`
	Home             string    `json:"home"`
	ReadOnly         bool      `json:"read_only"`
	Allow            []string  `json:"allow"`
	AllowCleartext   bool      `json:"allow_cleartext"`
	TLSReuseOptional bool      `json:"tls_reuse_optional"`
	Perms            string    `json:"perms"`
	Expires          time.Time `json:"expires,omitzero"`
	Disabled         bool      `json:"disabled"`
	QuotaBytes       int64     `json:"quota_bytes"`
	QuotaFiles       int64     `json:"quota_files"`
	RateUp           int64     `json:"rate_up"`
	RateDown         int64     `json:"rate_down"`
	MaxSessions      int       `json:"max_sessions"`
	Created          time.Time `json:"created"`
	Updated          time.Time `json:"updated"`
}

func newUserListCmd(sf *storeFlags) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the accounts",
		Long: `List the accounts, sorted by name. HOME is the directory the server uses: the
default <data-dir>/home/NAME is shown resolved. ALLOW "any" means from anywhere.
CLEARTEXT "loopback" means logins without TLS are allowed from loopback only.
Password hashes are never shown.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			const op = "user list"
			ctx := cmd.Context()
			store, err := sf.open(ctx, op)
			if err != nil {
				return err
			}
			defer store.Close()
			us, err := store.List(ctx)
			if err != nil {
				return fmt.Errorf("%s: %w", op, err)
			}
			if asJSON {
				out := make([]userJSON, 0, len(us))
				for _, u := range us {
					j := userJSON{
						Name: u.Name, Home: resolveHome(sf.dataDir, u), ReadOnly: u.ReadOnly, Allow: []string{},
						AllowCleartext: u.AllowCleartext, TLSReuseOptional: u.TLSReuseOptional,
						Perms: u.Effective().String(), Expires: u.Expires, Disabled: u.Disabled,
						QuotaBytes: u.QuotaBytes, QuotaFiles: u.QuotaFiles, RateUp: u.RateUp, RateDown: u.RateDown,
						MaxSessions: u.MaxSessions, Created: u.Created, Updated: u.Updated,
					}
					for _, p := range u.Allow {
						j.Allow = append(j.Allow, p.String())
					}
					out = append(out, j)
				}
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(out)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tHOME\tREAD-ONLY\tALLOW\tCLEARTEXT\tTLS-REUSE\tCREATED\tACCESS")
			for _, u := range us {
				allow := "any"
				if len(u.Allow) > 0 {
					s := make([]string, len(u.Allow))
					for i, p := range u.Allow {
						s[i] = p.String()
					}
					allow = strings.Join(s, ",")
				}
				cleartext := yesNo(u.AllowCleartext)
				if u.AllowCleartext && len(u.Allow) == 0 {
					cleartext = "loopback"
				}
				reuse := "required"
				if u.TLSReuseOptional {
					reuse = "optional"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", u.Name, resolveHome(sf.dataDir, u), yesNo(u.ReadOnly),
					allow, cleartext, reuse, u.Created.UTC().Format(time.RFC3339), accessColumn(u, time.Now()))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON array instead of a table")
	return cmd
}

func newUserImportShadowCmd(sf *storeFlags) *cobra.Command {
	var (
		homeBase string
		only     []string
	)
	cmd := &cobra.Command{
		Use:   "import-shadow FILE",
		Short: "Import accounts and their password hashes from a shadow file",
		Long: `Import accounts from a file of "name:hash:..." lines: /etc/shadow (as used by vsftpd
through PAM) or Pure-FTPd's pureftpd.passwd. FILE "-" reads standard input. Users keep
their passwords: bcrypt, sha512-crypt, sha256-crypt, yescrypt and argon2id hashes are
accepted and upgraded to argon2id at each user's first login.

Locked and passwordless accounts, names port21 does not accept and unsupported hashes
are skipped and reported, as are names that already exist. root is skipped unless
named with --user. Imported accounts get the defaults of "user add": TLS required,
from anywhere, read-write.`,
		Example: `  port21 user import-shadow /etc/shadow --user alice --user bob
  port21 user import-shadow /etc/pure-ftpd/pureftpd.passwd --home-base /srv/ftp`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			const op = "user import-shadow"
			if cmd.Flags().Changed("home-base") {
				if !filepath.IsAbs(homeBase) {
					return fmt.Errorf("%s: --home-base: %q is not an absolute path", op, homeBase)
				}
				homeBase = filepath.Clean(homeBase)
			}
			in := cmd.InOrStdin()
			if args[0] != "-" {
				f, err := os.Open(args[0])
				if err != nil {
					return fmt.Errorf("%s: %w", op, err)
				}
				defer f.Close()
				in = f
			}
			entries, err := users.ParseShadow(in)
			if err != nil {
				return fmt.Errorf("%s: %s: %w", op, args[0], err)
			}
			ctx := cmd.Context()
			store, err := sf.open(ctx, op)
			if err != nil {
				return err
			}
			defer store.Close()
			w := cmd.OutOrStdout()
			homes := map[string]string{} // the path makeHome used, for the message
			imported, skipped, err := users.ImportShadow(ctx, store, entries, users.ImportOptions{
				Only:     only,
				HomeBase: homeBase,
				Prepare: func(u users.User) error {
					home, created, err := makeHome(sf.dataDir, u)
					if err != nil {
						return err
					}
					reportHome(w, home, created)
					homes[u.Name] = home
					return nil
				},
				Event: func(e users.ImportEvent) {
					switch {
					case e.Skipped == "":
						fmt.Fprintf(w, "imported user %q, home %s\n", e.Name, homes[e.Name])
					case e.Line == 0:
						fmt.Fprintf(w, "skipped %q: not in %s\n", e.Name, args[0])
					default:
						fmt.Fprintf(w, "skipped line %d (%q): %s\n", e.Line, e.Name, e.Skipped)
					}
				},
			})
			if err != nil {
				return fmt.Errorf("%s: %w", op, err)
			}
			fmt.Fprintf(w, "imported %d users, skipped %d\n", imported, skipped)
			return nil
		},
	}
	cmd.Flags().StringVar(&homeBase, "home-base", "", "absolute directory under which each user's home is BASE/NAME (default <data-dir>/home/NAME)")
	cmd.Flags().StringSliceVar(&only, "user", nil, "import only this user; repeatable (default all but root)")
	return cmd
}

func newUserCopyCmd(sf *storeFlags) *cobra.Command {
	var to storeFlags
	cmd := &cobra.Command{
		Use:   "copy",
		Short: "Copy every account and ban to another store (SQLite to PostgreSQL, say)",
		Long: `Copy every account, with its password hash, allow list and rights, and every ban from
this store (--data-dir, --store or --config, as the other user commands) to another:
--to-config names the other site's serve configuration file, or --to-store its store
(--to-data-dir for a SQLite one). Nothing is overwritten: accounts and bans the
destination already has are skipped and counted, so the copy can be run again.
Home directories are not copied; a default home stays <data-dir>/home/NAME.`,
		Example: `  port21 user copy --data-dir /var/lib/port21 --to-config /etc/port21/port21.toml`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			const op = "user copy"
			f := cmd.Flags()
			if !f.Changed("to-config") && !f.Changed("to-store") && !f.Changed("to-data-dir") {
				return fmt.Errorf("%s: give --to-config, --to-store or --to-data-dir", op)
			}
			if err := to.load(!f.Changed("to-data-dir"), !f.Changed("to-store")); err != nil {
				return fmt.Errorf("%s: --to-config: %w", op, err)
			}
			if to.store == sf.store && (to.store != "" || filepath.Clean(to.dataDir) == filepath.Clean(sf.dataDir)) {
				return fmt.Errorf("%s: the destination is this store", op)
			}
			ctx := cmd.Context()
			src, err := sf.open(ctx, op)
			if err != nil {
				return err
			}
			defer src.Close()
			dst, err := to.open(ctx, op)
			if err != nil {
				return err
			}
			defer dst.Close()
			r, err := users.Copy(ctx, dst, src)
			fmt.Fprintf(cmd.OutOrStdout(), "copied %d users (%d already there) and %d bans (%d already there)\n",
				r.Users, r.UsersSkipped, r.Bans, r.BansSkipped)
			if err != nil {
				return fmt.Errorf("%s: %w", op, err)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&to.config, "to-config", "", "the destination's serve configuration file: its data-dir and store")
	f.StringVar(&to.store, "to-store", "", `the destination store: a postgres:// URL, or "" for <to-data-dir>/users.db`)
	f.StringVar(&to.dataDir, "to-data-dir", defaultDataDir, "the destination's data directory (for a SQLite destination)")
	return cmd
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// notFound turns a store error for name into the CLI's message.
func notFound(op, name string, err error) error {
	if errors.Is(err, users.ErrNotFound) {
		return fmt.Errorf("%s: no user %q", op, name)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// parseAllow parses --allow values: CIDRs or bare IP addresses.
func parseAllow(values []string) ([]netip.Prefix, error) {
	var ps []netip.Prefix
	for _, v := range values {
		p, err := users.ParsePrefix(v)
		if err != nil {
			return nil, fmt.Errorf("--allow: %w", err)
		}
		ps = mergePrefixes(ps, []netip.Prefix{p})
	}
	return ps, nil
}

// mergePrefixes appends the prefixes of add not already in list.
func mergePrefixes(list, add []netip.Prefix) []netip.Prefix {
	for _, p := range add {
		dup := false
		for _, q := range list {
			dup = dup || q == p
		}
		if !dup {
			list = append(list, p)
		}
	}
	return list
}

// absHome checks a --home value: it must be absolute, so that it does not
// depend on the directory the server happens to start in.
func absHome(home string) (string, error) {
	if !filepath.IsAbs(home) {
		return "", fmt.Errorf("--home: %q is not an absolute path", home)
	}
	return filepath.Clean(home), nil
}

// resolveHome returns the directory the server will use as u's home.
func resolveHome(dataDir string, u users.User) string {
	if u.Home != "" {
		return u.Home
	}
	home := datadir.Dir(dataDir).Home(u.Name)
	if abs, err := filepath.Abs(home); err == nil {
		home = abs
	}
	return home
}

// makeHome creates u's home directory (0750) if missing and returns its
// path, refusing an unsafe one (see users.CheckHome). A default home is
// created with its parents, inside the data directory; a custom one only
// as its last element, so a typo cannot silently grow a tree elsewhere.
// created says whether it was made now, for the caller to report.
func makeHome(dataDir string, u users.User) (home string, created bool, err error) {
	home = resolveHome(dataDir, u)
	if u.Home != "" {
		if err := users.CheckHome(u.Home, dataDir, u.Name); err != nil {
			return "", false, err
		}
		created, err = users.MakeHome(u.Home)
		return home, created, err
	}
	_, statErr := os.Stat(home)
	if err := os.MkdirAll(home, 0o750); err != nil {
		return "", false, fmt.Errorf("create home directory: %w", err)
	}
	return home, os.IsNotExist(statErr), nil
}

// reportHome tells the administrator that a home directory was created.
func reportHome(w io.Writer, home string, created bool) {
	if created {
		fmt.Fprintf(w, "created home directory %s\n", home)
	}
}

// choosePassword reads the password from in when fromStdin is set, and
// generates one otherwise.
func choosePassword(in io.Reader, fromStdin bool) (password string, generated bool, err error) {
	if !fromStdin {
		password, err = users.GeneratePassword()
		return password, true, err
	}
	password, err = users.ReadPassword(in)
	if err != nil {
		return "", false, fmt.Errorf("--password-stdin: %w", err)
	}
	return password, false, nil
}

func printPassword(w io.Writer, name, password string) {
	fmt.Fprintf(w, "password: %s\n", password)
	fmt.Fprintf(w, "This password is shown only once and cannot be recovered; store it now.\n"+
		"To set a new one: port21 user passwd %s\n", name)
}

// warnCleartext reminds the administrator where cleartext logins will work.
func warnCleartext(w io.Writer, u users.User) {
	if u.AllowCleartext && len(u.Allow) == 0 {
		fmt.Fprintf(w, "note: user %q may log in without TLS from loopback only; add --allow networks to allow others\n", u.Name)
	}
}
