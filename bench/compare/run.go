package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

// busyBelow is the idle share under which the machine counts as busy and
// the figures as disturbed.
const busyBelow = 0.9

// report is the JSON file: the table's figures and what they were
// measured on.
type report struct {
	Date      string    `json:"date"`
	Command   string    `json:"command"`
	Machine   machine   `json:"machine"`
	Clients   []string  `json:"clients"`
	IdleCPU   [2]string `json:"idle_cpu_before_after"`
	Busy      bool      `json:"machine_busy"`
	Servers   []*server `json:"servers"`
	Results   *results  `json:"results"`
	Notes     []string  `json:"notes"`
	DurationS float64   `json:"duration_s"`
}

func run(ctx context.Context, cfg config, stdout, stderr io.Writer) error {
	log := slog.New(slog.NewTextHandler(stderr, nil))
	for _, tool := range []string{"curl", "lftp"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s not found (apt-get install -y curl lftp)", tool)
		}
	}
	if os.Geteuid() != 0 {
		return errors.New("needs root: the peers chroot and switch users, and run in a private mount namespace")
	}
	if cfg.Scan {
		return runScan(ctx, cfg, stdout, log)
	}
	if err := checkPassive(cfg.PassiveLo, cfg.PassiveHi); err != nil {
		return err
	}
	start := time.Now()
	rep := &report{
		Date:    start.UTC().Format("2006-01-02"),
		Command: strings.TrimSpace("go run ./bench/compare " + strings.Join(cfg.Args, " ")),
		Machine: describeMachine(runtime.NumCPU()),
		Clients: clientVersions(ctx),
		Results: &results{},
	}
	log.Info("measuring idle CPU before the run")
	idleBefore, err := idleShare(ctx, 2*time.Second)
	if err != nil {
		return err
	}
	log.Info("preparing files, certificate and accounts", "size", sizeName(cfg.Size), "files", cfg.Files, "accounts", 1+len(loginGroups)*cfg.Logins)
	e, err := newEnv(ctx, cfg)
	if err != nil {
		return err
	}
	defer e.remove()
	benches, err := startAll(ctx, e, rep, log)
	defer func() {
		for _, b := range benches {
			if err := b.s.stop(); err != nil {
				log.Warn("stop", "server", b.s.Name, "err", err)
			}
		}
	}()
	if err != nil {
		return err
	}
	measure(ctx, e, benches, log)
	// A run cut short by -timeout or ^C still reports what it measured.
	var runErr error
	if err := ctx.Err(); err != nil {
		runErr = fmt.Errorf("run cut short, the table is partial: %w", context.Cause(ctx))
		rep.Notes = append(rep.Notes, "the run was cut short (-timeout or a signal): the table is partial")
	}
	log.Info("measuring idle CPU after the run")
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	idleAfter, err := idleShare(actx, 2*time.Second)
	if err != nil {
		return errors.Join(runErr, err)
	}
	rep.IdleCPU = [2]string{percent(idleBefore), percent(idleAfter)}
	rep.Busy = idleBefore < busyBelow || idleAfter < busyBelow
	rep.DurationS = time.Since(start).Seconds()
	rep.Notes = append(rep.Notes,
		"large-file rates are over curl's data phase (time_starttransfer to the end: the login and the data connection's setup are left out), MB = 10^6 bytes",
		"server CPU and PSS are the server's whole process tree (vsftpd and ProFTPD fork per session), from /proc, children included; the CPU per GiB leaves out the login each transfer starts with (the median of three logins, measured apart)",
		"the large files were moved in turns, one transfer per server per round, so that a slow spell of the machine falls on every server alike",
		"port21 stores argon2id hashes (its default); the peers read yescrypt hashes ($y$j9T$, Debian 12's default) from their private /etc/passwd",
		"ProFTPD's master sleeps 0.2 s after each session ends (compile-time), which caps its login rate",
		"lftp trusts the bench's certificate (ssl:ca-file) and verifies it, as curl does; with its default CA file it parses all of the system's CA certificates for every data connection, which held every server to ~150 small files a second over FTPS",
	)
	if rep.Busy {
		rep.Notes = append(rep.Notes, fmt.Sprintf("the machine was busy (idle CPU %s before, %s after, under %s): take the figures as orientation", rep.IdleCPU[0], rep.IdleCPU[1], percent(busyBelow)))
	}

	var names []string
	for _, s := range rep.Servers {
		names = append(names, s.Name)
	}
	fmt.Fprintf(stdout, "Measured %s on %d CPUs (%s, Linux %s), loopback, files on tmpfs, %s certificate; idle CPU %s before, %s after%s.\n",
		rep.Date, rep.Machine.CPUs, rep.Machine.CPUModel, rep.Machine.Kernel, keyName(cfg.Key), rep.IdleCPU[0], rep.IdleCPU[1], busyNote(rep.Busy))
	fmt.Fprintf(stdout, "Command: `%s`. Clients: %s. Servers: %s.\n\n", rep.Command, strings.Join(rep.Clients, ", "), serverNames(rep.Servers))
	if err := writeTable(stdout, rep.Results, names); err != nil {
		return err
	}
	fmt.Fprintln(stdout)
	writeErrors(stdout, rep.Results)
	for _, n := range rep.Notes {
		fmt.Fprintln(stdout, "- "+n)
	}
	if cfg.JSON != "" {
		data, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return fmt.Errorf("json: %w", err)
		}
		if err := os.WriteFile(cfg.JSON, append(data, '\n'), 0o644); err != nil {
			return fmt.Errorf("json: %w", err)
		}
	}
	return runErr
}

