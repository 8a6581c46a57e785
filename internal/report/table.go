package report

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/jedib0t/go-pretty/v6/table"
	"github.com/jedib0t/go-pretty/v6/text"

	"github.com/port21/port21/internal/finding"
)

// The table fits a 100-column terminal: severity, id and a title column
// that wraps.
const (
	tableWidth    = 100
	sevColWidth   = 8
	idColWidth    = 24
	titleColWidth = tableWidth - sevColWidth - idColWidth - 10 // borders and padding
	// headWidth is the most a target's row, merged across the three
	// columns, can hold before go-pretty widens the table: it gives a
	// merged cell the columns' widths but not all of their padding.
	headWidth    = tableWidth - 8
	fixIDWidth   = idColWidth
	fixTextWidth = tableWidth - fixIDWidth - 4
)

// painter colours text, or leaves it alone when colour is off. It writes
// the escape sequences itself rather than through go-pretty's Color.Sprint,
// which consults a package-wide switch set from the environment: here the
// caller alone decides.
type painter bool

// paint colours each line of s on its own, so that a wrapped cell never
// leaves a colour open across the table's borders.
func (p painter) paint(s string, c text.Colors) string {
	if !p || s == "" {
		return s
	}
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = text.Escape(l, c.EscapeSeq())
		}
	}
	return strings.Join(lines, "\n")
}

// severityColors is how a terminal shows each severity: the worst on a red
// background, so it is seen first.
func severityColors(s finding.Severity) text.Colors {
	switch s {
	case finding.Critical:
		return text.Colors{text.Bold, text.FgHiWhite, text.BgRed}
	case finding.High:
		return text.Colors{text.Bold, text.FgHiRed}
	case finding.Medium:
		return text.Colors{text.FgYellow}
	case finding.Low:
		return text.Colors{text.FgCyan}
	}
	return text.Colors{text.FgHiBlack}
}

// Colours for the rest of the table.
var (
	errorColors  = text.Colors{text.Bold, text.FgMagenta}
	targetColors = text.Colors{text.Bold}
	dimColors    = text.Colors{text.FgHiBlack}
)

// severity names s in capitals, coloured; a severity outside the known
// range (a zero-filled or corrupt finding) is still shown, wrapped to fit.
func (p painter) severity(s finding.Severity) string {
	return p.paint(wrap(strings.ToUpper(s.String()), sevColWidth, true), severityColors(s))
}

