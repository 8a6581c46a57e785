package report

import (
	"cmp"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/port21/port21/internal/finding"
)

// The page is one file with nothing to fetch: styles are inline, there is
// no script (filtering by severity works with CSS alone), and the page's
// Content-Security-Policy forbids loading or running anything, so even a
// mistake in escaping could not make a hostile banner phone home.
//
//go:embed html.tmpl
var htmlSource string

// htmlTemplate is parsed once; it is never modified after, so sharing it
// between goroutines is safe (html/template allows concurrent Execute).
var htmlTemplate = template.Must(template.New("report").Parse(htmlSource))

// htmlPage is everything the template shows, already sanitized and
// arranged; the template only lays it out.
type htmlPage struct {
	Title    string // of the document: "port21 scan report"
	Heading  string // beside the brand: "scan report"
	Verdict  string // one sentence a reader can stop at
	Started  string
	Finished string
	Duration string
	Inputs   []string
	Summary  Summary
	Tiles    []htmlTile
	Hosts    []htmlHost
	Targets  []htmlTarget
}

type htmlTile struct {
	Sev   string // CSS class and filter name: "critical"...
	Label string
	Count int
}

type htmlHost struct {
	Name       string
	Targets    []htmlAnchor
	Counts     []htmlCount
	Incomplete bool
	Findings   int
}

type htmlAnchor struct {
	ID    string
	Label string
}

type htmlCount struct {
	Sev   string
	Count int
}

type htmlTarget struct {
	ID         string
	Label      string
	Worst      string // severity class of the worst finding, "" when none
	Product    string
	TLS        string
	Confidence int
	Banner     string
	Features   string
	Error      string
	Counts     []htmlCount
	Findings   []htmlFinding
}

type htmlFinding struct {
	Sev        string
	SevLabel   string
	ID         string
	Title      string
	Detail     string
	Basis      string
	Location   string
	Evidence   []htmlEvidence
	Summary    string
	Config     []htmlConfig
	Firewall   string
	References []htmlReference
}

type htmlEvidence struct {
	Class  string // "sent", "received" or "note"
	Prefix string
	Text   string
}

type htmlConfig struct {
	Product string
	Lines   string
}

type htmlReference struct {
	Text string
	Link bool
}

func writeHTML(w io.Writer, r Report) error {
	return htmlTemplate.Execute(w, htmlPageOf(r))
}

func htmlPageOf(r Report) htmlPage {
	sum := Summarize(r)
	tool := cmpOr(oneLine(r.Tool), "port21")
	page := htmlPage{
		Title:   tool + " report",
		Heading: strings.TrimPrefix(tool+" report", "port21 "),
		Verdict: verdict(sum) + partialNote(r),
		Inputs:  make([]string, len(r.Inputs)),
		Summary: sum,
	}
	for i, in := range r.Inputs {
		page.Inputs[i] = oneLine(in)
	}
	if !r.Started.IsZero() {
		page.Started = htmlTime(r.Started)
	}
	if !r.Finished.IsZero() {
		page.Finished = htmlTime(r.Finished)
	}
	if !r.Started.IsZero() && !r.Finished.IsZero() && !r.Finished.Before(r.Started) {
		page.Duration = r.Finished.Sub(r.Started).Round(100 * time.Millisecond).String()
	}
	for _, sev := range severities() {
		page.Tiles = append(page.Tiles, htmlTile{Sev: sev.String(), Label: titleCase(sev.String()), Count: sum.BySeverity.Get(sev)})
	}

	hostIndex := map[string]int{}
	for i, res := range r.Results {
		ts := sum.ByTarget[i]
		id := fmt.Sprintf("t%d", i+1)
		target := htmlTargetOf(res, ts, id)
		page.Targets = append(page.Targets, target)

		name := oneLine(hostLabel(res.Target))
		hi, ok := hostIndex[name]
		if !ok {
			hi = len(page.Hosts)
			hostIndex[name] = hi
			page.Hosts = append(page.Hosts, htmlHost{Name: name})
		}
		h := &page.Hosts[hi]
		h.Targets = append(h.Targets, htmlAnchor{ID: id, Label: anchorLabel(res.Target)})
		h.Findings += ts.Findings
		h.Incomplete = h.Incomplete || ts.Error
		h.Counts = addCounts(h.Counts, ts.BySeverity)
	}
	return page
}

func htmlTargetOf(res Result, ts TargetSummary, id string) htmlTarget {
	t := htmlTarget{
		ID:     id,
		Label:  oneLine(targetLabel(res.Target)),
		Error:  htmlIncomplete(res),
		Counts: addCounts(nil, ts.BySeverity),
	}
	if ts.MaxSeverity != nil {
		t.Worst = ts.MaxSeverity.String()
	}
	if s := res.Service; s != nil {
		t.Product = oneLine(serviceLabel(s))
		t.TLS = oneLine(s.TLS)
		t.Confidence = s.Confidence
		t.Banner = oneLine(s.Banner)
		t.Features = oneLine(strings.Join(s.Features, " "))
	}
	for _, f := range res.Findings {
		var product string
		if res.Service != nil {
			product = res.Service.Product
		}
		t.Findings = append(t.Findings, htmlFindingOf(f, res.Target, product))
	}
	return t
}