// startAll starts every server of the run, side by side, each on its own
// slice of the passive range. A peer that cannot start is noted and left
// out; port21 must start.
func startAll(ctx context.Context, e *env, rep *report, log *slog.Logger) ([]*bench, error) {
	var benches []*bench
	for i, name := range e.cfg.Servers {
		if ctx.Err() != nil {
			break
		}
		lo, hi := e.cfg.passiveSlice(i)
		log.Info("starting", "server", name, "passive", fmt.Sprintf("%d-%d", lo, hi))
		var s *server
		var err error
		if name == "port21" {
			s, err = startPort21(ctx, e, lo, hi)
		} else {
			s, err = startPeer(ctx, e, name, lo, hi)
		}
		if err != nil {
			if name == "port21" {
				return benches, err
			}
			log.Warn("peer skipped", "server", name, "err", err)
			rep.Notes = append(rep.Notes, fmt.Sprintf("%s not measured: %v", name, firstLine(err.Error())))
			continue
		}
		benches = append(benches, &bench{e: e, s: s, res: rep.Results, log: log})
		rep.Servers = append(rep.Servers, s)
	}
	return benches, nil
}

// measure runs the workloads. The large files go first and in turns, one
// transfer per server per round, so that a slower spell of the machine (on
// this VM the same transfer varies by a quarter from one minute to the
// next) falls on every server alike instead of on whichever ran then. The
// idle sessions come next, server by server, so the memory figures are
// taken after the large transfers. The other workloads go one at a time
// through all the servers: run server by server, a slow spell of a few
// minutes once fell on every figure of one server (port21's FTPS logins and
// small files read a quarter to a third lower than in the runs before and
// after, same code). Workload failures are recorded in the results.
func measure(ctx context.Context, e *env, benches []*bench, log *slog.Logger) {
	reset := func() {
		if err := e.resetFiles(); err != nil {
			log.Warn("reset files", "err", err)
		}
	}
	for _, m := range modes {
		large(ctx, benches, m)
	}
	reset()
	for _, b := range benches {
		for i, m := range []mode{modes[1], modes[0]} {
			b.idle(ctx, m, i == 0)
		}
	}
	for _, m := range modes {
		for _, b := range benches {
			b.small(ctx, m)
		}
		reset()
	}
	for _, m := range []mode{modes[1], modes[0]} {
		for _, b := range benches {
			b.logins(ctx, m)
		}
	}
	for _, b := range benches {
		b.cachedLogins(ctx)
	}
}

// clientVersions names the clients' versions for the report.
func clientVersions(ctx context.Context) []string {
	var out []string
	for _, c := range [][]string{{"curl", "--version"}, {"lftp", "--version"}} {
		v := c[0]
		if b, err := exec.CommandContext(ctx, c[0], c[1]).Output(); err == nil {
			line := firstLine(string(b))
			for _, f := range strings.Fields(line) {
				if len(f) > 0 && f[0] >= '0' && f[0] <= '9' {
					v += " " + f
					break
				}
			}
		}
		out = append(out, v)
	}
	return append(out, runtime.Version()+" (logins, idle sessions)")
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return strings.TrimSpace(s)
}

func percent(v float64) string { return fmt.Sprintf("%.0f%%", v*100) }

func keyName(k string) string {
	if k == "ecdsa" {
		return "ECDSA P-256"
	}
	return "RSA-2048"
}

func busyNote(busy bool) string {
	if busy {
		return " (BUSY: other work ran on the machine, take the figures as orientation)"
	}
	return ""
}

func serverNames(servers []*server) string {
	var out []string
	for _, s := range servers {
		out = append(out, displayName(s.Name)+" "+s.Version)
	}
	return strings.Join(out, ", ")
}
