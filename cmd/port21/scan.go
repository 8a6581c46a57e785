package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/port21/port21/internal/report"
	"github.com/port21/port21/internal/scan"
	"github.com/port21/port21/internal/scan/targets"
)

// scanFlags are the flags of port21 scan.
type scanFlags struct {
	inputs      []string
	nmapI       bool
	ports       string
	rate        float64
	concurrency int
	timeout     time.Duration
	connTimeout time.Duration
	shard       string
	intrusive   bool
	tlsCiphers  bool
	force       bool
	reportFlags
}

// errFailOn is returned when --fail-on's threshold was reached; the command
// exits 2 for it, the CI convention shared with port21 local.
var errFailOn = errors.New("findings at or above the --fail-on severity, or incomplete audits")

func newScanCmd() *cobra.Command {
	var sf scanFlags
	cmd := &cobra.Command{
		Use:   "scan [TARGET...] [-iL FILE]",
		Short: "Find FTP services on hosts and networks, audit each, and say how to fix what is wrong",
		Long: `Scan hosts and networks for FTP and FTPS services, fingerprint each, run safe checks
(TLS, clear-text logins, anonymous access, bounce, passive address leaks, known CVEs)
and report every problem with its evidence and fix.

TARGET is an address, a CIDR prefix (IPv4 or IPv6), a range (192.0.2.10-20 or
192.0.2.10-192.0.2.99), a host name, any of those with :PORT, or - for targets on
standard input. -iL FILE reads targets from a file: one per line, or the output of
nmap -oX, masscan -oL/-oJ/-oD, or zmap (plain or CSV); the format is detected.
Targets from nmap and masscan output are probed on the ports those tools found
open; --ports applies to the others. More than 2^24 addresses need --force;
more than 2^32 are refused. Closed and filtered ports are not reported; every
port that accepted a connection is, with an error if it did not speak FTP.

Default checks write nothing to the target and send no password but the
anonymous convention; like nmap's ftp-anon, they read the anonymous listing and
report world-writable directories. --intrusive adds an anonymous upload (a small
file, deleted at once, in the login directory or else in up to three of its
subdirectories, upload/ and world-writable ones first) and a short list of
default credentials, tried on up to three connections at once.

Every target that answered is in the report with a status: success, timeout,
not-ftp, tls-error, resolve-error, refused (a 421 greeting: too many connections
or a ban of the scanner's address), protocol-error or interrupted (^C). After ^C
the report is written with the targets audited so far and marked partial.

Exit status: 0, or 1 on error, or 2 when --fail-on is given and a finding at or
above that severity was found, or (unless --fail-on-incomplete=false) a target's
audit is incomplete or the run was interrupted.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			err := runScan(cmd.Context(), sf, args, cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr())
			if errors.Is(err, errFailOn) {
				// Everything is written and closed by now; the error is
				// the exit status, not a message.
				return exitCode(2)
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&sf.inputs, "input-list", "L", nil, "read targets from FILE (- for standard input); also spelled -iL as in nmap; repeatable")
	f.BoolVarP(&sf.nmapI, "nmap-i", "i", false, "with L, spells nmap's -iL")
	_ = f.MarkHidden("nmap-i")
	f.StringVar(&sf.ports, "ports", "21,990,2121", "ports to probe: list and ranges (21,990,2100-2200) or all")
	f.Float64Var(&sf.rate, "rate", 0, "cap on new connections per second, all probes included (0: no cap; the sweep adapts to the answers)")
	f.IntVar(&sf.concurrency, "concurrency", scan.DefaultConcurrency, "targets audited at once")
	f.DurationVar(&sf.timeout, "timeout", scan.DefaultTimeout, "time limit for the whole audit of one target")
	f.DurationVar(&sf.connTimeout, "connect-timeout", scan.DefaultConnectTimeout, "time limit for each TCP connection attempt (a filtered port costs this)")
	f.StringVar(&sf.shard, "shard", "", "scan only shard I of N (e.g. 2/4): machines given the same targets split them deterministically")
	f.BoolVar(&sf.intrusive, "intrusive", false, "also try an anonymous upload (deleted at once) and a short list of default credentials")
	f.BoolVar(&sf.tlsCiphers, "tls-ciphers", false, "list every cipher suite each TLS version accepts (a handshake per suite: slower)")
	f.BoolVar(&sf.force, "force", false, "allow scans of more than 2^24 addresses")
	sf.reportFlags.register(f)
	return cmd
}

// runScan does the work of port21 scan; it returns errFailOn when the
// --fail-on threshold is reached.
func runScan(ctx context.Context, sf scanFlags, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	// Validate every flag before any work.
	g, err := sf.reportFlags.parse()
	if err != nil {
		return err
	}
	format := g.format
	ports, err := targets.ParsePorts(sf.ports)
	if err != nil {
		return fmt.Errorf("--ports: %w", err)
	}
	shardI, shardN := 1, 1
	if sf.shard != "" {
		if shardI, shardN, err = targets.ParseShard(sf.shard); err != nil {
			return fmt.Errorf("--shard: %w", err)
		}
	}
	switch {
	case sf.rate < 0:
		return errors.New("--rate must be 0 (no cap) or more")
	case sf.concurrency < 1 || sf.concurrency > 100000:
		return errors.New("--concurrency must be from 1 to 100000")
	case sf.timeout <= 0:
		return errors.New("--timeout must be positive")
	case sf.connTimeout < 0:
		return errors.New("--connect-timeout must not be negative")
	case len(args) == 0 && len(sf.inputs) == 0:
		return errors.New("no targets: name some, or use -iL FILE or - for standard input")
	}
	list, err := targets.Collect(args, sf.inputs, stdin, func(name string) (io.ReadCloser, error) { return os.Open(name) })
	if err != nil {
		return err
	}
	list.Ports = ports
	if err := list.Check(sf.force); err != nil {
		return err
	}
	scanner, err := scan.New(scan.Options{
		Concurrency:    sf.concurrency,
		Rate:           sf.rate,
		Timeout:        sf.timeout,
		ConnectTimeout: sf.connTimeout,
		Intrusive:      sf.intrusive,
		TLSSuites:      sf.tlsCiphers,
	})
	if err != nil {
		return err
	}

	out := stdout
	var file *os.File
	if sf.output != "" {
		if file, err = os.Create(sf.output); err != nil {
			return fmt.Errorf("-o: %w", err)
		}
		defer file.Close()
		out = file
	}
	stream, err := report.NewStream(out, format, report.Options{Color: file == nil && isTerminal(stdout) && os.Getenv("NO_COLOR") == ""})
	if err != nil {
		return err
	}

	var stats scan.Stats
	stats.Total.Store(targets.ShardCount(list.Count(), shardI, shardN))
	var progress *scan.Progress
	if isTerminal(stderr) && !(format == report.JSONL && file == nil && isTerminal(stdout)) {
		progress = scan.StartProgress(stderr, &stats, 250*time.Millisecond)
	}

	rep := report.Report{Tool: "port21 scan", Started: time.Now().UTC()}
	for _, in := range sf.inputs {
		if in != "-" {
			rep.Inputs = append(rep.Inputs, in)
		}
	}
	runErr := scanner.Run(ctx, list.Shard(shardI, shardN), &stats, func(r scan.Result) error {
		rep.Results = append(rep.Results, r)
		return stream.Add(r)
	})
	rep.Finished = time.Now().UTC()
	if runErr != nil {
		// ^C or a failed write: the report says it is partial and how far
		// the run got, and so does the error.
		rep.Partial = true
		rep.Note = fmt.Sprintf("partial report: the run stopped (%v) after %d of %d targets; %d reported, %d incomplete",
			runErr, stats.Done.Load(), stats.Total.Load(), len(rep.Results), report.Incomplete(rep))
	}
	if progress != nil {
		progress.Stop()
	}
	if err := stream.Close(rep); err != nil {
		return err
	}
	if file != nil {
		if err := file.Close(); err != nil {
			return fmt.Errorf("-o: %w", err)
		}
	}
	if runErr != nil {
		return fmt.Errorf("scan: %s: %w", rep.Note, runErr)
	}
	if g.fails(rep) {
		return errFailOn
	}
	return nil
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
