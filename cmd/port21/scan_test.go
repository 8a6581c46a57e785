package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeVsftpd234 serves the greeting and replies of a plain vsftpd 2.3.4 on
// a loopback port, enough for a scan to find the backdoor version.
func fakeVsftpd234(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				c.Write([]byte("220 (vsFTPd 2.3.4)\r\n"))
				sc := bufio.NewScanner(c)
				for sc.Scan() {
					line := strings.TrimSpace(sc.Text())
					switch {
					case strings.HasPrefix(line, "USER"):
						c.Write([]byte("331 Please specify the password.\r\n"))
					case line == "QUIT":
						c.Write([]byte("221 Goodbye.\r\n"))
						return
					default:
						c.Write([]byte("530 Please login with USER and PASS.\r\n"))
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

type scanJSON struct {
	Results []struct {
		Target struct {
			Port int `json:"port"`
		} `json:"target"`
		Service struct {
			Product string `json:"product"`
			Version string `json:"version"`
		} `json:"service"`
		Findings []struct {
			ID string `json:"id"`
		} `json:"findings"`
		Error string `json:"error"`
	} `json:"results"`
}

func TestScanCommand(t *testing.T) {
	addr := fakeVsftpd234(t)
	host, port, _ := net.SplitHostPort(addr)
	dir := t.TempDir()
	list := filepath.Join(dir, "targets.txt")
	if err := os.WriteFile(list, []byte("# test\n"+addr+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "report.json")

	// Through cobra, to check the flag spellings (-iL in particular).
	cmd := newScanCmd()
	cmd.SetArgs([]string{"-iL", list, "--format", "json", "-o", out, "--timeout", "5s", "--rate", "0"})
	var stderr bytes.Buffer
	cmd.SetErr(&stderr)
	cmd.SetOut(&stderr)
	if err := cmd.ExecuteContext(context.Background()); err != nil {
		t.Fatalf("scan: %v\n%s", err, stderr.String())
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var rep scanJSON
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, data)
	}
	if len(rep.Results) != 1 {
		t.Fatalf("%d results, want 1:\n%s", len(rep.Results), data)
	}
	r := rep.Results[0]
	var got []string
	for _, f := range r.Findings {
		got = append(got, f.ID)
	}
	slices.Sort(got)
	want := []string{"CVE-2011-2523", "CVE-2015-1419", "cleartext-login", "no-tls", "version-disclosed"}
	if !slices.Equal(got, want) || r.Service.Product != "vsftpd" || r.Service.Version != "2.3.4" || r.Error != "" {
		t.Errorf("result %+v, findings %v, want %v", r, got, want)
	}

	// --fail-on, and targets on standard input.
	var stdout bytes.Buffer
	err = runScan(context.Background(), scanFlags{inputs: []string{"-"}, ports: port, reportFlags: reportFlags{format: "jsonl", failOn: "critical"},
		rate: 0, concurrency: 4, timeout: 5 * time.Second}, nil, strings.NewReader(host+"\n"), &stdout, &stderr)
	if !errors.Is(err, errFailOn) {
		t.Errorf("--fail-on critical: %v", err)
	}
	if !strings.Contains(stdout.String(), `"CVE-2011-2523"`) {
		t.Errorf("jsonl output lacks the CVE:\n%s", stdout.String())
	}
}

func TestScanCommandRejects(t *testing.T) {
	base := scanFlags{ports: "21", reportFlags: reportFlags{format: "json"}, concurrency: 1, timeout: time.Second}
	for name, tc := range map[string]struct {
		mod  func(*scanFlags)
		args []string
		want string
	}{
		"no targets":    {func(*scanFlags) {}, nil, "no targets"},
		"bad format":    {func(f *scanFlags) { f.format = "xml" }, []string{"127.0.0.1"}, "format"},
		"bad ports":     {func(f *scanFlags) { f.ports = "0" }, []string{"127.0.0.1"}, "--ports"},
		"bad shard":     {func(f *scanFlags) { f.shard = "3/2" }, []string{"127.0.0.1"}, "--shard"},
		"bad fail-on":   {func(f *scanFlags) { f.failOn = "urgent" }, []string{"127.0.0.1"}, "--fail-on"},
		"bad target":    {func(*scanFlags) {}, []string{"not a host!"}, "bad target"},
		"too many":      {func(*scanFlags) {}, []string{"10.0.0.0/7"}, "--force"},
		"bad rate":      {func(f *scanFlags) { f.rate = -1 }, []string{"127.0.0.1"}, "--rate"},
		"missing file":  {func(f *scanFlags) { f.inputs = []string{"/nonexistent/targets"} }, nil, "no such file"},
		"bad nmap file": {func(f *scanFlags) { f.inputs = []string{"-"} }, nil, "nmap XML"},
	} {
		t.Run(name, func(t *testing.T) {
			sf := base
			tc.mod(&sf)
			var out bytes.Buffer
			err := runScan(context.Background(), sf, tc.args, strings.NewReader("<nmaprun><host>"), &out, &out)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

// bannedServer greets every connection with 421, as a server that banned
// the scanner's address does.
func bannedServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			io.WriteString(c, "421 Your address is banned for 30 minutes.\r\n")
			c.Close()
		}
	}()
	return ln.Addr().String()
}

// TestScanFailOnIncomplete checks that --fail-on fails on a target whose
// audit is incomplete (here refused: the server banned the scanner), that
// --fail-on-incomplete=false turns that off, and that every format names
// the target with its status.
func TestScanFailOnIncomplete(t *testing.T) {
	host, port, _ := net.SplitHostPort(bannedServer(t))
	for _, tc := range []struct {
		format     string
		incomplete bool
		want       error
		text       string
	}{
		{"json", true, errFailOn, `"status": "refused"`},
		{"jsonl", true, errFailOn, `"status":"refused"`},
		{"csv", true, errFailOn, "refused"},
		{"sarif", true, errFailOn, "status refused"},
		{"table", true, errFailOn, "audit incomplete (refused)"},
		{"html", true, errFailOn, "status refused"},
		{"json", false, nil, `"status": "refused"`},
	} {
		t.Run(tc.format+"/"+strconv.FormatBool(tc.incomplete), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			sf := scanFlags{ports: port, reportFlags: reportFlags{format: tc.format, failOn: "critical", failOnIncomplete: tc.incomplete},
				concurrency: 1, timeout: 5 * time.Second}
			err := runScan(context.Background(), sf, []string{host}, nil, &stdout, &stderr)
			if !errors.Is(err, tc.want) && !(tc.want == nil && err == nil) {
				t.Errorf("error %v, want %v", err, tc.want)
			}
			if !strings.Contains(stdout.String(), tc.text) || !strings.Contains(stdout.String(), port) {
				t.Errorf("%s report lacks %q for the target:\n%s", tc.format, tc.text, stdout.String())
			}
		})
	}
}

// TestScanInterruptedReport checks that ^C writes a report marked partial,
// with the target in flight, and an error that says how far the run got.
func TestScanInterruptedReport(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	// ^C comes once the audit has sent its first command (the sweep's
	// probe sends none), not on a clock that a loaded machine can beat.
	inFlight := make(chan struct{})
	var once sync.Once
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			go func() {
				io.WriteString(c, "220 (vsFTPd 3.0.3)\r\n")
				if _, err := bufio.NewReader(c).ReadString('\n'); err == nil {
					once.Do(func() { close(inFlight) })
				}
				io.Copy(io.Discard, c) // then nothing
			}()
		}
	}()
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-inFlight:
			cancel()
		case <-ctx.Done():
		}
	}()
	var stdout, stderr bytes.Buffer
	sf := scanFlags{ports: port, reportFlags: reportFlags{format: "json"}, concurrency: 1, timeout: 20 * time.Second}
	err = runScan(ctx, sf, []string{host}, nil, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "partial report") || !strings.Contains(err.Error(), "1 reported") {
		t.Errorf("error %v, want one that says the report is partial and how far it got", err)
	}
	var doc struct {
		Partial bool   `json:"partial"`
		Note    string `json:"note"`
		Results []struct {
			Status string `json:"status"`
		} `json:"results"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &doc); err != nil {
		t.Fatalf("report: %v\n%s", err, stdout.String())
	}
	if !doc.Partial || doc.Note == "" || len(doc.Results) != 1 || doc.Results[0].Status != "interrupted" {
		t.Errorf("report %+v, want partial with the interrupted target", doc)
	}
}
