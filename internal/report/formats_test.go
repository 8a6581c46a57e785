package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/port21/port21/internal/finding"
)

// evil is text a hostile server might put in a banner or a reply: a
// spreadsheet formula, ANSI sequences that clear the screen and retitle the
// terminal, HTML, a right-to-left override, a zero-width space, CRLF and a
// NUL.
const evil = "=HYPERLINK(\"http://evil.example/\")\x1b[2J\x1b]0;pwned\x07<script>alert(1)</script><img src=x onerror=alert(2)>\u202etxt.exe\u200b\r\n220 second line\x00"

// hostileReport puts evil everywhere a target can influence.
func hostileReport() Report {
	tgt := finding.Target{Host: "-cmd|' /C calc'!A0", Address: "192.0.2.66", Port: 21}
	return Report{
		Tool:    "port21 scan",
		Started: time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC),
		Inputs:  []string{"+targets\x1b[31m.txt"},
		Results: []Result{{
			Target:  tgt,
			Service: &finding.Service{Product: "@evil", Version: evil, Banner: evil, Features: []string{evil}, TLS: evil},
			Findings: []finding.Finding{{
				ID:         "-evil\x1b[31m",
				Severity:   finding.High,
				Title:      evil,
				Detail:     evil,
				Target:     tgt,
				Basis:      "+" + evil,
				Evidence:   []finding.Evidence{{Sent: evil, Received: evil, Note: evil}},
				Fix:        finding.Fix{Summary: evil, Config: map[string][]string{evil: {evil}}, Firewall: evil},
				References: []string{"javascript:alert(3)", "data:text/html,<script>alert(4)</script>", "https://example.com/\"><script>alert(5)</script>", evil},
			}},
			Error: evil,
		}},
	}
}

// ansiSGR matches the colour sequences the table writes itself.
var ansiSGR = regexp.MustCompile(`\x1b\[[0-9;]*m`)

func TestTableHostile(t *testing.T) {
	for _, color := range []bool{false, true} {
		var b bytes.Buffer
		if err := Write(&b, Table, hostileReport(), Options{Color: color}); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		if color {
			out = ansiSGR.ReplaceAllString(out, "")
		}
		for i, r := range out {
			if r == '\n' {
				continue
			}
			if hidden(r) {
				t.Fatalf("color=%v: table carries %U at byte %d:\n%s", color, r, i, out)
			}
		}
		if !strings.Contains(out, `\x1b[2J`) || !strings.Contains(out, `\u202e`) {
			t.Errorf("color=%v: escapes are not shown visibly:\n%s", color, out)
		}
		if !color && strings.Contains(b.String(), "\x1b") {
			t.Error("colourless table contains ESC")
		}
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			if w := displayWidth(line); w > tableWidth {
				t.Errorf("color=%v: line is %d columns wide: %q", color, w, line)
			}
		}
	}
}

// displayWidth counts terminal columns, treating every rune as one column:
// the sample and hostile inputs use no wide characters.
func displayWidth(s string) int { return len([]rune(s)) }

func TestTableColor(t *testing.T) {
	r := loadSample(t)
	var plain, color bytes.Buffer
	if err := Write(&plain, Table, r, Options{}); err != nil {
		t.Fatal(err)
	}
	if err := Write(&color, Table, r, Options{Color: true}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(plain.String(), "\x1b") {
		t.Error("Color off, but the table has escape sequences")
	}
	if !strings.Contains(color.String(), "\x1b[") {
		t.Error("Color on, but the table has no escape sequences")
	}
	if got := ansiSGR.ReplaceAllString(color.String(), ""); got != plain.String() {
		t.Errorf("the coloured table says something else than the plain one:\n%s", firstDiff(plain.Bytes(), []byte(got)))
	}
	t.Setenv("NO_COLOR", "1") // the caller decides, not the environment
	var again bytes.Buffer
	if err := Write(&again, Table, r, Options{Color: true}); err != nil {
		t.Fatal(err)
	}
	if again.String() != color.String() {
		t.Error("the table's colour depends on the environment")
	}
}

func TestTableWidth(t *testing.T) {
	r := loadSample(t)
	long := strings.Repeat("very-long-identifier-", 4)
	r.Results[0].Findings = append(r.Results[0].Findings, finding.Finding{
		ID: long, Severity: finding.Low, Title: strings.Repeat("a long title that must wrap ", 8),
		Fix: finding.Fix{Summary: strings.Repeat("a long fix that must wrap ", 8)},
	})
	r.Results[0].Target.File = "/" + strings.Repeat("very/deep/", 12) + "vsftpd.conf"
	var b bytes.Buffer
	if err := Write(&b, Table, r, Options{}); err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		if w := displayWidth(line); w > tableWidth {
			t.Errorf("line is %d columns wide: %q", w, line)
		}
	}
	if !strings.Contains(b.String(), "5 targets audited") && !strings.Contains(b.String(), "12 findings") {
		t.Errorf("no totals line:\n%s", b.String())
	}
}

