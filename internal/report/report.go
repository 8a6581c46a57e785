// Package report renders the findings of `port21 scan` and `port21 local`
// in every output format port21 offers: a table for a terminal, JSON, JSON
// Lines, SARIF, CSV and a self-contained HTML page.
//
// Every format is a view of one Report, so the formats cannot disagree about
// what was found. A Stream lets a scanner hand results over as targets
// finish: JSON Lines is written at once, so a pipeline sees hosts as they are
// done; the other formats need the whole report and are written on Close.
//
// Much of what a report shows came from the network or from files on disk:
// banners, replies and configuration lines written by whoever controls the
// target. Each writer treats that text as hostile for its own medium. The
// table shows control characters (ANSI escapes, bidirectional overrides) as
// visible escapes instead of sending them to the terminal; CSV cells that a
// spreadsheet would run as a formula are defused; the HTML page is built with
// html/template, turns only http and https references into links and forbids
// the browser, by Content-Security-Policy, from loading or running anything.
// JSON and SARIF carry the text unchanged: their encoding escapes it, and
// the consumer decides how to display it.
package report

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/port21/port21/internal/finding"
)

// Result is one audited target: the one type port21 scan, port21 local and
// every report format share.
type Result = finding.Result

// Report is everything one run of port21 scan or port21 local found.
type Report struct {
	Tool     string    `json:"tool"` // "port21 scan" or "port21 local"
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	Results  []Result  `json:"results"`
	// Inputs names what was scanned (targets file path, or config files).
	// SARIF anchors network findings to the first of them, because a
	// code-scanning upload needs a file for every result.
	Inputs []string `json:"inputs,omitempty"`
	// Partial is set when the run stopped before every target was audited
	// (^C, or a fatal error), so the report is not the whole picture.
	Partial bool `json:"partial,omitempty"`
	// Note says in words what a reader must know about the run as a whole:
	// why it is partial, and how many targets were audited.
	Note string `json:"note,omitempty"`
}

// Format is an output format.
type Format string

// The output formats.
const (
	Table Format = "table" // for a person at a terminal
	JSON  Format = "json"  // one document, see SCHEMA.md
	JSONL Format = "jsonl" // one line per target as it finishes, then a summary line
	SARIF Format = "sarif" // SARIF 2.1.0, for code-scanning dashboards
	CSV   Format = "csv"   // one row per finding, for spreadsheets
	HTML  Format = "html"  // one self-contained page
)

// Formats lists every format, in the order a help text shows them.
func Formats() []Format {
	return []Format{Table, JSON, JSONL, SARIF, CSV, HTML}
}

// Errors callers can test for with errors.Is.
var (
	// ErrUnknownFormat is returned for a format name port21 does not know.
	ErrUnknownFormat = errors.New("unknown report format")
	// ErrClosed is returned by a Stream used after Close.
	ErrClosed = errors.New("report stream already closed")
)

// ParseFormat parses a format name, case-insensitively.
func ParseFormat(s string) (Format, error) {
	name := strings.ToLower(strings.TrimSpace(s))
	for _, f := range Formats() {
		if name == string(f) {
			return f, nil
		}
	}
	return "", fmt.Errorf("report: format %q (want table, json, jsonl, sarif, csv or html): %w", s, ErrUnknownFormat)
}

// Options change how a report is rendered without changing what it says.
type Options struct {
	// Color turns on ANSI colour in tables. The caller decides, because only
	// the caller knows whether the output is a terminal: colour belongs on a
	// terminal when NO_COLOR is unset, and never in a file or a pipe.
	Color bool
}

// Write renders a whole report at once.
//
// Results are written sorted by target (addresses in numeric order, then
// configuration files by name) and each result's findings most severe first,
// so two runs over the same network give reports that diff cleanly. The
// report itself is not modified.
func Write(w io.Writer, f Format, r Report, opts Options) error {
	r = normalize(r)
	var err error
	switch f {
	case Table:
		err = writeTable(w, r, opts)
	case JSON:
		err = writeJSON(w, r)
	case JSONL:
		err = writeJSONL(w, r)
	case SARIF:
		err = writeSARIF(w, r)
	case CSV:
		err = writeCSV(w, r)
	case HTML:
		err = writeHTML(w, r)
	default:
		return fmt.Errorf("report: write %q: %w", string(f), ErrUnknownFormat)
	}
	if err != nil {
		return fmt.Errorf("report: write %s: %w", f, err)
	}
	return nil
}

