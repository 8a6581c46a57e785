// Package local is port21 local's work: which TCP listeners on this machine
// are FTP (by port, by owner, or by greeting), which process owns each, what
// the firewall does with them from outside, and what the FTP server
// configurations found on the machine get wrong, as one report in the
// shared finding model.
package local

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/port21/port21/internal/confaudit"
	"github.com/port21/port21/internal/finding"
	"github.com/port21/port21/internal/firewall"
	"github.com/port21/port21/internal/report"
	"github.com/port21/port21/internal/sockets"
)

// Env is where the local audit looks; tests point it at fixtures.
type Env struct {
	ProcRoot string // "/proc"
	ConfRoot string // "/"
	Status   func(context.Context, []firewall.PortRange) (*firewall.Status, error)
	Probe    func(context.Context, []sockets.Listener, time.Duration, int) map[int]string
	Now      func() time.Time
}

// System is the machine itself.
func System() Env {
	return Env{ProcRoot: "/proc", ConfRoot: "/", Status: firewall.ReadStatus, Probe: sockets.ProbeAll, Now: time.Now}
}

// Options are what the administrator asked for.
type Options struct {
	// ConfigPaths are configurations to audit besides those found.
	ConfigPaths []string
	// ProbeTimeout is how long a listener has to greet (DefaultProbeTimeout
	// when zero).
	ProbeTimeout time.Duration
	// ProbePorts says which listening ports may be probed for a greeting;
	// nil means all.
	ProbePorts func(uint16) bool
}

// DefaultProbeTimeout is how long a local listener has to greet. 500 ms
// once missed a ProFTPD, which forks a session (and may look up the
// client's name) before it greets. Probes run concurrently and listeners on
// the ports of an audited configuration are FTP without a greeting, so a
// longer wait costs little: at most this much per probeConcurrency
// listeners that never greet.
const DefaultProbeTimeout = 2 * time.Second

// probeConcurrency is how many local listeners are probed at once.
const probeConcurrency = 64

// Listener is a listener port21 local reports on.
type Listener struct {
	sockets.Listener
	Greeting string                // what it said when probed, if it greeted like FTP
	Why      string                // why it counts as FTP
	Unprobed string                // why it was not probed, if so
	Firewall []firewall.PortStatus // per family the listener accepts
}

// ftpPorts are the ports reported whatever answers on them.
var ftpPorts = []uint16{21, 990, 2121}

// Run gathers listeners, firewall verdicts and configuration audits into a
// report, and returns the listeners for a table and the notes on what could
// not be seen.
func Run(ctx context.Context, env Env, opts Options) (report.Report, []Listener, []string) {
	if opts.ProbeTimeout <= 0 {
		opts.ProbeTimeout = DefaultProbeTimeout
	}
	probePorts := opts.ProbePorts
	if probePorts == nil {
		probePorts = func(uint16) bool { return true }
	}
	rep := report.Report{Tool: "port21 local", Started: env.Now().UTC(), Results: []report.Result{}}
	var notes []string

	snap, err := sockets.Read(env.ProcRoot)
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
	srcs, errs := confaudit.Discover(env.ConfRoot, opts.ConfigPaths)
	for _, e := range errs {
		notes = append(notes, e.Error())
	}
	for _, l := range all {
		for _, p := range l.Processes {
			if s, ok := confaudit.FromCommandLine(p.Name, p.Args); ok {
				s.Path = filepath.Join(env.ConfRoot, s.Path)
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
	for j, g := range env.Probe(ctx, probed, opts.ProbeTimeout, probeConcurrency) {
		greet[probedAt[j]] = g
	}
	var ls []Listener
	for i, l := range all {
		g, greeted := greet[i]
		why := ftpReason(l, greeted, control, passive)
		if why == "" {
			continue
		}
		ls = append(ls, Listener{Listener: l, Greeting: g, Why: why, Unprobed: unprobed[i]})
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
		if st, err = env.Status(ctx, ports); err != nil {
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
					l.Firewall = append(l.Firewall, ps)
				}
			}
		}
		rep.Results = append(rep.Results, listenerResult(*l, passiveFlag))
	}
	rep.Results = append(rep.Results, confResults...)
	rep.Finished = env.Now().UTC()
	slices.Sort(notes)
	return rep, ls, slices.Compact(notes)
}

// ftpDaemons are process names that only ever listen for FTP.
var ftpDaemons = []string{"vsftpd", "proftpd", "pure-ftpd", "in.ftpd", "ftpd"}

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
	idFTPListener  = finding.IDFTPListener
	idFirewallOpen = finding.IDFirewallOpen
)

func listenerResult(l Listener, passiveFlag string) report.Result {
	res := report.Result{
		Target:   finding.Target{Host: l.Addr.String(), Address: l.Addr.String(), Port: int(l.Port)},
		Service:  &finding.Service{Banner: l.Greeting},
		Findings: []finding.Finding{},
	}
	var ev []finding.Evidence
	if l.Why != "" {
		ev = append(ev, finding.Evidence{Note: "reported as FTP: " + l.Why})
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
	if l.Greeting != "" {
		ev = append(ev, finding.Evidence{Received: l.Greeting, Note: "greeting"})
	}
	if l.Unprobed != "" {
		ev = append(ev, finding.Evidence{Note: "not probed: " + l.Unprobed})
	}
	if l.Addr.IsLoopback() {
		ev = append(ev, finding.Evidence{Note: "listens on loopback only: not reachable from other machines"})
	}
	open := false
	var openFams []string
	for _, f := range l.Firewall {
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
	res.Findings = append(res.Findings, finding.New(idFTPListener, res.Target, "", "confirmed", ev))
	if open {
		f := finding.New(idFirewallOpen, res.Target, "", "config", nil)
		f.Detail = "The active firewall rules let anyone open a connection to this port (" + strings.Join(openFams, ", ") + ")."
		f.Fix.Firewall = "port21 firewall apply --allow CIDR" + passiveFlag + " --confirm 60s"
		res.Findings = append(res.Findings, f)
	}
	return res
}

func WriteTable(w io.Writer, ls []Listener, now time.Time) {
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
			for _, f := range l.Firewall {
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