func TestCSV(t *testing.T) {
	r := loadSample(t)
	var b bytes.Buffer
	if err := Write(&b, CSV, r, Options{}); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rows[0], ",") != strings.Join(csvHeader, ",") {
		t.Errorf("header = %q", rows[0])
	}
	if len(rows) != 1+11+1 {
		t.Fatalf("%d rows, want a header, 11 findings and the incomplete target's row", len(rows))
	}
	col := map[string]int{}
	for i, name := range rows[0] {
		col[name] = i
	}
	first := rows[1]
	for name, want := range map[string]string{
		"target": "192.0.2.10:21", "host": "ftp.example.net", "port": "21", "product": "vsftpd", "version": "2.3.4",
		"severity": "critical", "id": "CVE-2011-2523", "basis": "version",
		"references": "https://nvd.nist.gov/vuln/detail/CVE-2011-2523;javascript:alert(1)",
	} {
		if got := first[col[name]]; got != want {
			t.Errorf("first row %s = %q, want %q", name, got, want)
		}
	}
	last := rows[len(rows)-1]
	if last[col["file"]] != "/etc/vsftpd.conf" || last[col["id"]] != "no-passive-range" {
		t.Errorf("last row = %q", last)
	}
	if rows[len(rows)-3][col["line"]] != "31" {
		t.Errorf("config row line = %q, want 31", rows[len(rows)-3][col["line"]])
	}
}

func TestCSVHostile(t *testing.T) {
	var b bytes.Buffer
	if err := Write(&b, CSV, hostileReport(), Options{}); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 {
		t.Fatalf("%d rows, want a header, the finding and the incomplete target's row", len(rows))
	}
	for i, cell := range rows[1] {
		if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
			t.Errorf("column %s starts with %q: a spreadsheet would run it", csvHeader[i], cell[0])
		}
	}
	if got := rows[1][10]; got != "'"+strings.ReplaceAll(evil, "\r\n", "\n") {
		t.Errorf("title = %q, want the text with a leading apostrophe", got)
	}
}

