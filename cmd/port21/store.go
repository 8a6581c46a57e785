package main

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/port21/port21/internal/config"
	"github.com/port21/port21/internal/users"
)

// storeFlags are the flags by which `port21 user` and `port21 ban` find the
// store serve uses: --data-dir and --store as serve's keys, or --config to
// read both from serve's configuration file (which keeps a PostgreSQL
// password off the command line, where ps shows it).
type storeFlags struct {
	config  string
	dataDir string
	store   string
}

// register adds the flags to cmd, for it and its subcommands.
func (sf *storeFlags) register(cmd *cobra.Command, dataDirUsage string) {
	f := cmd.PersistentFlags()
	f.StringVar(&sf.config, "config", "", "serve's TOML configuration file: take data-dir and store from it (flags win)")
	f.StringVar(&sf.dataDir, "data-dir", defaultDataDir, dataDirUsage)
	f.StringVar(&sf.store, "store", "", `user store: "" for <data-dir>/users.db, or a postgres:// URL (as serve's store key)`)
}

// resolve reads --config, if given, for the keys not set by flags.
func (sf *storeFlags) resolve(cmd *cobra.Command) error {
	return sf.load(!cmd.Flags().Changed("data-dir"), !cmd.Flags().Changed("store"))
}

// load takes data-dir and store (those asked for) from the file sf.config,
// if set.
func (sf *storeFlags) load(dataDir, store bool) error {
	if sf.config == "" {
		return nil
	}
	cfg, err := config.Load(sf.config, config.Default())
	if err != nil {
		return err
	}
	if dataDir {
		sf.dataDir = cfg.DataDir
	}
	if store {
		sf.store = cfg.Store
	}
	return nil
}

// open opens the store, first creating the data directory (0700: it holds
// the password database and the TLS key) if missing for a SQLite one. Errors name the
// subcommand op.
func (sf *storeFlags) open(ctx context.Context, op string) (*users.Store, error) {
	if sf.dataDir == "" {
		return nil, fmt.Errorf("%s: --data-dir is empty", op)
	}
	if _, err := (config.Config{Store: sf.store, DataDir: sf.dataDir}).Validate(); err != nil {
		for _, ke := range config.KeyErrors(err) {
			if ke.Key == "store" {
				return nil, fmt.Errorf("%s: --store: %s", op, ke.Msg)
			}
		}
	}
	if sf.store == "" {
		if err := os.MkdirAll(sf.dataDir, 0o700); err != nil {
			return nil, fmt.Errorf("%s: create data directory: %w", op, err)
		}
	}
	store, err := users.Open(ctx, sf.store, sf.dataDir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	return store, nil
}
