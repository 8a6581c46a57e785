package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"go/parser"
	"go/token"
	"io"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/port21/port21/internal/finding"
)

func TestPackageDoc(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "report.go", nil, parser.ParseComments|parser.PackageClauseOnly)
	if err != nil {
		t.Fatal(err)
	}
	if f.Doc == nil || !strings.HasPrefix(f.Doc.Text(), "Package report ") {
		t.Error("report.go has no package doc comment starting \"Package report \"")
	}
}

func TestParseFormat(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    Format
		wantErr bool
	}{
		{"table", Table, false},
		{"json", JSON, false},
		{"jsonl", JSONL, false},
		{"sarif", SARIF, false},
		{"csv", CSV, false},
		{"html", HTML, false},
		{" JSON ", JSON, false},
		{"Sarif", SARIF, false},
		{"", "", true},
		{"xml", "", true},
		{"json\x00", "", true},
	} {
		got, err := ParseFormat(tc.in)
		if tc.wantErr {
			if !errors.Is(err, ErrUnknownFormat) {
				t.Errorf("ParseFormat(%q) error = %v, want ErrUnknownFormat", tc.in, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseFormat(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, f := range Formats() {
		if got, err := ParseFormat(string(f)); err != nil || got != f {
			t.Errorf("ParseFormat(%q) = %q, %v", f, got, err)
		}
	}
}

func TestUnknownFormat(t *testing.T) {
	if err := Write(io.Discard, "xml", Report{}, Options{}); !errors.Is(err, ErrUnknownFormat) {
		t.Errorf("Write(xml) = %v, want ErrUnknownFormat", err)
	}
	if _, err := NewStream(io.Discard, "xml", Options{}); !errors.Is(err, ErrUnknownFormat) {
		t.Errorf("NewStream(xml) = %v, want ErrUnknownFormat", err)
	}
}

func TestMaxSeverity(t *testing.T) {
	res := func(sevs ...finding.Severity) Result {
		var r Result
		for _, s := range sevs {
			r.Findings = append(r.Findings, finding.Finding{ID: "x", Severity: s})
		}
		return r
	}
	for _, tc := range []struct {
		name    string
		results []Result
		want    finding.Severity
		ok      bool
	}{
		{"empty", nil, finding.Info, false},
		{"no findings", []Result{res(), {Error: "timeout"}}, finding.Info, false},
		{"only info", []Result{res(finding.Info)}, finding.Info, true},
		{"mixed", []Result{res(finding.Low), res(finding.High, finding.Medium), res()}, finding.High, true},
		{"critical last", []Result{res(finding.Info), res(finding.Critical)}, finding.Critical, true},
	} {
		got, ok := MaxSeverity(Report{Results: tc.results})
		if got != tc.want || ok != tc.ok {
			t.Errorf("%s: MaxSeverity = %v, %v; want %v, %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
	if got, ok := MaxSeverity(loadSample(t)); got != finding.Critical || !ok {
		t.Errorf("MaxSeverity(sample) = %v, %v", got, ok)
	}
}

func TestSummarize(t *testing.T) {
	s := Summarize(normalize(loadSample(t)))
	want := SeverityCounts{Critical: 2, High: 3, Medium: 3, Low: 2, Info: 1}
	if s.BySeverity != want || s.Findings != 11 || s.Targets != 5 || s.TargetsWithErrors != 1 {
		t.Errorf("Summarize(sample) = %+v", s)
	}
	if len(s.ByTarget) != 5 {
		t.Fatalf("ByTarget has %d entries, want 5", len(s.ByTarget))
	}
	first := s.ByTarget[0]
	if first.Target.Address != "192.0.2.10" || first.Findings != 5 || first.MaxSeverity == nil || *first.MaxSeverity != finding.Critical {
		t.Errorf("ByTarget[0] = %+v", first)
	}
	if s.ByTarget[1].MaxSeverity != nil {
		t.Errorf("a clean target has max severity %v", *s.ByTarget[1].MaxSeverity)
	}
	if got := Summarize(Report{}); got.ByTarget == nil || got.Targets != 0 {
		t.Errorf("Summarize(empty) = %+v, want ByTarget [] ", got)
	}
}

func TestOrder(t *testing.T) {
	r := normalize(loadSample(t))
	var got []string
	for _, res := range r.Results {
		got = append(got, res.Target.String())
	}
	want := []string{"192.0.2.10:21", "198.51.100.5:21", "203.0.113.7:2121", "[2001:db8::21]:990", "/etc/vsftpd.conf"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("targets in order %q, want %q", got, want)
	}
	for _, res := range r.Results {
		for i := 1; i < len(res.Findings); i++ {
			if finding.Less(res.Findings[i], res.Findings[i-1]) {
				t.Errorf("%s: findings out of order: %s before %s", res.Target, res.Findings[i-1].ID, res.Findings[i].ID)
			}
		}
	}

	names := normalize(Report{Results: []Result{
		{Target: finding.Target{Host: "b.example", Port: 21}},
		{Target: finding.Target{Host: "a.example", Port: 21}},
		{Target: finding.Target{Address: "192.0.2.9", Port: 21}},
		{Target: finding.Target{Address: "192.0.2.10", Port: 990}},
		{Target: finding.Target{Address: "192.0.2.10", Port: 21}},
		{Target: finding.Target{File: "/b.conf"}},
		{Target: finding.Target{File: "/a.conf"}},
	}})
	got = got[:0]
	for _, res := range names.Results {
		got = append(got, res.Target.String())
	}
	want = []string{"192.0.2.9:21", "192.0.2.10:21", "192.0.2.10:990", "a.example:21", "b.example:21", "/a.conf", "/b.conf"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("targets in order %q, want %q", got, want)
	}
}

// TestWriteLeavesReportAlone checks that no format sorts or fills in the
// caller's slices.
func TestWriteLeavesReportAlone(t *testing.T) {
	r := loadSample(t)
	r.Results[2].Findings[0].Target = finding.Target{} // to be filled in from the result
	before, _ := json.Marshal(r)
	for _, f := range Formats() {
		if err := Write(io.Discard, f, r, Options{Color: true}); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if after, _ := json.Marshal(r); !bytes.Equal(before, after) {
			t.Fatalf("Write(%s) modified the report", f)
		}
	}
}

func TestEmptyReport(t *testing.T) {
	for _, f := range Formats() {
		var b bytes.Buffer
		if err := Write(&b, f, Report{Tool: "port21 local"}, Options{}); err != nil {
			t.Errorf("%s: %v", f, err)
		}
		if b.Len() == 0 {
			t.Errorf("%s: empty report wrote nothing", f)
		}
	}
	var doc map[string]any
	var b bytes.Buffer
	if err := Write(&b, JSON, Report{}, Options{}); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if res, ok := doc["results"].([]any); !ok || len(res) != 0 {
		t.Errorf("empty report: results = %#v, want []", doc["results"])
	}
}

// TestJSONRoundTrip checks that the JSON document decodes back into the
// Report it came from (sorted), and that findings are [] rather than null.
func TestJSONRoundTrip(t *testing.T) {
	r := loadSample(t)
	r.Results = append(r.Results, Result{Target: finding.Target{Address: "192.0.2.99", Port: 21}, Error: "refused"})
	var b bytes.Buffer
	if err := Write(&b, JSON, r, Options{}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), `"findings": null`) {
		t.Error(`JSON has "findings": null`)
	}
	var back Report
	if err := json.Unmarshal(b.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	want := normalize(r)
	for i := range want.Results {
		if want.Results[i].Findings == nil {
			want.Results[i].Findings = []finding.Finding{}
		}
	}
	if !reflect.DeepEqual(back.Results, want.Results) || back.Tool != r.Tool || !back.Started.Equal(r.Started) {
		t.Error("JSON did not decode back to the report")
	}
}

// TestSchemaDocumented checks that every key the JSON and JSON Lines
// formats write is named in SCHEMA.md, so the document cannot fall behind
// the code.
func TestSchemaDocumented(t *testing.T) {
	doc, err := readFile("SCHEMA.md")
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	r := loadSample(t)
	for _, f := range []Format{JSON, JSONL} {
		var b bytes.Buffer
		if err := Write(&b, f, r, Options{}); err != nil {
			t.Fatal(err)
		}
		dec := json.NewDecoder(&b)
		for dec.More() {
			var v any
			if err := dec.Decode(&v); err != nil {
				t.Fatal(err)
			}
			collectKeys(v, keys, false)
		}
	}
	for k := range keys {
		if !strings.Contains(doc, "`"+k+"`") {
			t.Errorf("SCHEMA.md does not document the key %q", k)
		}
	}
}

// collectKeys gathers object keys, except those of a fix's config map,
// whose keys are product names rather than schema.
func collectKeys(v any, keys map[string]bool, productMap bool) {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if !productMap {
				keys[k] = true
			}
			collectKeys(e, keys, k == "config")
		}
	case []any:
		for _, e := range v {
			collectKeys(e, keys, false)
		}
	}
}

// TestStream checks that each format streamed gives what Write gives,
// whichever way the caller hands the results over.
func TestStream(t *testing.T) {
	sample := normalize(loadSample(t))
	meta := sample
	meta.Results = nil
	for _, f := range Formats() {
		var want bytes.Buffer
		if err := Write(&want, f, sample, Options{}); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name  string
			add   bool
			close Report
		}{
			{"add, close with metadata", true, meta},
			{"add, close with results too", true, sample},
			{"close with results", false, sample},
		} {
			var got bytes.Buffer
			s, err := NewStream(&got, f, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if tc.add {
				for _, res := range sample.Results {
					if err := s.Add(res); err != nil {
						t.Fatal(err)
					}
				}
			}
			if err := s.Close(tc.close); err != nil {
				t.Fatal(err)
			}
			if got.String() != want.String() {
				t.Errorf("%s, %s: stream differs from Write:\n%s", f, tc.name, firstDiff(want.Bytes(), got.Bytes()))
			}
			if err := s.Add(Result{}); !errors.Is(err, ErrClosed) {
				t.Errorf("%s: Add after Close = %v, want ErrClosed", f, err)
			}
			if err := s.Close(meta); !errors.Is(err, ErrClosed) {
				t.Errorf("%s: Close twice = %v, want ErrClosed", f, err)
			}
		}
	}
}

// TestStreamJSONLImmediate checks that JSON Lines writes each result when it
// is added, and that the other formats wait for Close.
func TestStreamJSONLImmediate(t *testing.T) {
	sample := loadSample(t)
	for _, f := range Formats() {
		var b bytes.Buffer
		s, err := NewStream(&b, f, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for i, res := range sample.Results {
			if err := s.Add(res); err != nil {
				t.Fatal(err)
			}
			lines := strings.Count(b.String(), "\n")
			if f == JSONL && lines != i+1 {
				t.Fatalf("jsonl: %d lines after %d results", lines, i+1)
			}
			if f != JSONL && b.Len() != 0 {
				t.Fatalf("%s wrote before Close", f)
			}
		}
		if err := s.Close(Report{Tool: sample.Tool}); err != nil {
			t.Fatal(err)
		}
		if f == JSONL {
			lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
			var last struct {
				Type    string
				Summary Summary
			}
			if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil {
				t.Fatal(err)
			}
			if last.Type != "summary" || last.Summary.Findings != 11 || last.Summary.Targets != 5 {
				t.Errorf("jsonl summary line = %+v", last)
			}
		}
	}
}

func TestStreamConcurrent(t *testing.T) {
	sample := loadSample(t)
	for _, f := range []Format{JSONL, JSON} {
		var b bytes.Buffer
		s, err := NewStream(&b, f, Options{})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for range 8 {
			for _, res := range sample.Results {
				wg.Go(func() {
					if err := s.Add(res); err != nil {
						t.Error(err)
					}
				})
			}
		}
		wg.Wait()
		if err := s.Close(Report{}); err != nil {
			t.Fatal(err)
		}
		if f == JSONL {
			if n := strings.Count(b.String(), "\n"); n != 8*len(sample.Results)+1 {
				t.Errorf("jsonl: %d lines, want %d", n, 8*len(sample.Results)+1)
			}
			for line := range strings.SplitSeq(strings.TrimSpace(b.String()), "\n") {
				if !json.Valid([]byte(line)) {
					t.Fatalf("jsonl: interleaved line %q", line)
				}
			}
		}
	}
}

// failWriter fails every write, as a closed pipe does.
type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

func TestWriteError(t *testing.T) {
	sample := loadSample(t)
	for _, f := range Formats() {
		if err := Write(failWriter{}, f, sample, Options{}); err == nil || !strings.Contains(err.Error(), "broken pipe") {
			t.Errorf("%s: Write to a failing writer = %v", f, err)
		}
	}
	s, _ := NewStream(failWriter{}, JSONL, Options{})
	if err := s.Add(sample.Results[0]); err == nil {
		t.Error("jsonl: Add to a failing writer succeeded")
	}
}

func TestVisible(t *testing.T) {
	for _, tc := range []struct{ in, one, multi string }{
		{"plain text", "plain text", "plain text"},
		{"220 \x1b[31mred\x1b[0m", `220 \x1b[31mred\x1b[0m`, `220 \x1b[31mred\x1b[0m`},
		{"a\r\nb\nc\rd", `a\x0d\nb\nc\x0dd`, "a\nb\nc\nd"},
		{"tab\there", "tab here", "tab\there"},
		{"bidi \u202eevil", `bidi \u202eevil`, `bidi \u202eevil`},
		{"zero\u200bwidth", `zero\u200bwidth`, `zero\u200bwidth`},
		{"nul\x00", `nul\x00`, `nul\x00`},
		{"bad \xff utf8", `bad \xff utf8`, `bad \xff utf8`},
		{"c1 \u009b", `c1 \x9b`, `c1 \x9b`},
		{"ünïcödé 日本", "ünïcödé 日本", "ünïcödé 日本"},
		{"line\u2028sep", `line\u2028sep`, `line\u2028sep`},
	} {
		if got := oneLine(tc.in); got != tc.one {
			t.Errorf("oneLine(%q) = %q, want %q", tc.in, got, tc.one)
		}
		if got := multiLine(tc.in); got != tc.multi {
			t.Errorf("multiLine(%q) = %q, want %q", tc.in, got, tc.multi)
		}
	}
}
