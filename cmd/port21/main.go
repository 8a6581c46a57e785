// Command port21 is an FTP/FTPS server that is secure by default, and the
// tools to audit FTP: see `port21 --help`. This package only parses flags
// and wires the internal packages together.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRootCmd().ExecuteContext(ctx)
	stop()
	var code exitCode
	switch {
	case errors.As(err, &code):
		os.Exit(int(code))
	case err != nil:
		fmt.Fprintln(os.Stderr, "port21:", err)
		os.Exit(1)
	}
}

// exitCode is an error that is only an exit status: whatever the command
// had to say is written already (scan and local with --fail-on exit 2).
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "port21",
		Short:         "A secure-by-default FTP/FTPS server",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newServeCmd(), newConfigCmd(), newUserCmd(), newBanCmd())
	root.AddCommand(newLocalCmd(), newFirewallCmd())
	root.AddCommand(newScanCmd())
	return root
}
