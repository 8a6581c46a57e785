package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/port21/port21/internal/confaudit"
	"github.com/port21/port21/internal/finding"
	"github.com/port21/port21/internal/firewall"
	"github.com/port21/port21/internal/report"
	"github.com/port21/port21/internal/scan/targets"
	"github.com/port21/port21/internal/sockets"
)

type localFlags struct {
	configPaths  []string
	format       string
	output       string
	failOn       string
	probeTimeout time.Duration
	probePorts   string
}

// localEnv is where port21 local looks; tests point it at fixtures.
type localEnv struct {
	procRoot string // "/proc"
	confRoot string // "/"
	status   func(context.Context, []firewall.PortRange) (*firewall.Status, error)
	probe    func(context.Context, []sockets.Listener, time.Duration, int) map[int]string
	now      func() time.Time
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
			env := localEnv{procRoot: "/proc", confRoot: "/", status: firewall.ReadStatus, probe: sockets.ProbeAll, now: time.Now}
			err := runLocal(cmd.Context(), env, lf, cmd.OutOrStdout(), cmd.ErrOrStderr())
			if errors.Is(err, errFailOn) {
				return exitCode(2)
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&lf.configPaths, "config-path", nil, "also audit this configuration file or Pure-FTPd conf directory; repeatable")
	f.StringVar(&lf.format, "format", "table", "report format: table, json, jsonl, sarif, csv or html")
	f.StringVarP(&lf.output, "output", "o", "", "write the report to FILE instead of standard output")
	f.StringVar(&lf.failOn, "fail-on", "", "exit 2 when a finding of this severity or higher exists (info, low, medium, high, critical)")
	f.DurationVar(&lf.probeTimeout, "probe-timeout", defaultProbeTimeout, "how long to wait for a local listener's greeting")
	f.StringVar(&lf.probePorts, "probe-ports", "all", "which listening ports may be probed for an FTP greeting: all, none, or a list (21,990,2100-2200)")
	return cmd
}

// defaultProbeTimeout is how long a local listener has to greet. 500 ms
// once missed a ProFTPD, which forks a session (and may look up the
// client's name) before it greets. Probes run concurrently and listeners on
// the ports of an audited configuration are FTP without a greeting, so a
// longer wait costs little: at most this much per probeConcurrency
// listeners that never greet.
const defaultProbeTimeout = 2 * time.Second

// probeConcurrency is how many local listeners are probed at once.
const probeConcurrency = 64

// localListener is a listener port21 local reports on.
type localListener struct {
	sockets.Listener
	greeting string
	why      string                // why it counts as FTP
	unprobed string                // why it was not probed, if so
	fw       []firewall.PortStatus // per family the listener accepts
}

