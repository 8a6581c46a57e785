package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/port21/port21/internal/local"
	"github.com/port21/port21/internal/report"
	"github.com/port21/port21/internal/scan/targets"
)

type localFlags struct {
	configPaths []string
	reportFlags
	probeTimeout time.Duration
	probePorts   string
}

func newLocalCmd() *cobra.Command {
	var lf localFlags
	cmd := &cobra.Command{
		Use:   "local [--config-path PATH...]",
		Short: "Is an FTP port open on this machine, who owns it, and what is wrong with its configuration",
		Long: `List every listening TCP socket on an FTP port (21, 990, 2121, and the listen ports and
passive range of any configuration found), every socket of an FTP daemon, and every local
listener that greets like FTP, IPv4 and IPv6, with its process, executable, user and how
long it has listened; say what the firewall does with it from outside; and audit the FTP server configurations on this machine (vsftpd, ProFTPD with
its includes, Pure-FTPd, port21).

Without root, the owners of other users' sockets and the firewall rules cannot be read:
port21 local says what it could not see.

Exit status: 0, or 1 on error, or 2 when --fail-on is given and a finding at or above that
severity was found.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			err := runLocal(cmd.Context(), local.System(), lf, cmd.OutOrStdout(), cmd.ErrOrStderr())
			if errors.Is(err, errFailOn) {
				return exitCode(2)
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&lf.configPaths, "config-path", nil, "also audit this configuration file or Pure-FTPd conf directory; repeatable")
	lf.reportFlags.register(f)
	f.DurationVar(&lf.probeTimeout, "probe-timeout", local.DefaultProbeTimeout, "how long to wait for a local listener's greeting")
	f.StringVar(&lf.probePorts, "probe-ports", "all", "which listening ports may be probed for an FTP greeting: all, none, or a list (21,990,2100-2200)")
	return cmd
}

func runLocal(ctx context.Context, env local.Env, lf localFlags, stdout, stderr io.Writer) error {
	g, err := lf.reportFlags.parse()
	if err != nil {
		return err
	}
	format := g.format
	if lf.probeTimeout <= 0 {
		return errors.New("--probe-timeout: must be positive")
	}
	probePorts, err := parseProbePorts(lf.probePorts)
	if err != nil {
		return fmt.Errorf("--probe-ports: %w", err)
	}
	rep, listeners, notes := local.Run(ctx, env, local.Options{ConfigPaths: lf.configPaths, ProbeTimeout: lf.probeTimeout, ProbePorts: probePorts})
	out := stdout
	var file *os.File
	if lf.output != "" {
		if file, err = os.Create(lf.output); err != nil {
			return fmt.Errorf("-o: %w", err)
		}
		out = file
	}
	if format == report.Table {
		local.WriteTable(out, listeners, env.Now())
		fmt.Fprintln(out)
	}
	opts := report.Options{Color: file == nil && format == report.Table && isTerminal(stdout) && os.Getenv("NO_COLOR") == ""}
	if err := report.Write(out, format, rep, opts); err != nil {
		return err
	}
	if file != nil {
		if err := file.Close(); err != nil {
			return fmt.Errorf("-o: %w", err)
		}
	}
	for _, n := range notes {
		fmt.Fprintln(stderr, "port21 local: note:", n)
	}
	if g.fails(rep) {
		return errFailOn
	}
	return nil
}

// parseProbePorts parses --probe-ports: all, none, or a port list.
func parseProbePorts(s string) (func(uint16) bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "all", "":
		return func(uint16) bool { return true }, nil
	case "none":
		return func(uint16) bool { return false }, nil
	}
	ports, err := targets.ParsePorts(s)
	if err != nil {
		return nil, err
	}
	return func(p uint16) bool { return slices.Contains(ports, p) }, nil
}
