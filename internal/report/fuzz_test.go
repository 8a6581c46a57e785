package report

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/jedib0t/go-pretty/v6/text"

	"github.com/port21/port21/internal/finding"
)

// The fuzz targets feed hostile text to the writers through every field a
// target can influence and check that nothing panics and that the
// defences hold: no control characters reach the terminal, CSV parses back
// to the same cells, the HTML page stays inert.

// fuzzReport builds a report with s in every text field a target can set.
func fuzzReport(id, title, host, evidence, errText string, sev int) Report {
	tgt := finding.Target{Host: host, Address: "192.0.2.1", Port: 21}
	return Report{
		Tool:   "port21 scan",
		Inputs: []string{host},
		Results: []Result{
			{
				Target:  tgt,
				Service: &finding.Service{Product: title, Version: id, Banner: evidence, TLS: host},
				Findings: []finding.Finding{{
					ID: id, Severity: finding.Severity(sev), Title: title, Detail: evidence, Target: tgt, Basis: host,
					Evidence:   []finding.Evidence{{Sent: title, Received: evidence, Note: errText}},
					Fix:        finding.Fix{Summary: title, Config: map[string][]string{id: {evidence, title}}, Firewall: host},
					References: []string{host, evidence},
				}},
				Error: errText,
			},
			{Target: finding.Target{File: host, Line: sev}, Findings: []finding.Finding{{ID: title, Title: id}}},
		},
	}
}

func addSeeds(f *testing.F) {
	f.Add("no-tls", "The server does not offer TLS", "ftp.example.net", "220 (vsFTPd 3.0.3)", "", 3, false)
	f.Add("-x", "=1+2", "@host", "+evidence\r\nline", "\x1b[2Jerror", 4, true)
	f.Add("id\x00", "<script>alert(1)</script>", "javascript:alert(1)", "\u202eevil\u200b", "\r", 0, true)
	f.Add("", "", "", "", "", -1, false)
	f.Add("日本語のID", "タイトル\tと\nタブ", "例え.jp", "\xff\xfe", "ﾊﾝｶｸ", 9, true)
	f.Add(strings.Repeat("x", 200), strings.Repeat("word ", 60), strings.Repeat("h", 150), strings.Repeat("e\n", 50), "e", 2, false)
}

func FuzzTable(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, id, title, host, evidence, errText string, sev int, color bool) {
		var b bytes.Buffer
		if err := Write(&b, Table, fuzzReport(id, title, host, evidence, errText, sev), Options{Color: color}); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		if color {
			out = ansiSGR.ReplaceAllString(out, "")
		}
		if strings.ContainsRune(out, '\x1b') {
			t.Fatalf("table carries ESC:\n%q", out)
		}
		for _, r := range out {
			if r != '\n' && hidden(r) {
				t.Fatalf("table carries %U:\n%q", r, out)
			}
		}
		if !utf8.ValidString(out) {
			t.Fatalf("table is not valid UTF-8:\n%q", out)
		}
		// Everything but the totals line keeps to 100 columns.
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		for _, line := range lines[:len(lines)-1] {
			if w := text.StringWidthWithoutEscSequences(line); w > tableWidth {
				t.Fatalf("table line is %d columns wide:\n%s", w, line)
			}
		}
	})
}

func FuzzCSV(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, id, title, host, evidence, errText string, sev int, _ bool) {
		r := fuzzReport(id, title, host, evidence, errText, sev)
		var b bytes.Buffer
		if err := Write(&b, CSV, r, Options{}); err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(&b).ReadAll()
		if err != nil {
			t.Fatalf("CSV does not parse back: %v\n%q", err, b.String())
		}
		want := 3
		if errText != "" {
			want++ // the incomplete target's own row
		}
		if len(rows) != want {
			t.Fatalf("%d rows, want a header, two findings and a row per incomplete target", len(rows))
		}
		for _, row := range rows {
			if len(row) != len(csvHeader) {
				t.Fatalf("row has %d fields, want %d: %q", len(row), len(csvHeader), row)
			}
		}
		for i, cell := range rows[1] {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Fatalf("column %s starts with %q", csvHeader[i], cell[0])
			}
		}
		// The cells read back are the text written, less the apostrophe
		// that defuses a formula. (encoding/csv reads a quoted CRLF as LF.)
		f := normalize(r).Results[0].Findings[0]
		for col, want := range map[int]string{1: host, 9: id, 10: title, 11: host} {
			if got := rows[1][col]; got != csvRoundTrip(defuse(want)) {
				t.Fatalf("column %s = %q, want %q", csvHeader[col], got, csvRoundTrip(defuse(want)))
			}
		}
		if got := rows[1][8]; got != f.Severity.String() {
			t.Fatalf("severity %q, want %q", got, f.Severity)
		}
	})
}

// csvRoundTrip is what encoding/csv reads back for a cell it wrote: a
// carriage return before a line feed is dropped, and so is a bare one
// leading a field's last line ending.
func csvRoundTrip(s string) string {
	if s == "" {
		return s
	}
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.Write([]string{s})
	w.Flush()
	rec, err := csv.NewReader(&b).Read()
	if err != nil || len(rec) != 1 {
		return "(unreadable)"
	}
	return rec[0]
}

func FuzzHTML(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, id, title, host, evidence, errText string, sev int, _ bool) {
		var b bytes.Buffer
		if err := Write(&b, HTML, fuzzReport(id, title, host, evidence, errText, sev), Options{}); err != nil {
			t.Fatal(err)
		}
		page := b.String()
		checkSelfContained(t, page)
		for _, r := range page {
			if r != '\n' && r != '\t' && hidden(r) {
				t.Fatalf("page carries %U", r)
			}
		}
	})
}

func FuzzVisible(f *testing.F) {
	for _, s := range []string{"", "plain", "\x1b[31m", "a\r\nb\rc\n", "\u202e\u200b\ufeff", "\xff\xc3", "\u0085\u2028"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		one, multi := oneLine(s), multiLine(s)
		for _, r := range one {
			if hidden(r) {
				t.Fatalf("oneLine(%q) = %q carries %U", s, one, r)
			}
		}
		for _, r := range multi {
			if r != '\n' && r != '\t' && hidden(r) {
				t.Fatalf("multiLine(%q) = %q carries %U", s, multi, r)
			}
		}
		if !utf8.ValidString(one) || !utf8.ValidString(multi) {
			t.Fatalf("invalid UTF-8 out of %q", s)
		}
		if isPlain(s) && (one != s || multi != s) {
			t.Fatalf("plain %q changed to %q / %q", s, one, multi)
		}
	})
}