func runLocal(ctx context.Context, env localEnv, lf localFlags, stdout, stderr io.Writer) error {
	format, err := report.ParseFormat(lf.format)
	if err != nil {
		return err
	}
	var failOn finding.Severity
	if lf.failOn != "" {
		if failOn, err = finding.ParseSeverity(lf.failOn); err != nil {
			return fmt.Errorf("--fail-on: %w", err)
		}
	}
	if lf.probeTimeout <= 0 {
		return errors.New("--probe-timeout: must be positive")
	}
	probePorts, err := parseProbePorts(lf.probePorts)
	if err != nil {
		return fmt.Errorf("--probe-ports: %w", err)
	}
	rep, listeners, notes := survey(ctx, env, lf, probePorts)
	out := stdout
	var file *os.File
	if lf.output != "" {
		if file, err = os.Create(lf.output); err != nil {
			return fmt.Errorf("-o: %w", err)
		}
		out = file
	}
	if format == report.Table {
		writeListenerTable(out, listeners, env.now())
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
	if sev, ok := report.MaxSeverity(rep); lf.failOn != "" && ok && sev >= failOn {
		return errFailOn
	}
	return nil
}

// ftpPorts are the ports reported whatever answers on them.
var ftpPorts = []uint16{21, 990, 2121}

// survey gathers listeners, firewall verdicts and configuration audits.
func survey(ctx context.Context, env localEnv, lf localFlags, probePorts func(uint16) bool) (report.Report, []localListener, []string) {
	rep := report.Report{Tool: "port21 local", Started: env.now().UTC(), Results: []report.Result{}}
	var notes []string

	snap, err := sockets.Read(env.procRoot)
	var all []sockets.Listener
	if err != nil {
		notes = append(notes, "listening sockets: "+err.Error())
	} else {
		all = snap.Listeners
		notes = append(notes, snap.Notes...)
	}

	// Configurations next: the default places, --config-path, and the
	// files running servers were started with. Their passive ranges
	// decide which ports matter.
	srcs, errs := confaudit.Discover(env.confRoot, lf.configPaths)
	for _, e := range errs {
		notes = append(notes, e.Error())
	}
	for _, l := range all {
		for _, p := range l.Processes {
			if s, ok := confaudit.FromCommandLine(p.Name, p.Args); ok {
				s.Path = filepath.Join(env.confRoot, s.Path)
				if !slices.ContainsFunc(srcs, func(o confaudit.Source) bool { return o.Path == s.Path }) {
					srcs = append(srcs, s)
				}
			}
		}
	}
	var passive [][2]uint16
	control := map[uint16]string{} // listen port -> the configuration that sets it
	var confResults []report.Result
	for _, s := range srcs {
		r := confaudit.Audit(s)
		res := report.Result{
			Target:   finding.Target{File: s.Path},
			Service:  &finding.Service{Product: string(s.Product)},
			Findings: r.Findings,
		}
		if r.Err != nil {
			res.Error = r.Err.Error()
		}
		if r.Ports.Passive[0] != 0 {
			passive = append(passive, r.Ports.Passive)
		}
		for _, p := range r.Ports.Control {
			if _, ok := control[p]; !ok {
				control[p] = s.Path
			}
		}
		rep.Inputs = append(rep.Inputs, s.Path)
		confResults = append(confResults, res)
	}

	// Probe what may be probed; keep the index into all.
	var probed []sockets.Listener
	var probedAt []int
	unprobed := map[int]string{}
	for i, l := range all {
		if !probePorts(l.Port) {
			continue
		}
		if why := dataListener(l, control, passive); why != "" {
			unprobed[i] = why
			continue
		}
		probed = append(probed, l)
		probedAt = append(probedAt, i)
	}
	greet := map[int]string{}
	for j, g := range env.probe(ctx, probed, lf.probeTimeout, probeConcurrency) {
		greet[probedAt[j]] = g
	}
	var ls []localListener
	for i, l := range all {
		g, greeted := greet[i]
		why := ftpReason(l, greeted, control, passive)
		if why == "" {
			continue
		}
		ls = append(ls, localListener{Listener: l, greeting: g, why: why, unprobed: unprobed[i]})
	}

	// What the firewall does with each listener's port, per family.
	var ports []firewall.PortRange
	for _, l := range ls {
		pr := firewall.PortRange{Low: l.Port, High: l.Port}
		if !slices.Contains(ports, pr) {
			ports = append(ports, pr)
		}
	}
	var st *firewall.Status
	if len(ports) > 0 {
		if st, err = env.status(ctx, ports); err != nil {
			notes = append(notes, "firewall: "+err.Error())
		} else {
			notes = append(notes, st.Notes...)
		}
	}
	passiveFlag := ""
	if len(passive) > 0 {
		passiveFlag = fmt.Sprintf(" --passive-ports %d-%d", passive[0][0], passive[0][1])
	}
	for i := range ls {
		l := &ls[i]
		if st != nil && !l.Addr.IsLoopback() {
			for _, fam := range families(l.Addr) {
				if ps, ok := st.Lookup(l.Port, fam); ok {
					l.fw = append(l.fw, ps)
				}
			}
		}
		rep.Results = append(rep.Results, listenerResult(*l, passiveFlag))
	}
	rep.Results = append(rep.Results, confResults...)
	rep.Finished = env.now().UTC()
	slices.Sort(notes)
	return rep, ls, slices.Compact(notes)
}

// ftpDaemons are process names that only ever listen for FTP.
var ftpDaemons = []string{"vsftpd", "proftpd", "pure-ftpd", "in.ftpd", "ftpd"}

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

// dataListener says why a listener is likely an FTP server's passive data
// listener, or "" when it is not. Such a listener is never probed: the
// server takes the first connection from the client's address as the
// transfer it waits for, so a probe from this machine would take a local
// client's data connection and fail its transfer. Servers bind passive
// listeners to the control connection's own address, so a listener on the
// wildcard address is not one.
func dataListener(l sockets.Listener, control map[uint16]string, passive [][2]uint16) string {
	if slices.Contains(ftpPorts, l.Port) || l.Addr.IsUnspecified() {
		return ""
	}
	if _, ok := control[l.Port]; ok {
		return ""
	}
	for _, r := range passive {
		if l.Port >= r[0] && l.Port <= r[1] {
			return fmt.Sprintf("in a configured passive range (%d-%d), where a probe could take a client's data connection", r[0], r[1])
		}
	}
	for _, p := range l.Processes {
		if slices.Contains(ftpDaemons, p.Name) {
			return fmt.Sprintf("%s listens here off its control ports, likely for a passive data connection a probe could take", p.Name)
		}
		if cp, ok := port21ControlPorts(p); ok && !slices.Contains(cp, l.Port) {
			return "port21 serve listens here off its control ports, likely for a passive data connection a probe could take"
		}
	}
	return ""
}

// port21ControlPorts are the control ports a port21 serve process was
// given on its command line (--listen, --implicit-tls-listen); ok is false
// when the process is not port21 serve.
func port21ControlPorts(p sockets.Process) (ports []uint16, ok bool) {
	if p.Name != "port21" || !slices.Contains(p.Args, "serve") {
		return nil, false
	}
	for i, a := range p.Args {
		for _, name := range []string{"--listen", "--implicit-tls-listen"} {
			v, found := strings.CutPrefix(a, name+"=")
			if !found && a == name && i+1 < len(p.Args) {
				v, found = p.Args[i+1], true
			}
			if !found {
				continue
			}
			if _, port, err := net.SplitHostPort(v); err == nil {
				if n, err := strconv.ParseUint(port, 10, 16); err == nil {
					ports = append(ports, uint16(n))
				}
			}
		}
	}
	return ports, true
}

// ftpReason says why a listener is reported as FTP, or "" when it is not:
// it greeted like FTP, listens on a well-known FTP port, on a port an
// audited configuration listens on or in its passive range, or belongs to
// an FTP daemon. Only the greeting needs the listener to answer in time.
func ftpReason(l sockets.Listener, greeted bool, control map[uint16]string, passive [][2]uint16) string {
	switch {
	case greeted:
		return "it greets like an FTP server"
	case slices.Contains(ftpPorts, l.Port):
		return fmt.Sprintf("port %d is a well-known FTP port", l.Port)
	}
	if f, ok := control[l.Port]; ok {
		return fmt.Sprintf("port %d is where %s makes the server listen", l.Port, f)
	}
	for _, r := range passive {
		if l.Port >= r[0] && l.Port <= r[1] {
			return fmt.Sprintf("port %d is in a configured passive range (%d-%d)", l.Port, r[0], r[1])
		}
	}
	for _, p := range l.Processes {
		if slices.Contains(ftpDaemons, p.Name) {
			return "it belongs to " + p.Name + ", an FTP server"
		}
	}
	return ""
}

// families is who can reach an address: an IPv6 wildcard socket also
// takes IPv4 (unless bindv6only is set, which is rare).
func families(a netip.Addr) []string {
	switch {
	case a.Is4():
		return []string{"ipv4"}
	case a == netip.IPv6Unspecified():
		return []string{"ipv6", "ipv4"}
	}
	return []string{"ipv6"}
}

// Finding ids of port21 local's own (listener) findings.
const (
	idFTPListener  = "ftp-listener"
	idFirewallOpen = "firewall-open"
)

func listenerResult(l localListener, passiveFlag string) report.Result {
	res := report.Result{
		Target:   finding.Target{Host: l.Addr.String(), Address: l.Addr.String(), Port: int(l.Port)},
		Service:  &finding.Service{Banner: l.greeting},
		Findings: []finding.Finding{},
	}
	var ev []finding.Evidence
	if l.why != "" {
		ev = append(ev, finding.Evidence{Note: "reported as FTP: " + l.why})
	}
	for _, p := range l.Processes {
		note := fmt.Sprintf("process %s (pid %d", p.Name, p.PID)
		if p.Exe != "" {
			note += ", " + p.Exe
		}
		if p.User != "" {
			note += ", user " + p.User
		}
		note += ")"
		if !p.Started.IsZero() {
			note += ", listening at most since " + p.Started.UTC().Format(time.RFC3339)
		}
		ev = append(ev, finding.Evidence{Note: note})
		if res.Service.Product == "" {
			res.Service.Product = p.Name
		}
	}
	switch l.Activation {
	case "systemd":
		ev = append(ev, finding.Evidence{Note: "socket activation: systemd (PID 1) holds the socket and starts the server on the first connection; stop the .socket unit, not only the service"})
	case "inetd":
		ev = append(ev, finding.Evidence{Note: "started per connection by inetd/xinetd: disable the ftp entry there"})
	}
	if len(l.Processes) == 0 {
		res.Error = "the owning process is not visible (run as root, or the socket belongs to another PID namespace)"
	}
	if l.greeting != "" {
		ev = append(ev, finding.Evidence{Received: l.greeting, Note: "greeting"})
	}
	if l.unprobed != "" {
		ev = append(ev, finding.Evidence{Note: "not probed: " + l.unprobed})
	}
	if l.Addr.IsLoopback() {
		ev = append(ev, finding.Evidence{Note: "listens on loopback only: not reachable from other machines"})
	}
	open := false
	var openFams []string
	for _, f := range l.fw {
		note := fmt.Sprintf("firewall %s: %s", f.Family, f.Access)
		if f.Access == firewall.Restricted {
			note += " to " + strings.Join(f.Allowed, ", ")
		}
		if len(f.Rules) > 0 {
			note += " (" + strings.Join(f.Rules, "; ") + ")"
		}
		ev = append(ev, finding.Evidence{Note: note})
		if f.Access == firewall.Open {
			open = true
			openFams = append(openFams, f.Family)
		}
	}
	res.Findings = append(res.Findings, finding.Finding{
		ID:       idFTPListener,
		Severity: finding.Info,
		Title:    "FTP service listening",
		Detail:   "A process listens on an FTP port (well-known, or set by a configuration on this machine), is an FTP daemon, or greets like an FTP server.",
		Target:   res.Target,
		Basis:    "confirmed",
		Evidence: ev,
		Fix:      finding.Fix{Summary: "If nobody needs it, stop and disable the service; otherwise restrict who can reach it."},
	})
	if open {
		res.Findings = append(res.Findings, finding.Finding{
			ID:       idFirewallOpen,
			Severity: finding.Low,
			Title:    "FTP port open to every network",
			Detail:   "The active firewall rules let anyone open a connection to this port (" + strings.Join(openFams, ", ") + ").",
			Target:   res.Target,
			Basis:    "config",
			Fix: finding.Fix{
				Summary:  "Allow only the networks that need FTP, or block the port.",
				Firewall: "port21 firewall apply --allow CIDR" + passiveFlag + " --confirm 60s",
			},
		})
	}
	return res
}

func writeListenerTable(w io.Writer, ls []localListener, now time.Time) {
	if len(ls) == 0 {
		fmt.Fprintln(w, "No listener on an FTP port, and none that greets like FTP.")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ADDRESS\tPORT\tPID\tPROCESS\tEXECUTABLE\tUSER\tLISTENING\tFIREWALL (FROM OUTSIDE)")
	for _, l := range ls {
		pid, name, exe, user, since := "?", "?", "?", "?", "?"
		if len(l.Processes) > 0 {
			p := l.Processes[0]
			pid, name, exe, user = strconv.Itoa(p.PID), p.Name, p.Exe, p.User
			if len(l.Processes) > 1 {
				pid += fmt.Sprintf(" (+%d)", len(l.Processes)-1)
			}
			if !p.Started.IsZero() {
				since = "≤ " + now.Sub(p.Started).Round(time.Second).String()
			}
		}
		if l.Activation != "" {
			name += " [" + l.Activation + "]"
		}
		fw := "local only"
		if !l.Addr.IsLoopback() {
			var parts []string
			for _, f := range l.fw {
				parts = append(parts, f.Family+" "+f.Access.String())
			}
			fw = strings.Join(parts, ", ")
			if fw == "" {
				fw = "unknown"
			}
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n", l.Addr, l.Port, pid, visible(name), visible(exe), visible(user), since, fw)
	}
	tw.Flush()
}

// visible keeps a value read from /proc (a process may name itself
// anything) from moving the terminal: control characters become '?'.
func visible(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return '?'
		}
		return r
	}, s)
}
