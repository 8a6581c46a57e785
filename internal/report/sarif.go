package report

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/port21/port21/internal/finding"
)

// SARIF 2.1.0, the subset code-scanning dashboards (GitHub's in particular)
// read. The types below are the part of the schema port21 fills in.

const (
	sarifSchema  = "https://json.schemastore.org/sarif-2.1.0.json"
	sarifVersion = "2.1.0"
	// defaultTargetsURI anchors network findings when the report names no
	// input: GitHub rejects a result without a physical location.
	defaultTargetsURI = "targets.txt"
)

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool        sarifTool         `json:"tool"`
	Invocations []sarifInvocation `json:"invocations"`
	Results     []sarifResult     `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID                   string            `json:"id"`
	ShortDescription     sarifMessage      `json:"shortDescription"`
	FullDescription      *sarifMessage     `json:"fullDescription,omitempty"`
	Help                 sarifMessage      `json:"help"`
	HelpURI              string            `json:"helpUri,omitempty"`
	DefaultConfiguration sarifConfig       `json:"defaultConfiguration"`
	Properties           sarifRuleProperty `json:"properties"`
}

type sarifMessage struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown,omitempty"`
}

type sarifConfig struct {
	Level string `json:"level"`
}

type sarifRuleProperty struct {
	Tags []string `json:"tags"`
	// SecuritySeverity is a number in a string, as GitHub wants it: it
	// ranks alerts as critical (>= 9.0), high (>= 7.0), medium (>= 4.0) or
	// low.
	SecuritySeverity string `json:"security-severity"`
}

type sarifInvocation struct {
	ExecutionSuccessful bool                `json:"executionSuccessful"`
	StartTimeUTC        string              `json:"startTimeUtc,omitempty"`
	EndTimeUTC          string              `json:"endTimeUtc,omitempty"`
	Notifications       []sarifNotification `json:"toolExecutionNotifications,omitempty"`
}

type sarifNotification struct {
	Level   string       `json:"level"`
	Message sarifMessage `json:"message"`
}

