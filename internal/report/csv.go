package report

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"
)

// csvHeader names the CSV columns. The order is part of the format: add
// columns at the end only.
var csvHeader = []string{
	"target", "host", "address", "port", "file", "line", "product", "version",
	"severity", "id", "title", "basis", "fix_summary", "references", "status", "error",
}

// writeCSV writes a header and one row per finding, and one row with an
// empty id for each target whose audit is incomplete, so that a target
// that could not be audited is not mistaken for a clean one. A complete
// target without findings has no row.
func writeCSV(w io.Writer, r Report) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return err
	}
	for _, res := range r.Results {
		var product, version string
		if res.Service != nil {
			product, version = res.Service.Product, res.Service.Version
		}
		for _, f := range res.Findings {
			t := f.Target
			row := []string{
				defuse(t.String()),
				defuse(t.Host),
				defuse(t.Address),
				number(t.Port),
				defuse(t.File),
				number(t.Line),
				defuse(product),
				defuse(version),
				f.Severity.String(),
				defuse(f.ID),
				defuse(f.Title),
				defuse(f.Basis),
				defuse(f.Fix.Summary),
				defuse(strings.Join(f.References, ";")),
				string(res.State()),
				defuse(oneLine(res.Error)),
			}
			if err := cw.Write(row); err != nil {
				return err
			}
		}
		if incomplete(res) {
			t := res.Target
			row := []string{
				defuse(t.String()), defuse(t.Host), defuse(t.Address), number(t.Port), defuse(t.File), number(t.Line),
				defuse(product), defuse(version), "", "", "audit incomplete", "", "", "",
				string(res.State()), defuse(oneLine(res.Error)),
			}
			if err := cw.Write(row); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// number writes a port or line, or nothing when it is unset.
func number(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}

// defuse stops a spreadsheet from running a cell as a formula (CSV
// injection). Text in a report can come from a hostile server, and Excel,
// LibreOffice and Google Sheets evaluate a cell that starts with =, +, - or
// @ (and, in some versions, a tab or carriage return before one); a leading
// apostrophe makes them show the text instead. encoding/csv quotes the rest.
func defuse(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}
