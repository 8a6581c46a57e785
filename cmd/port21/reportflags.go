package main

import (
	"fmt"

	"github.com/spf13/pflag"

	"github.com/port21/port21/internal/finding"
	"github.com/port21/port21/internal/report"
)

// reportFlags are the report flags port21 scan and port21 local share.
type reportFlags struct {
	format           string
	output           string
	failOn           string
	failOnIncomplete bool
}

// register adds the flags to f.
func (rf *reportFlags) register(f *pflag.FlagSet) {
	f.StringVar(&rf.format, "format", "table", "report format: table, json, jsonl, sarif, csv or html")
	f.StringVarP(&rf.output, "output", "o", "", "write the report to FILE instead of standard output")
	f.StringVar(&rf.failOn, "fail-on", "", "exit 2 when a finding of this severity or higher exists (info, low, medium, high, critical)")
	f.BoolVar(&rf.failOnIncomplete, "fail-on-incomplete", true, "with --fail-on, also exit 2 when a target's audit is incomplete or the run was interrupted")
}

// gate is the parsed --format and --fail-on.
type gate struct {
	format     report.Format
	failOn     finding.Severity
	enabled    bool
	incomplete bool
}

// parse checks the flags before any work is done.
func (rf *reportFlags) parse() (gate, error) {
	g := gate{incomplete: rf.failOnIncomplete}
	var err error
	if g.format, err = report.ParseFormat(rf.format); err != nil {
		return g, err
	}
	if rf.failOn != "" {
		if g.failOn, err = finding.ParseSeverity(rf.failOn); err != nil {
			return g, fmt.Errorf("--fail-on: %w", err)
		}
		g.enabled = true
	}
	return g, nil
}

// fails reports whether rep trips --fail-on: a finding at or above the
// severity, or, unless --fail-on-incomplete=false, a target whose audit is
// incomplete or a partial run, since its silence is not a clean bill.
func (g gate) fails(rep report.Report) bool {
	if !g.enabled {
		return false
	}
	if sev, ok := report.MaxSeverity(rep); ok && sev >= g.failOn {
		return true
	}
	return g.incomplete && (rep.Partial || report.Incomplete(rep) > 0)
}
