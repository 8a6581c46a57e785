package main

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// runScan is -scan: twelve live services on 127.0.0.1 (the three peers in
// both profiles, port21 on its defaults, and the slow and odd services of
// slow.go, where a scanner's time goes on real networks) and a /22 of
// loopback addresses with nothing listening, scanned on the same ports by
// port21 scan and by nmap -sV with the FTP scripts; hosts per second, peak
// RSS and what each reported per service.
func runScan(ctx context.Context, cfg config, stdout io.Writer, log *slog.Logger) error {
	nmap, err := exec.LookPath("nmap")
	if err != nil {
		return fmt.Errorf("-scan needs nmap (apt-get install -y nmap): %w", err)
	}
	e := &env{cfg: cfg}
	dir, err := makeTemp(cfg.WorkDir)
	if err != nil {
		return err
	}
	e.dir = dir
	defer e.remove()
	bin, err := buildPort21(ctx, cfg, dir)
	if err != nil {
		return err
	}
	mix, stop, err := startScanMix(ctx, bin, dir, cfg.ScanSlow)
	defer stop()
	if err != nil {
		return err
	}
	var ports []string
	for _, m := range mix {
		ports = append(ports, strconv.Itoa(m.port))
	}
	portList := strings.Join(ports, ",")
	scanRange := cfg.ScanRange
	hosts := 1 + 1<<(32-netip.MustParsePrefix(scanRange).Bits()) // 127.0.0.1 and the block
	type outcome struct {
		name  string
		argv  []string
		walls []float64 // seconds, one per run
		maxKB int64     // the largest peak RSS of the runs
		err   error
	}
	out := []*outcome{
		{name: "port21 scan", argv: []string{bin, "scan", "127.0.0.1", scanRange, "--ports", portList, "--format", "json", "-o", filepath.Join(dir, "port21.json")}},
		{name: "nmap -sV --script ftp-anon,ftp-bounce,ftp-syst", argv: []string{nmap, "-n", "-Pn", "-sV", "-p", portList, "--script", "ftp-anon,ftp-bounce,ftp-syst", "-oX", filepath.Join(dir, "nmap.xml"), "127.0.0.1", scanRange}},
	}
	// The scanners take turns, so a change in the machine's load falls on
	// both; the last run's reports give the findings.
	for run := range cfg.ScanRuns {
		for _, o := range out {
			if o.err != nil {
				continue
			}
			if err := forgetScanners(ctx, bin, dir); err != nil {
				return err
			}
			log.Info("scanning", "scanner", o.name, "run", run+1, "of", cfg.ScanRuns, "hosts", hosts, "ports", portList)
			cctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
			cmd := exec.CommandContext(cctx, o.argv[0], o.argv[1:]...)
			t0 := time.Now()
			runErr := cmd.Run()
			wall := time.Since(t0)
			cancel()
			if cmd.ProcessState != nil { // nil when it never started
				if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
					o.maxKB = max(o.maxKB, ru.Maxrss)
				}
			}
			// port21 scan exits 2 when it has findings at --fail-on; any
			// other failure is an error.
			if ee, ok := runErr.(*exec.ExitError); ok && ee.ExitCode() == 2 {
				runErr = nil
			}
			o.err = runErr
			o.walls = append(o.walls, wall.Seconds())
		}
	}
	p21Found := port21Findings(filepath.Join(dir, "port21.json"))
	nmapFound := nmapFindings(filepath.Join(dir, "nmap.xml"))
	var names []string
	for _, m := range mix {
		names = append(names, fmt.Sprintf("%s on %d", m.name, m.port))
	}
	fmt.Fprintf(stdout, "Scanner: %d loopback hosts x %d ports: 127.0.0.1 with %s; %s with nothing listening. %s.\n\n",
		hosts, len(mix), strings.Join(names, ", "), scanRange, time.Now().UTC().Format("2006-01-02"))
	fmt.Fprintf(stdout, "Seconds are the median of %d runs each (the scanners taking turns), with the range.\n\n", cfg.ScanRuns)
	fmt.Fprintln(stdout, "| scanner | seconds | hosts/s | peak RSS MiB | port21 : this, hosts/s |\n|---|---:|---:|---:|---:|")
	p21 := float64(hosts) / median(out[0].walls)
	for _, o := range out {
		if o.err != nil {
			fmt.Fprintf(stdout, "| %s | failed: %s | | | |\n", o.name, firstLine(o.err.Error()))
			continue
		}
		secs := number(median(o.walls))
		if len(o.walls) > 1 {
			secs += fmt.Sprintf(" (%s-%s)", number(slices.Min(o.walls)), number(slices.Max(o.walls)))
		}
		rate := float64(hosts) / median(o.walls)
		fmt.Fprintf(stdout, "| %s | %s | %s | %s | %s |\n", o.name, secs, number(rate), number(float64(o.maxKB)/1024), ratio(p21, rate))
	}
	fmt.Fprintln(stdout, "\n| service | port21 scan: status, product, findings | nmap: service, scripts |\n|---|---|---|")
	for _, m := range mix {
		fmt.Fprintf(stdout, "| %s | %s | %s |\n", m.name, mdCell(p21Found[m.port]), mdCell(nmapFound[m.port]))
	}
	if cfg.JSON == "" {
		return nil
	}
	type scannerJSON struct {
		Name      string    `json:"name"`
		Seconds   []float64 `json:"seconds"`
		Median    float64   `json:"median_seconds"`
		PeakRSSKB int64     `json:"peak_rss_kib"`
		Error     string    `json:"error,omitempty"`
	}
	type serviceJSON struct {
		Name   string `json:"name"`
		Port   int    `json:"port"`
		Port21 string `json:"port21"`
		Nmap   string `json:"nmap"`
	}
	rep := struct {
		Date     string        `json:"date"`
		Hosts    int           `json:"hosts"`
		Range    string        `json:"range"`
		Scanners []scannerJSON `json:"scanners"`
		Services []serviceJSON `json:"services"`
	}{Date: time.Now().UTC().Format(time.RFC3339), Hosts: hosts, Range: scanRange}
	for _, o := range out {
		sj := scannerJSON{Name: o.name, Seconds: o.walls, Median: median(o.walls), PeakRSSKB: o.maxKB}
		if o.err != nil {
			sj.Error = o.err.Error()
		}
		rep.Scanners = append(rep.Scanners, sj)
	}
	for _, m := range mix {
		rep.Services = append(rep.Services, serviceJSON{m.name, m.port, p21Found[m.port], nmapFound[m.port]})
	}
	data, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(cfg.JSON, append(data, '\n'), 0o644)
}