// writeTable writes one table with a section per target (its address or
// file and the service found there, then a row per finding), then the fix
// for each finding id, then a line of totals. Everything that came from a
// target goes through oneLine, so a hostile banner cannot move the cursor,
// change colours or fake rows.
func writeTable(w io.Writer, r Report, opts Options) error {
	p := painter(opts.Color)
	var b strings.Builder

	if len(r.Results) > 0 {
		t := table.NewWriter()
		t.SetStyle(tableStyle())
		t.SetColumnConfigs([]table.ColumnConfig{
			{Number: 1, WidthMin: sevColWidth},
			{Number: 2, WidthMin: idColWidth},
			{Number: 3, WidthMin: titleColWidth},
		})
		t.AppendHeader(table.Row{"SEVERITY", "ID", "TITLE"})
		for i, res := range r.Results {
			if i > 0 {
				t.AppendSeparator()
			}
			head := oneLine(targetLabel(res.Target))
			if svc := tableService(res.Service); svc != "" {
				head += " · " + svc
			}
			head = p.paint(wrap(head, headWidth, true), targetColors)
			t.AppendRow(table.Row{head, head, head}, table.RowConfig{AutoMerge: true, AutoMergeAlign: text.AlignLeft})
			t.AppendSeparator()
			for _, f := range res.Findings {
				title := oneLine(f.Title)
				if where := findingWhere(f.Target, res.Target); where != "" {
					title += " (" + oneLine(where) + ")"
				}
				t.AppendRow(table.Row{p.severity(f.Severity), wrap(oneLine(f.ID), idColWidth, true), wrap(title, titleColWidth, false)})
			}
			if incomplete(res) {
				why := "audit incomplete (" + string(res.State()) + ")"
				if res.Error != "" {
					why += ": " + oneLine(res.Error)
				}
				t.AppendRow(table.Row{p.paint("ERROR", errorColors), "", wrap(why, titleColWidth, false)})
			} else if len(res.Findings) == 0 {
				t.AppendRow(table.Row{"", "", p.paint("no findings", dimColors)})
			}
		}
		b.WriteString(t.Render())
		b.WriteString("\n")
	} else {
		b.WriteString("No targets were audited.\n")
	}

	if fixes := tableFixes(r, p); fixes != "" {
		b.WriteString("\nHow to fix\n")
		b.WriteString(fixes)
		b.WriteString("\n")
	}
	b.WriteString("\n")
	b.WriteString(tableTotals(Summarize(r), p))
	if r.Partial {
		b.WriteString("\n" + p.paint("PARTIAL REPORT: "+oneLine(cmpOr(r.Note, "the run was stopped before every target was audited")), errorColors))
	}
	b.WriteString("\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// findingWhere says where a finding is when that is more precise than its
// result's target: "line 31" in a config file, or another target entirely.
func findingWhere(f, res finding.Target) string {
	switch {
	case f == res:
		return ""
	case f.File != "" && f.File == res.File && f.Line > 0:
		return fmt.Sprintf("line %d", f.Line)
	}
	return f.String()
}

// tableStyle is go-pretty's light box style without colour options.
func tableStyle() table.Style {
	s := table.StyleLight
	s.Name = "port21"
	s.Options.SeparateRows = false
	s.Format.Header = text.FormatDefault
	return s
}

// tableService describes the service on a target's line: product and
// version, TLS mode, and how sure the fingerprint is when it is a guess.
func tableService(s *finding.Service) string {
	if s == nil {
		return ""
	}
	parts := []string{}
	if l := serviceLabel(s); l != "" {
		parts = append(parts, oneLine(l))
	}
	if s.TLS != "" {
		parts = append(parts, oneLine(s.TLS)+" TLS")
	}
	if s.Confidence > 0 && s.Confidence < 100 && len(parts) > 0 {
		parts[0] += fmt.Sprintf(" (%d%% sure%s)", s.Confidence, cluesFrom(s.Clues))
	}
	return strings.Join(parts, ", ")
}

// cluesFrom names the replies a fingerprint rests on ("from banner,
// user"), from the clues' leading field names.
func cluesFrom(clues []string) string {
	var fields []string
	for _, c := range clues {
		f, _, ok := strings.Cut(c, " matches ")
		if ok && !slices.Contains(fields, f) {
			fields = append(fields, f)
		}
	}
	if len(fields) == 0 {
		return ""
	}
	return ", from " + strings.Join(fields, ", ")
}

// tableFixes lists each finding id's fix once, in the order of first
// appearance (most severe first within each target). An id whose findings
// carry different fix summaries, such as one per product, lists each.
func tableFixes(r Report, p painter) string {
	type key struct{ id, summary string }
	seen := map[key]bool{}
	t := table.NewWriter()
	s := table.StyleLight
	s.Options = table.Options{}
	s.Box.PaddingLeft = ""
	s.Box.PaddingRight = "  "
	t.SetStyle(s)
	for _, res := range r.Results {
		for _, f := range res.Findings {
			k := key{f.ID, f.Fix.Summary}
			if seen[k] || f.Fix.Summary == "" {
				continue
			}
			seen[k] = true
			id := "  " + strings.ReplaceAll(wrap(oneLine(f.ID), fixIDWidth-2, true), "\n", "\n  ")
			t.AppendRow(table.Row{id, wrap(oneLine(f.Fix.Summary), fixTextWidth, false)})
		}
	}
	if t.Length() == 0 {
		return ""
	}
	t.SuppressTrailingSpaces()
	return t.Render()
}

// tableTotals is the last line: findings by severity, targets audited and
// targets whose audit is incomplete.
func tableTotals(s Summary, p painter) string {
	var parts []string
	for _, sev := range severities() {
		n := s.BySeverity.Get(sev)
		part := fmt.Sprintf("%d %s", n, sev)
		if n > 0 {
			part = p.paint(part, severityColors(sev))
		}
		parts = append(parts, part)
	}
	line := fmt.Sprintf("%d %s: %s. %d %s audited",
		s.Findings, plural(s.Findings, "finding", "findings"), strings.Join(parts, ", "),
		s.Targets, plural(s.Targets, "target", "targets"))
	if s.TargetsWithErrors > 0 {
		line += ", " + p.paint(fmt.Sprintf("%d incomplete", s.TargetsWithErrors), errorColors)
	} else {
		line += ", none incomplete"
	}
	return line + "."
}

// wrap breaks s into lines of at most width terminal columns, between
// words when soft (titles) or anywhere when hard (ids and addresses, which
// have no spaces to break at); a soft wrap still cuts a word longer than a
// line. Widths are counted as go-pretty counts them, East Asian wide
// characters as two columns, and a wide character never straddles the
// edge. The table is laid out from text that already fits, so go-pretty
// never has to cut a cell, merged rows included.
func wrap(s string, width int, hard bool) string {
	if text.StringWidthWithoutEscSequences(s) <= width {
		return s
	}
	var (
		lines []string
		line  strings.Builder
		w     int
	)
	flush := func() {
		l := line.String()
		if !hard {
			l = strings.TrimRight(l, " ")
		}
		lines = append(lines, l)
		line.Reset()
		w = 0
	}
	put := func(word string) {
		for _, r := range word {
			rw := text.RuneWidth(r)
			if w+rw > width && w > 0 {
				flush()
			}
			line.WriteRune(r)
			w += rw
		}
	}
	if hard {
		put(s)
		flush()
		return strings.Join(lines, "\n")
	}
	for word := range strings.SplitSeq(s, " ") {
		ww := text.StringWidthWithoutEscSequences(word)
		switch {
		case w == 0 && ww <= width:
			line.WriteString(word)
			w = ww
		case w+1+ww <= width:
			line.WriteByte(' ')
			line.WriteString(word)
			w += 1 + ww
		case ww <= width:
			flush()
			line.WriteString(word)
			w = ww
		default:
			if w > 0 {
				line.WriteByte(' ')
				w++
			}
			put(word)
		}
	}
	flush()
	return strings.Join(lines, "\n")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