// MaxSeverity returns the severity of the most severe finding in r, for
// --fail-on. It reports false when r has no findings at all, so that a
// clean report is not mistaken for one whose worst finding is info.
func MaxSeverity(r Report) (finding.Severity, bool) {
	var maxSev finding.Severity
	found := false
	for _, res := range r.Results {
		for _, f := range res.Findings {
			if !found || f.Severity > maxSev {
				maxSev, found = f.Severity, true
			}
		}
	}
	return maxSev, found
}

// Incomplete counts the results whose audit is incomplete (see
// finding.Status.Complete), for --fail-on-incomplete.
func Incomplete(r Report) int {
	n := 0
	for _, res := range r.Results {
		if incomplete(res) {
			n++
		}
	}
	return n
}

// normalize returns a copy of r that every writer can rely on: results in a
// stable order, findings sorted and never nil, each finding's target filled
// in from its result when the check left it empty. The caller's slices are
// not touched.
func normalize(r Report) Report {
	results := make([]Result, len(r.Results))
	for i, res := range r.Results {
		fs := make([]finding.Finding, len(res.Findings))
		for j, f := range res.Findings {
			if f.Target == (finding.Target{}) {
				f.Target = res.Target
			}
			fs[j] = f
		}
		slices.SortStableFunc(fs, func(a, b finding.Finding) int {
			switch {
			case finding.Less(a, b):
				return -1
			case finding.Less(b, a):
				return 1
			}
			return 0
		})
		res.Findings = fs
		res.Status = res.State()
		results[i] = res
	}
	slices.SortStableFunc(results, func(a, b Result) int { return compareTargets(a.Target, b.Target) })
	r.Results = results
	return r
}

// compareTargets orders network targets before files, addresses
// numerically (IPv4 before IPv6) and before names, then by port; files by
// path, then line.
func compareTargets(a, b finding.Target) int {
	aFile, bFile := a.File != "", b.File != ""
	if aFile != bFile {
		if aFile {
			return 1
		}
		return -1
	}
	if aFile {
		return cmp.Or(strings.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line))
	}
	ha, hb := hostOf(a), hostOf(b)
	aa, aErr := netip.ParseAddr(ha)
	ab, bErr := netip.ParseAddr(hb)
	var c int
	switch {
	case aErr == nil && bErr == nil:
		c = aa.Compare(ab)
	case aErr == nil:
		c = -1
	case bErr == nil:
		c = 1
	default:
		c = strings.Compare(ha, hb)
	}
	return cmp.Or(c, cmp.Compare(a.Port, b.Port), strings.Compare(a.Host, b.Host))
}

// hostOf is the address a network target was reached at, or its name when
// no address was recorded.
func hostOf(t finding.Target) string {
	if t.Address != "" {
		return t.Address
	}
	return t.Host
}

// targetLabel names a target for a person: "192.0.2.10:21 (ftp.example.net)"
// when the name given differs from the address connected to.
func targetLabel(t finding.Target) string {
	s := t.String()
	if t.File == "" && t.Host != "" && t.Address != "" && t.Host != t.Address {
		s += " (" + t.Host + ")"
	}
	if s == "" {
		s = "(unnamed target)"
	}
	return s
}

// hostLabel names the machine a target is on, for the by-host summary:
// its name when one was given, else its address, else the file.
func hostLabel(t finding.Target) string {
	switch {
	case t.File != "":
		return t.File
	case t.Host != "":
		return t.Host
	case t.Address != "":
		return t.Address
	}
	return "(unnamed target)"
}

// serviceLabel describes a service in a few words: "vsftpd 2.3.4".
func serviceLabel(s *finding.Service) string {
	if s == nil {
		return ""
	}
	if s.Version == "" && s.VersionRange != "" && s.Product != "" {
		return s.Product + " " + s.VersionRange
	}
	return strings.TrimSpace(s.Product + " " + s.Version)
}

// severities lists the severities most severe first, the order reports
// show them in.
func severities() []finding.Severity {
	return []finding.Severity{finding.Critical, finding.High, finding.Medium, finding.Low, finding.Info}
}
