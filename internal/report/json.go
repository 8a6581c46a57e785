package report

import (
	"encoding/json"
	"io"
	"time"

	"github.com/port21/port21/internal/finding"
)

// SchemaVersion is the version of the JSON and JSON Lines shapes described
// in SCHEMA.md. It changes only when a field is removed or changes meaning;
// new fields may appear without a change, so consumers should ignore fields
// they do not know.
const SchemaVersion = 1

// jsonDocument is the JSON format: the Report, plus a summary so that a
// consumer need not count, plus the schema version.
type jsonDocument struct {
	SchemaVersion int       `json:"schema_version"`
	Tool          string    `json:"tool"`
	Started       time.Time `json:"started"`
	Finished      time.Time `json:"finished"`
	Inputs        []string  `json:"inputs,omitempty"`
	Partial       bool      `json:"partial,omitempty"`
	Note          string    `json:"note,omitempty"`
	Summary       Summary   `json:"summary"`
	Results       []Result  `json:"results"`
}

func writeJSON(w io.Writer, r Report) error {
	doc := jsonDocument{
		SchemaVersion: SchemaVersion,
		Tool:          r.Tool,
		Started:       r.Started,
		Finished:      r.Finished,
		Inputs:        r.Inputs,
		Partial:       r.Partial,
		Note:          r.Note,
		Summary:       Summarize(r),
		Results:       jsonResults(r.Results),
	}
	enc := json.NewEncoder(jsonSafe(w))
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

// jsonResults makes every nil Findings an empty one, so JSON says [] and a
// consumer can iterate without a null check.
func jsonResults(rs []Result) []Result {
	out := make([]Result, len(rs))
	for i, res := range rs {
		if res.Findings == nil {
			res.Findings = []finding.Finding{}
		}
		out[i] = res
	}
	return out
}

// jsonlResult is one line of JSON Lines for a finished target.
type jsonlResult struct {
	Type string `json:"type"` // "result"
	Result
}

// jsonlSummary is the last line of JSON Lines.
type jsonlSummary struct {
	Type          string    `json:"type"` // "summary"
	SchemaVersion int       `json:"schema_version"`
	Tool          string    `json:"tool"`
	Started       time.Time `json:"started"`
	Finished      time.Time `json:"finished"`
	Inputs        []string  `json:"inputs,omitempty"`
	Partial       bool      `json:"partial,omitempty"`
	Note          string    `json:"note,omitempty"`
	Summary       Summary   `json:"summary"`
}

func writeJSONL(w io.Writer, r Report) error {
	var sum summarizer
	enc := json.NewEncoder(jsonSafe(w))
	for _, res := range r.Results {
		if err := writeJSONLResult(enc, res); err != nil {
			return err
		}
		sum.add(res)
	}
	return writeJSONLSummary(enc, r, sum.summary())
}

// writeJSONLResult writes one result line. The Encoder writes the line in
// one Write call, so lines from one stream never interleave.
func writeJSONLResult(enc *json.Encoder, res Result) error {
	if res.Findings == nil {
		res.Findings = []finding.Finding{}
	}
	res.Status = res.State()
	return enc.Encode(jsonlResult{Type: "result", Result: res})
}

func writeJSONLSummary(enc *json.Encoder, r Report, s Summary) error {
	return enc.Encode(jsonlSummary{
		Type:          "summary",
		SchemaVersion: SchemaVersion,
		Tool:          r.Tool,
		Started:       r.Started,
		Finished:      r.Finished,
		Inputs:        r.Inputs,
		Partial:       r.Partial,
		Note:          r.Note,
		Summary:       s,
	})
}