// mdCell keeps a report's text from breaking the Markdown table.
func mdCell(s string) string {
	if s == "" {
		return "-"
	}
	return strings.ReplaceAll(s, "|", "/")
}

// port21Findings summarises port21 scan's JSON report per port of
// 127.0.0.1: status, product and finding ids.
func port21Findings(path string) map[int]string {
	out := map[int]string{}
	data, err := os.ReadFile(path)
	if err != nil {
		out[0] = "no report: " + err.Error()
		return out
	}
	var rep struct {
		Results []struct {
			Target struct {
				Host string `json:"host"`
				Port int    `json:"port"`
			} `json:"target"`
			Status  string `json:"status"`
			Service *struct {
				Product string `json:"product"`
				Version string `json:"version"`
			} `json:"service"`
			Findings []struct {
				ID string `json:"id"`
			} `json:"findings"`
		} `json:"results"`
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		out[0] = "unreadable report: " + err.Error()
		return out
	}
	for _, r := range rep.Results {
		parts := []string{r.Status}
		if r.Service != nil && r.Service.Product != "" {
			parts = append(parts, strings.TrimSpace(r.Service.Product+" "+r.Service.Version)+":")
		}
		for _, f := range r.Findings {
			parts = append(parts, f.ID)
		}
		out[r.Target.Port] = strings.Join(parts, " ")
	}
	return out
}

// nmapFindings summarises nmap's XML per open port: the service and the
// scripts that reported something.
func nmapFindings(path string) map[int]string {
	out := map[int]string{}
	data, err := os.ReadFile(path)
	if err != nil {
		out[0] = "no report: " + err.Error()
		return out
	}
	var rep struct {
		Hosts []struct {
			Ports []struct {
				ID    int `xml:"portid,attr"`
				State struct {
					State string `xml:"state,attr"`
				} `xml:"state"`
				Service struct {
					Name    string `xml:"name,attr"`
					Product string `xml:"product,attr"`
					Version string `xml:"version,attr"`
				} `xml:"service"`
				Scripts []struct {
					ID     string `xml:"id,attr"`
					Output string `xml:"output,attr"`
				} `xml:"script"`
			} `xml:"ports>port"`
		} `xml:"host"`
	}
	if err := xml.Unmarshal(data, &rep); err != nil {
		out[0] = "unreadable report: " + err.Error()
		return out
	}
	for _, h := range rep.Hosts {
		for _, p := range h.Ports {
			if p.State.State != "open" {
				continue
			}
			parts := []string{strings.TrimSpace(p.Service.Name + " " + p.Service.Product + " " + p.Service.Version)}
			for _, sc := range p.Scripts {
				parts = append(parts, sc.ID+"("+firstLine(sc.Output)+")")
			}
			out[p.ID] = strings.Join(parts, " ")
		}
	}
	return out
}
