package main

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/port21/port21/internal/testpeers"
)

// scanRange is the loopback block of addresses with nothing listening that
// both scanners sweep beside the real servers on 127.0.0.1.
const scanRange = "127.3.0.0/22"

// runScan is -scan: the three peers (bad profile, so there is something to
// find) on 127.0.0.1 and a /22 of silent loopback addresses, scanned by
// port21 scan and by nmap -sV with the FTP scripts; hosts per second and
// peak RSS of each.
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
	var ports []string
	for _, p := range testpeers.Products() {
		peer, err := testpeers.Launch(ctx, p, testpeers.ProfileBad, testpeers.Options{})
		if err != nil {
			return fmt.Errorf("-scan: start %s: %w", p, err)
		}
		defer peer.Stop()
		ports = append(ports, strconv.Itoa(peer.Port))
	}
	portList := strings.Join(ports, ",")
	hosts := 1 + 1024 // 127.0.0.1 and the /22
	type outcome struct {
		name  string
		wall  time.Duration
		maxKB int64
		found string
		err   error
	}
	var out []outcome
	for _, c := range []struct {
		name string
		argv []string
	}{
		{"port21 scan", []string{bin, "scan", "127.0.0.1", scanRange, "--ports", portList, "--format", "json", "-o", filepath.Join(dir, "port21.json")}},
		{"nmap -sV --script ftp-anon,ftp-bounce,ftp-syst", []string{nmap, "-n", "-Pn", "-sV", "-p", portList, "--script", "ftp-anon,ftp-bounce,ftp-syst", "-oX", filepath.Join(dir, "nmap.xml"), "127.0.0.1", scanRange}},
	} {
		log.Info("scanning", "scanner", c.name, "hosts", hosts, "ports", portList)
		cctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
		cmd := exec.CommandContext(cctx, c.argv[0], c.argv[1:]...)
		t0 := time.Now()
		runErr := cmd.Run()
		wall := time.Since(t0)
		cancel()
		o := outcome{name: c.name, wall: wall, err: runErr}
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok && cmd.ProcessState != nil {
			o.maxKB = ru.Maxrss
		}
		// port21 scan exits 2 when it has findings at --fail-on; any
		// other failure is an error.
		if ee, ok := runErr.(*exec.ExitError); ok && ee.ExitCode() == 2 {
			o.err = nil
		}
		out = append(out, o)
	}
	out[0].found = port21Findings(filepath.Join(dir, "port21.json"))
	out[1].found = nmapFindings(filepath.Join(dir, "nmap.xml"))
	fmt.Fprintf(stdout, "Scanner: %d loopback hosts (127.0.0.1 with vsftpd, ProFTPD and Pure-FTPd, bad profile, on ports %s; %s silent), %s.\n\n",
		hosts, portList, scanRange, time.Now().UTC().Format("2006-01-02"))
	fmt.Fprintln(stdout, "| scanner | seconds | hosts/s | peak RSS MiB | port21 : this, hosts/s | findings |\n|---|---:|---:|---:|---:|---|")
	p21 := float64(hosts) / out[0].wall.Seconds()
	for _, o := range out {
		if o.err != nil {
			fmt.Fprintf(stdout, "| %s | failed: %s | | | | |\n", o.name, firstLine(o.err.Error()))
			continue
		}
		rate := float64(hosts) / o.wall.Seconds()
		fmt.Fprintf(stdout, "| %s | %s | %s | %s | %s | %s |\n", o.name, number(o.wall.Seconds()), number(rate), number(float64(o.maxKB)/1024), ratio(p21, rate), o.found)
	}
	return nil
}

// port21Findings summarises port21 scan's JSON report: finding ids per
// port.
func port21Findings(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return "no report: " + err.Error()
	}
	var rep struct {
		Results []struct {
			Target struct {
				Port int `json:"port"`
			} `json:"target"`
			Findings []struct {
				ID string `json:"id"`
			} `json:"findings"`
		} `json:"results"`
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		return "unreadable report: " + err.Error()
	}
	var parts []string
	for _, r := range rep.Results {
		var ids []string
		for _, f := range r.Findings {
			ids = append(ids, f.ID)
		}
		parts = append(parts, fmt.Sprintf("%d: %s", r.Target.Port, strings.Join(ids, " ")))
	}
	return strings.Join(parts, "; ")
}

// nmapFindings summarises nmap's XML: the service and the scripts that
// reported something, per open port.
func nmapFindings(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return "no report: " + err.Error()
	}
	var rep struct {
		Hosts []struct {
			Ports []struct {
				ID    int `xml:"portid,attr"`
				State struct {
					State string `xml:"state,attr"`
				} `xml:"state"`
				Service struct {
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
		return "unreadable report: " + err.Error()
	}
	var parts []string
	for _, h := range rep.Hosts {
		for _, p := range h.Ports {
			if p.State.State != "open" {
				continue
			}
			var ids []string
			for _, sc := range p.Scripts {
				ids = append(ids, sc.ID+"("+firstLine(sc.Output)+")")
			}
			parts = append(parts, fmt.Sprintf("%d: %s %s %s", p.ID, p.Service.Product, p.Service.Version, strings.Join(ids, " ")))
		}
	}
	return strings.Join(parts, "; ")
}
