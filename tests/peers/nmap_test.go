package peers

import (
	"bytes"
	"context"
	"encoding/xml"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/port21/port21/internal/testpeers"
)

// nmapScripts are nmap's FTP scripts that report problems (ftp-syst only
// reports what the server says about itself; it is run for completeness).
const nmapScripts = "ftp-anon,ftp-bounce,ftp-syst,ftp-vsftpd-backdoor,ftp-proftpd-backdoor"

// nmapFindings maps what an nmap FTP script reports to the port21 finding
// that reports the same thing.
var nmapFindings = []struct {
	script string
	output string // a substring of the script's output that means the problem is there
	id     string
}{
	{"ftp-anon", "Anonymous FTP login allowed", "anonymous-login"},
	// ftp-anon's "[NSE: writeable]" is checked by checkWriteable: it is not
	// a finding id of its own (see there).
	{"ftp-bounce", "bounce working", "ftp-bounce"},
	// PORT to a third party's high port was accepted; only ports below 1025
	// were refused. That is still a bounce.
	{"ftp-bounce", "forbids bouncing to low ports", "ftp-bounce"},
	{"ftp-vsftpd-backdoor", "VULNERABLE", "CVE-2011-2523"},
	{"ftp-proftpd-backdoor", "backdoored", "CVE-2010-20103"},
}

// nmapRun is the part of nmap's -oX output the test reads.
type nmapRun struct {
	Hosts []struct {
		Ports []struct {
			PortID int `xml:"portid,attr"`
			State  struct {
				State string `xml:"state,attr"`
			} `xml:"state"`
			Service struct {
				Name    string `xml:"name,attr"`
				Product string `xml:"product,attr"`
				Version string `xml:"version,attr"`
			} `xml:"service"`
			Scripts []nmapScript `xml:"script"`
		} `xml:"ports>port"`
	} `xml:"host"`
}

// nmapScript is one script's result for a port.
type nmapScript struct {
	ID     string `xml:"id,attr"`
	Output string `xml:"output,attr"`
}

// plainVersion matches a version nmap states outright ("3.0.3"), not a
// range it infers ("2.0.8 or later").
var plainVersion = regexp.MustCompile(`^[0-9]+(\.[0-9a-z]+)+$`)

// TestNmapParity runs nmap's FTP scripts against every peer and checks that
// port21 scan reports everything they report (with --intrusive where that
// is what confirms it), and names the product and version nmap's service
// detection names.
func TestNmapParity(t *testing.T) {
	nmap, err := exec.LookPath("nmap")
	if err != nil {
		if os.Getenv("PORT21_REQUIRE_CLIENTS") == "1" {
			t.Fatal("nmap not installed (Debian package nmap); PORT21_REQUIRE_CLIENTS=1")
		}
		t.Skip("nmap not installed (Debian package nmap)")
	}
	bin := requireSubcommand(t, "scan", "--format", "--ports", "--intrusive")
	for _, tc := range scanCases {
		t.Run(string(tc.product)+"/"+string(tc.profile), func(t *testing.T) {
			t.Parallel()
			peer := testpeers.Start(t, tc.product, tc.profile)
			run := runNmap(t, nmap, peer)
			if len(run.Hosts) != 1 || len(run.Hosts[0].Ports) != 1 {
				t.Fatalf("nmap: want one host with one port, got %+v", run)
			}
			port := run.Hosts[0].Ports[0]
			if port.State.State != "open" || port.PortID != peer.Port {
				t.Fatalf("nmap: port %d %s, want %d open", port.PortID, port.State.State, peer.Port)
			}
			// nmap's scripts are safe ones, so they are compared with
			// port21's default (safe) scan.
			res := scanPeer(t, bin, peer, false)
			got := ids(res)
			for _, s := range port.Scripts {
				t.Logf("nmap %s: %s", s.ID, strings.TrimSpace(s.Output))
				for _, m := range nmapFindings {
					if s.ID != m.script || !strings.Contains(s.Output, m.output) || slices.Contains(got, m.id) {
						continue
					}
					t.Errorf("nmap %s reports %q but port21 scan has no %s finding (it has %q)", s.ID, m.output, m.id, got)
				}
				if s.ID == "ftp-anon" {
					checkWriteable(t, s.Output, res)
				}
			}

			svc := port.Service
			t.Logf("nmap service: %s %q %q", svc.Name, svc.Product, svc.Version)
			if svc.Product == "" {
				return
			}
			if res.Service == nil || !sameProduct(firstWord(svc.Product), res.Service.Product) {
				t.Errorf("nmap names the product %q, port21 scan %+v", svc.Product, res.Service)
				return
			}
			if plainVersion.MatchString(svc.Version) && res.Service.Version != svc.Version {
				t.Errorf("nmap names the version %q, port21 scan %q", svc.Version, res.Service.Version)
			}
		})
	}
}

// checkWriteable checks that every directory ftp-anon marks "[NSE:
// writeable]" is named in the evidence of port21's anonymous-login finding.
// ftp-anon only reads the mode bits of the anonymous listing, and so does
// port21's default scan, which reports them as evidence of anonymous-login
// rather than as anonymous-write: anonymous-write means an upload was
// confirmed, which only --intrusive does (TestScanPeers checks that on the
// same peers). Mode bits are not proof: the server may refuse the upload.
func checkWriteable(t *testing.T, output string, res jsonResult) {
	t.Helper()
	for _, line := range strings.Split(output, "\n") {
		before, ok := strings.CutSuffix(strings.TrimSpace(line), "[NSE: writeable]")
		if !ok {
			continue
		}
		f := strings.Fields(before)
		if len(f) == 0 {
			continue
		}
		dir := f[len(f)-1] + "/"
		if !evidenceNames(res, dir) {
			t.Errorf("nmap ftp-anon reports %s writeable, but port21's anonymous-login evidence does not name it: %+v", dir, res.Findings)
		}
	}
}

// evidenceNames reports whether the anonymous-login finding's evidence names
// dir as world-writable.
func evidenceNames(res jsonResult, dir string) bool {
	for _, f := range res.Findings {
		if f.ID != "anonymous-login" {
			continue
		}
		for _, e := range f.Evidence {
			if strings.Contains(e.Note, "world-writable") && strings.Contains(e.Note, dir) {
				return true
			}
		}
	}
	return false
}

// firstWord is "ProFTPD" of "ProFTPD 1.3.8 Server": nmap puts words that
// are not the product's name after it.
func firstWord(s string) string {
	if f := strings.Fields(s); len(f) > 0 {
		return f[0]
	}
	return s
}

// runNmap runs nmap's version detection and FTP scripts against the peer.
// -n: no DNS. ftp-bounce.checkhost names a documentation address, so the
// script neither resolves scanme.nmap.org nor names a real host; it only
// reads the reply to PORT and nothing connects there.
func runNmap(t *testing.T, nmap string, peer *testpeers.Peer) nmapRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	defer cancel()
	args := []string{
		"-n", "-Pn", "-p", strconv.Itoa(peer.Port), "-sV",
		"--script", nmapScripts,
		"--script-args", "ftp-bounce.checkhost=198.51.100.1",
		"--host-timeout", "3m",
		"-oX", "-", "127.0.0.1",
	}
	cmd := exec.CommandContext(ctx, nmap, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("nmap %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	var run nmapRun
	if err := xml.Unmarshal(stdout.Bytes(), &run); err != nil {
		t.Fatalf("nmap XML: %v\n%s", err, stdout.Bytes())
	}
	return run
}