type sarifResult struct {
	RuleID              string              `json:"ruleId"`
	RuleIndex           int                 `json:"ruleIndex"`
	Level               string              `json:"level"`
	Message             sarifMessage        `json:"message"`
	Locations           []sarifLocation     `json:"locations"`
	PartialFingerprints map[string]string   `json:"partialFingerprints"`
	Properties          sarifResultProperty `json:"properties"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysicalLocation  `json:"physicalLocation"`
	LogicalLocations []sarifLogicalLocation `json:"logicalLocations,omitempty"`
}

type sarifPhysicalLocation struct {
	ArtifactLocation sarifArtifactLocation `json:"artifactLocation"`
	Region           sarifRegion           `json:"region"`
}

type sarifArtifactLocation struct {
	URI string `json:"uri"`
}

type sarifRegion struct {
	StartLine int `json:"startLine"`
}

type sarifLogicalLocation struct {
	Name               string `json:"name"`
	FullyQualifiedName string `json:"fullyQualifiedName,omitempty"`
	Kind               string `json:"kind"`
}

type sarifResultProperty struct {
	Severity string              `json:"severity"`
	Basis    string              `json:"basis,omitempty"`
	Target   finding.Target      `json:"target"`
	Service  *finding.Service    `json:"service,omitempty"`
	Evidence []finding.Evidence  `json:"evidence,omitempty"`
	Config   map[string][]string `json:"fixConfig,omitempty"`
	Firewall string              `json:"fixFirewall,omitempty"`
}

func writeSARIF(w io.Writer, r Report) error {
	rules, index := sarifRules(r)
	run := sarifRun{
		Tool: sarifTool{Driver: sarifDriver{
			Name:           "port21",
			InformationURI: "https://github.com/port21/port21",
			Rules:          rules,
		}},
		Invocations: []sarifInvocation{sarifInvocationOf(r)},
		Results:     []sarifResult{},
	}
	anchor := defaultTargetsURI
	if len(r.Inputs) > 0 && r.Inputs[0] != "" && r.Inputs[0] != "-" {
		anchor = fileURI(r.Inputs[0])
	}
	seen := map[string]int{}
	for _, res := range r.Results {
		for _, f := range res.Findings {
			run.Results = append(run.Results, sarifResultOf(f, res.Service, index[ruleID(f)], anchor, seen))
		}
	}
	enc := json.NewEncoder(jsonSafe(w))
	enc.SetIndent("", "  ")
	return enc.Encode(sarifLog{Schema: sarifSchema, Version: sarifVersion, Runs: []sarifRun{run}})
}

// sarifRules returns one rule per distinct finding id, sorted by id, and
// each id's index. A rule takes its text from the first finding with its
// id and its severity from the most severe one.
func sarifRules(r Report) ([]sarifRule, map[string]int) {
	first := map[string]finding.Finding{}
	worst := map[string]finding.Severity{}
	for _, res := range r.Results {
		for _, f := range res.Findings {
			id := ruleID(f)
			if _, ok := first[id]; !ok {
				f.Fix.Config = maps.Clone(f.Fix.Config)
				first[id] = f
				worst[id] = f.Severity
			}
			worst[id] = max(worst[id], f.Severity)
			// The rule's help lists each product's own lines, labelled,
			// taken from the findings on that product: one finding's
			// lines must not stand for every product's.
			fr := first[id]
			for product, lines := range f.Fix.Config {
				if _, ok := fr.Fix.Config[product]; !ok {
					if fr.Fix.Config == nil {
						fr.Fix.Config = map[string][]string{}
					}
					fr.Fix.Config[product] = lines
				}
			}
			first[id] = fr
		}
	}
	ids := make([]string, 0, len(first))
	for id := range first {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	rules := make([]sarifRule, len(ids))
	index := make(map[string]int, len(ids))
	for i, id := range ids {
		f := first[id]
		rule := sarifRule{
			ID:                   id,
			ShortDescription:     sarifMessage{Text: cmpOr(f.Title, id)},
			Help:                 sarifHelp(f),
			HelpURI:              firstWebLink(f.References),
			DefaultConfiguration: sarifConfig{Level: sarifLevel(worst[id])},
			Properties: sarifRuleProperty{
				Tags:             []string{"security", "ftp"},
				SecuritySeverity: securitySeverity(worst[id]),
			},
		}
		if f.Detail != "" {
			rule.FullDescription = &sarifMessage{Text: f.Detail}
		}
		rules[i] = rule
		index[id] = i
	}
	return rules, index
}

// ruleID is a finding's rule: its id, or a placeholder for a finding that
// has none, since SARIF requires one.
func ruleID(f finding.Finding) string {
	return cmpOr(f.ID, "unnamed-finding")
}

func cmpOr(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}

// sarifHelp renders a finding's fix as plain text and as Markdown: the
// summary, the configuration lines for each product, the firewall command
// and the references.
func sarifHelp(f finding.Finding) sarifMessage {
	var text, md strings.Builder
	summary := cmpOr(f.Fix.Summary, f.Title)
	text.WriteString(summary)
	md.WriteString(summary)
	for _, product := range sortedKeys(f.Fix.Config) {
		lines := f.Fix.Config[product]
		fmt.Fprintf(&text, "\n\n%s:\n    %s", product, strings.Join(lines, "\n    "))
		fence := codeFence(lines)
		fmt.Fprintf(&md, "\n\n**%s**\n\n%s\n%s\n%s", product, fence, strings.Join(lines, "\n"), fence)
	}
	if f.Fix.Firewall != "" {
		fmt.Fprintf(&text, "\n\nFirewall:\n    %s", f.Fix.Firewall)
		fence := codeFence([]string{f.Fix.Firewall})
		fmt.Fprintf(&md, "\n\n**Firewall**\n\n%s\n%s\n%s", fence, f.Fix.Firewall, fence)
	}
	if len(f.References) > 0 {
		text.WriteString("\n\nReferences:")
		md.WriteString("\n\n**References**\n")
		for _, ref := range f.References {
			fmt.Fprintf(&text, "\n    %s", ref)
			if firstWebLink([]string{ref}) != "" {
				fmt.Fprintf(&md, "\n- <%s>", ref)
			} else {
				fmt.Fprintf(&md, "\n- %s", ref)
			}
		}
	}
	return sarifMessage{Text: text.String(), Markdown: md.String()}
}

// codeFence returns a Markdown fence longer than any run of backticks in
// lines, so the lines cannot end the code block early.
func codeFence(lines []string) string {
	longest := 0
	for _, l := range lines {
		run := 0
		for _, c := range l {
			if c == '`' {
				run++
				longest = max(longest, run)
			} else {
				run = 0
			}
		}
	}
	return strings.Repeat("`", max(3, longest+1))
}

func sortedKeys(m map[string][]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// firstWebLink returns the first http or https reference, or "".
func firstWebLink(refs []string) string {
	for _, ref := range refs {
		if webURL(ref) {
			return ref
		}
	}
	return ""
}

// webURL reports whether s is an absolute http or https URL: the only
// references that become links. Anything else (javascript:, data:, a
// relative path) stays text.
func webURL(s string) bool {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return false
	}
	scheme := strings.ToLower(u.Scheme)
	return scheme == "http" || scheme == "https"
}