func TestDefuse(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"plain", "plain"},
		{"=1+1", "'=1+1"},
		{"+1", "'+1"},
		{"-1", "'-1"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\t=1", "'\t=1"},
		{"\r=1", "'\r=1"},
		{"a=1", "a=1"},
	} {
		if got := defuse(tc.in); got != tc.want {
			t.Errorf("defuse(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// sarifDoc is the part of SARIF 2.1.0 the tests check, decoded loosely so
// that a missing field shows up as a zero value.
type sarifDoc struct {
	Schema  string `json:"$schema"`
	Version string `json:"version"`
	Runs    []struct {
		Tool struct {
			Driver struct {
				Name  string `json:"name"`
				Rules []struct {
					ID               string `json:"id"`
					ShortDescription struct {
						Text string `json:"text"`
					} `json:"shortDescription"`
					Help struct {
						Text     string `json:"text"`
						Markdown string `json:"markdown"`
					} `json:"help"`
					DefaultConfiguration struct {
						Level string `json:"level"`
					} `json:"defaultConfiguration"`
					Properties map[string]any `json:"properties"`
				} `json:"rules"`
			} `json:"driver"`
		} `json:"tool"`
		Invocations []struct {
			ExecutionSuccessful *bool `json:"executionSuccessful"`
			Notifications       []struct {
				Level   string `json:"level"`
				Message struct {
					Text string `json:"text"`
				} `json:"message"`
			} `json:"toolExecutionNotifications"`
		} `json:"invocations"`
		Results []struct {
			RuleID    string `json:"ruleId"`
			RuleIndex *int   `json:"ruleIndex"`
			Level     string `json:"level"`
			Message   struct {
				Text string `json:"text"`
			} `json:"message"`
			Locations []struct {
				PhysicalLocation *struct {
					ArtifactLocation struct {
						URI string `json:"uri"`
					} `json:"artifactLocation"`
					Region struct {
						StartLine int `json:"startLine"`
					} `json:"region"`
				} `json:"physicalLocation"`
				LogicalLocations []struct {
					Name string `json:"name"`
				} `json:"logicalLocations"`
			} `json:"locations"`
			PartialFingerprints map[string]string `json:"partialFingerprints"`
			Properties          struct {
				Target finding.Target `json:"target"`
			} `json:"properties"`
		} `json:"results"`
	} `json:"runs"`
}

// checkSARIF validates the structure code-scanning uploads need and
// returns the decoded log.
func checkSARIF(t *testing.T, r Report) sarifDoc {
	t.Helper()
	var b bytes.Buffer
	if err := Write(&b, SARIF, r, Options{}); err != nil {
		t.Fatal(err)
	}
	var doc sarifDoc
	dec := json.NewDecoder(&b)
	if err := dec.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if doc.Version != "2.1.0" || doc.Schema == "" {
		t.Errorf("version %q, $schema %q", doc.Version, doc.Schema)
	}
	if len(doc.Runs) != 1 {
		t.Fatalf("%d runs, want 1", len(doc.Runs))
	}
	run := doc.Runs[0]
	if run.Tool.Driver.Name != "port21" {
		t.Errorf("driver name %q", run.Tool.Driver.Name)
	}
	ruleIndex := map[string]int{}
	for i, rule := range run.Tool.Driver.Rules {
		if rule.ID == "" || rule.ShortDescription.Text == "" || rule.Help.Text == "" {
			t.Errorf("rule %d lacks id, shortDescription or help: %+v", i, rule)
		}
		if _, dup := ruleIndex[rule.ID]; dup {
			t.Errorf("rule %q listed twice", rule.ID)
		}
		ruleIndex[rule.ID] = i
		sev, ok := rule.Properties["security-severity"].(string)
		if _, err := strconv.ParseFloat(sev, 64); !ok || err != nil {
			t.Errorf("rule %q: security-severity %#v is not a number in a string", rule.ID, rule.Properties["security-severity"])
		}
		if !validLevel(rule.DefaultConfiguration.Level) {
			t.Errorf("rule %q: level %q", rule.ID, rule.DefaultConfiguration.Level)
		}
	}
	if len(run.Invocations) != 1 || run.Invocations[0].ExecutionSuccessful == nil {
		t.Errorf("invocations = %+v", run.Invocations)
	}
	fingerprints := map[string]bool{}
	for i, res := range run.Results {
		idx, ok := ruleIndex[res.RuleID]
		if !ok || res.RuleIndex == nil || *res.RuleIndex != idx {
			t.Errorf("result %d: ruleId %q / ruleIndex %v do not name a rule", i, res.RuleID, res.RuleIndex)
		}
		if !validLevel(res.Level) || res.Message.Text == "" {
			t.Errorf("result %d: level %q, message %q", i, res.Level, res.Message.Text)
		}
		if len(res.Locations) == 0 || res.Locations[0].PhysicalLocation == nil ||
			res.Locations[0].PhysicalLocation.ArtifactLocation.URI == "" || res.Locations[0].PhysicalLocation.Region.StartLine < 1 {
			t.Errorf("result %d (%s) has no usable physical location: %+v", i, res.RuleID, res.Locations)
		}
		fp := res.PartialFingerprints["primaryLocationLineHash"]
		if fp == "" || fingerprints[res.RuleID+fp] {
			t.Errorf("result %d (%s): fingerprint %q missing or shared", i, res.RuleID, fp)
		}
		fingerprints[res.RuleID+fp] = true
	}
	return doc
}

func validLevel(l string) bool {
	return l == "error" || l == "warning" || l == "note" || l == "none"
}

func TestSARIF(t *testing.T) {
	doc := checkSARIF(t, loadSample(t))
	run := doc.Runs[0]
	if len(run.Results) != 11 {
		t.Errorf("%d results, want 11", len(run.Results))
	}
	if len(run.Tool.Driver.Rules) != 11 {
		t.Errorf("%d rules, want 11", len(run.Tool.Driver.Rules))
	}
	levels := map[string]string{}
	for _, rule := range run.Tool.Driver.Rules {
		levels[rule.ID] = rule.DefaultConfiguration.Level + " " + rule.Properties["security-severity"].(string)
	}
	for id, want := range map[string]string{
		"CVE-2011-2523":     "error 9.5",
		"no-tls":            "error 8.0",
		"anonymous-login":   "warning 5.5",
		"pasv-address-leak": "note 3.0",
		"version-disclosed": "note 0.0",
	} {
		if levels[id] != want {
			t.Errorf("rule %s: level and severity %q, want %q", id, levels[id], want)
		}
	}
	for _, res := range run.Results {
		loc := res.Locations[0]
		switch {
		case res.Properties.Target.File != "":
			if loc.PhysicalLocation.ArtifactLocation.URI != "file:///etc/vsftpd.conf" {
				t.Errorf("%s: config finding anchored to %q", res.RuleID, loc.PhysicalLocation.ArtifactLocation.URI)
			}
			if res.RuleID == "anonymous-write" && loc.PhysicalLocation.Region.StartLine != 31 {
				t.Errorf("anonymous-write on line %d, want 31", loc.PhysicalLocation.Region.StartLine)
			}
		default:
			if loc.PhysicalLocation.ArtifactLocation.URI != "targets.txt" {
				t.Errorf("%s: network finding anchored to %q", res.RuleID, loc.PhysicalLocation.ArtifactLocation.URI)
			}
			if len(loc.LogicalLocations) != 1 || !strings.Contains(res.Message.Text, loc.LogicalLocations[0].Name) {
				t.Errorf("%s: target not named in message %q and logical location %+v", res.RuleID, res.Message.Text, loc.LogicalLocations)
			}
		}
	}
	notes := run.Invocations[0].Notifications
	if len(notes) != 1 || !strings.Contains(notes[0].Message.Text, "203.0.113.7:2121") {
		t.Errorf("the failed target is not reported: %+v", notes)
	}
	var help string
	for _, rule := range run.Tool.Driver.Rules {
		if rule.ID == "no-tls" {
			help = rule.Help.Text
		}
	}
	if !strings.Contains(help, "refuse logins") || !strings.Contains(help, "ssl_enable=YES") || !strings.Contains(help, "TLSRequired on") {
		t.Errorf("no-tls help lacks the fix summary or config lines:\n%s", help)
	}
}

func TestSARIFAnchor(t *testing.T) {
	for _, tc := range []struct {
		inputs []string
		want   string
	}{
		{nil, "targets.txt"},
		{[]string{"-"}, "targets.txt"},
		{[]string{"scan/hosts list.txt", "other"}, "scan/hosts%20list.txt"},
		{[]string{"/srv/scan/hosts.txt"}, "file:///srv/scan/hosts.txt"},
		{[]string{"c:weird"}, "./c:weird"},
	} {
		r := loadSample(t)
		r.Inputs = tc.inputs
		doc := checkSARIF(t, r)
		for _, res := range doc.Runs[0].Results {
			if res.Properties.Target.File != "" {
				continue
			}
			if got := res.Locations[0].PhysicalLocation.ArtifactLocation.URI; got != tc.want {
				t.Errorf("inputs %q: anchored to %q, want %q", tc.inputs, got, tc.want)
			}
			break
		}
	}
}

func TestSARIFHostile(t *testing.T) {
	doc := checkSARIF(t, hostileReport())
	rules := doc.Runs[0].Tool.Driver.Rules
	if len(rules) != 1 {
		t.Fatalf("%d rules", len(rules))
	}
	md := rules[0].Help.Markdown
	// The fence around the config lines must not be closable by them.
	if strings.Contains(md, "[evil](") || strings.Count(md, "```") < 2 {
		t.Errorf("markdown help:\n%s", md)
	}
	if strings.Contains(md, "<javascript:") || strings.Contains(md, "<data:") {
		t.Errorf("a non-web reference became a link:\n%s", md)
	}
}

func TestCodeFence(t *testing.T) {
	for _, tc := range []struct {
		lines []string
		want  string
	}{
		{nil, "```"},
		{[]string{"a`b``c"}, "```"},
		{[]string{"```"}, "````"},
		{[]string{"x", "`````y"}, "``````"},
	} {
		if got := codeFence(tc.lines); got != tc.want {
			t.Errorf("codeFence(%q) = %q, want %q", tc.lines, got, tc.want)
		}
	}
}

func TestWebURL(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"https://nvd.nist.gov/vuln/detail/CVE-2015-3306", true},
		{"HTTP://example.com", true},
		{"javascript:alert(1)", false},
		{"JavaScript://example.com/%0aalert(1)", false},
		{"data:text/html,x", false},
		{"//example.com/x", false},
		{"/relative", false},
		{"ftp://example.com/", false},
		{"CVE-2015-3306", false},
		{"https://", false},
	} {
		if got := webURL(tc.in); got != tc.want {
			t.Errorf("webURL(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

// TestSARIFDuplicate checks that two findings with one id on one target,
// and a finding without an id, still make distinct, valid results.
func TestSARIFDuplicate(t *testing.T) {
	r := loadSample(t)
	dup := r.Results[2].Findings[1]
	dup.Title = "another weak cipher"
	r.Results[2].Findings = append(r.Results[2].Findings, dup, finding.Finding{Title: "no id"})
	doc := checkSARIF(t, r)
	if n := len(doc.Runs[0].Results); n != 13 {
		t.Errorf("%d results, want 13", n)
	}
}
