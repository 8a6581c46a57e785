//go:build !unix

package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// newServeCmd is the server's place on systems it does not run on: the jail
// is built on openat-style system calls (os.Root, renameat, unlinkat) that
// have no Windows equivalent here. scan, local and firewall plan work.
func newServeCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "Run the FTP/FTPS server (Linux, the BSDs and macOS only)",
		RunE: func(*cobra.Command, []string) error {
			return errors.New("serve runs on Linux, the BSDs and macOS; on this system use scan, local and firewall plan")
		},
	}
}