func sarifInvocationOf(r Report) sarifInvocation {
	// A partial run (^C, a fatal error) did not do what was asked: a
	// dashboard must not read its silence as "all clear".
	inv := sarifInvocation{ExecutionSuccessful: !r.Partial}
	if !r.Started.IsZero() {
		inv.StartTimeUTC = r.Started.UTC().Format(time.RFC3339)
	}
	if !r.Finished.IsZero() {
		inv.EndTimeUTC = r.Finished.UTC().Format(time.RFC3339)
	}
	if r.Partial {
		inv.Notifications = append(inv.Notifications, sarifNotification{
			Level:   "error",
			Message: sarifMessage{Text: cmpOr(r.Note, "the run was stopped before every target was audited: the report is partial")},
		})
	}
	for _, res := range r.Results {
		if res.Complete() && res.Error == "" {
			continue
		}
		// A target the run could not finish is reported with its status,
		// so its missing findings are not mistaken for none.
		why := cmpOr(res.Error, "no detail")
		inv.Notifications = append(inv.Notifications, sarifNotification{
			Level:   "warning",
			Message: sarifMessage{Text: fmt.Sprintf("%s: audit incomplete (status %s): %s", targetLabel(res.Target), res.State(), why)},
		})
	}
	return inv
}

// sarifResultOf converts one finding. seen counts fingerprints so far, so
// that two findings with one id on one target still get two alerts.
func sarifResultOf(f finding.Finding, svc *finding.Service, ruleIndex int, anchor string, seen map[string]int) sarifResult {
	t := f.Target
	label := targetLabel(t)
	msg := cmpOr(f.Title, ruleID(f)) + " on " + label
	if f.Detail != "" {
		msg += ". " + f.Detail
	}
	// The alert names the fix for the product found on this target; the
	// rule's help lists every product's.
	for _, product := range sortedKeys(f.Fix.Config) {
		msg += fmt.Sprintf("\nFix (%s): %s", product, strings.Join(f.Fix.Config[product], "; "))
	}
	loc := sarifLocation{PhysicalLocation: sarifPhysicalLocation{
		ArtifactLocation: sarifArtifactLocation{URI: anchor},
		Region:           sarifRegion{StartLine: 1},
	}}
	if t.File != "" {
		loc.PhysicalLocation.ArtifactLocation.URI = fileURI(t.File)
		loc.PhysicalLocation.Region.StartLine = max(1, t.Line)
	} else {
		loc.LogicalLocations = []sarifLogicalLocation{{
			Name:               label,
			FullyQualifiedName: "ftp://" + t.String(),
			Kind:               "network-service",
		}}
	}
	// Code scanning tells alerts apart by rule, file and this fingerprint.
	// Every network finding sits on line 1 of the same targets file, so the
	// fingerprint must name the target, or one alert would swallow the
	// rest.
	key := ruleID(f) + "\x00" + t.String() + "\x00" + t.Host
	if n := seen[key]; n > 0 {
		seen[key]++
		key += fmt.Sprintf("\x00%d", n)
	} else {
		seen[key] = 1
	}
	sum := sha256.Sum256([]byte(key))
	return sarifResult{
		RuleID:              ruleID(f),
		RuleIndex:           ruleIndex,
		Level:               sarifLevel(f.Severity),
		Message:             sarifMessage{Text: msg},
		Locations:           []sarifLocation{loc},
		PartialFingerprints: map[string]string{"primaryLocationLineHash": hex.EncodeToString(sum[:16])},
		Properties: sarifResultProperty{
			Severity: f.Severity.String(),
			Basis:    f.Basis,
			Target:   t,
			Service:  svc,
			Evidence: f.Evidence,
			Config:   f.Fix.Config,
			Firewall: f.Fix.Firewall,
		},
	}
}

// sarifLevel maps a severity to a SARIF level: error for what must be
// fixed, warning for what should be, note for the rest.
func sarifLevel(s finding.Severity) string {
	switch {
	case s >= finding.High:
		return "error"
	case s == finding.Medium:
		return "warning"
	}
	return "note"
}

// securitySeverity maps a severity to the CVSS-like score GitHub ranks
// security alerts by; each value sits inside GitHub's band for the same
// name.
func securitySeverity(s finding.Severity) string {
	switch s {
	case finding.Critical:
		return "9.5"
	case finding.High:
		return "8.0"
	case finding.Medium:
		return "5.5"
	case finding.Low:
		return "3.0"
	}
	return "0.0"
}

// fileURI turns a path into a URI reference: file:///etc/vsftpd.conf for an
// absolute path, an escaped relative reference otherwise, which a
// code-scanning upload resolves against the repository root.
func fileURI(p string) string {
	p = filepath.ToSlash(p)
	if strings.HasPrefix(p, "/") {
		return (&url.URL{Scheme: "file", Path: p}).String()
	}
	return (&url.URL{Path: p}).String()
}