func htmlFindingOf(f finding.Finding, where finding.Target, product string) htmlFinding {
	hf := htmlFinding{
		Sev:      f.Severity.String(),
		SevLabel: strings.ToUpper(f.Severity.String()),
		ID:       oneLine(f.ID),
		Title:    oneLine(f.Title),
		Detail:   oneLine(f.Detail),
		Basis:    oneLine(f.Basis),
		Summary:  oneLine(f.Fix.Summary),
		Firewall: oneLine(f.Fix.Firewall),
	}
	hf.Location = oneLine(findingWhere(f.Target, where))
	for _, e := range f.Evidence {
		if e.Sent != "" {
			hf.Evidence = appendEvidence(hf.Evidence, "sent", ">", e.Sent)
		}
		if e.Received != "" {
			hf.Evidence = appendEvidence(hf.Evidence, "received", "<", e.Received)
		}
		if e.Note != "" {
			hf.Evidence = appendEvidence(hf.Evidence, "note", "#", e.Note)
		}
	}
	// The lines for the product that was found come first: they are the
	// ones this reader needs.
	keys := sortedKeys(f.Fix.Config)
	slices.SortStableFunc(keys, func(a, b string) int {
		return cmp.Compare(b2i(!sameProduct(a, product)), b2i(!sameProduct(b, product)))
	})
	for _, key := range keys {
		lines := make([]string, len(f.Fix.Config[key]))
		for i, l := range f.Fix.Config[key] {
			lines[i] = oneLine(l)
		}
		hf.Config = append(hf.Config, htmlConfig{Product: oneLine(key), Lines: strings.Join(lines, "\n")})
	}
	for _, ref := range f.References {
		hf.References = append(hf.References, htmlReference{Text: oneLine(ref), Link: webURL(ref) && isPlain(ref)})
	}
	return hf
}

// sameProduct reports whether a Fix.Config key ("pure-ftpd") names the
// product a fingerprint found ("Pure-FTPd").
func sameProduct(key, product string) bool {
	return product != "" && strings.EqualFold(key, product)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// appendEvidence adds one evidence item, a line per line of text, each
// marked with who said it, as a transcript reads.
func appendEvidence(ev []htmlEvidence, class, prefix, s string) []htmlEvidence {
	for line := range strings.SplitSeq(strings.TrimRight(multiLine(s), "\n"), "\n") {
		ev = append(ev, htmlEvidence{Class: class, Prefix: prefix, Text: line})
	}
	return ev
}

// addCounts adds c to counts, one entry per severity, most severe first.
func addCounts(counts []htmlCount, c SeverityCounts) []htmlCount {
	if counts == nil {
		for _, sev := range severities() {
			counts = append(counts, htmlCount{Sev: sev.String()})
		}
	}
	for i, sev := range severities() {
		counts[i].Count += c.Get(sev)
	}
	return counts
}

// anchorLabel is how a target is named under its host: its port, or for a
// file, the file.
func anchorLabel(t finding.Target) string {
	switch {
	case t.File != "":
		return "config"
	case t.Port > 0:
		return fmt.Sprintf("port %d", t.Port)
	}
	return oneLine(targetLabel(t))
}

// verdict sums a report up in a sentence: how many targets need work and
// how many could not be audited fully.
func verdict(s Summary) string {
	if s.Targets == 0 {
		return "No targets were audited."
	}
	affected := 0
	for _, ts := range s.ByTarget {
		if ts.Findings > 0 {
			affected++
		}
	}
	var v string
	switch {
	case s.Findings == 0:
		v = fmt.Sprintf("No findings on %d %s.", s.Targets, plural(s.Targets, "target", "targets"))
	case s.Targets == 1:
		v = fmt.Sprintf("%d %s on the one target audited.", s.Findings, plural(s.Findings, "finding", "findings"))
	default:
		v = fmt.Sprintf("%d %s on %d of %d targets.", s.Findings, plural(s.Findings, "finding", "findings"), affected, s.Targets)
	}
	if urgent := s.BySeverity.Critical + s.BySeverity.High; urgent > 0 {
		v += fmt.Sprintf(" %d %s critical or high: fix %s first.", urgent, plural(urgent, "is", "are"), plural(urgent, "it", "those"))
	}
	if n := s.TargetsWithErrors; n > 0 {
		v += fmt.Sprintf(" %d %s could not be audited fully.", n, plural(n, "target", "targets"))
	}
	return v
}

func htmlTime(t time.Time) string {
	return t.UTC().Format("2 Jan 2006 15:04:05 UTC")
}

func titleCase(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// htmlIncomplete says why a target's audit is incomplete, status first, or
// "" when it is complete.
func htmlIncomplete(res Result) string {
	if !incomplete(res) {
		return ""
	}
	why := "status " + string(res.State())
	if res.Error != "" {
		why += ": " + oneLine(res.Error)
	}
	return why
}

// partialNote is the verdict's warning for a partial run.
func partialNote(r Report) string {
	if !r.Partial {
		return ""
	}
	return " Partial report: " + oneLine(cmpOr(r.Note, "the run was stopped before every target was audited")) + "."
}
