package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/port21/port21/internal/finding"
)

// TestJSONEscapesInvisible checks that C1 controls and bidirectional
// overrides from the network reach no JSON format raw, and that the text
// decodes back unchanged.
func TestJSONEscapesInvisible(t *testing.T) {
	const hostile = "dir\u009b31m\u202etxt.exe\u2066x\u200b"
	rep := Report{Tool: "port21 scan", Results: []Result{{
		Target:   finding.Target{Host: "192.0.2.1", Address: "192.0.2.1", Port: 21},
		Findings: []finding.Finding{{ID: "anonymous-login", Title: "t", Evidence: []finding.Evidence{{Note: hostile}}}},
	}}}
	for _, f := range []Format{JSON, JSONL, SARIF} {
		t.Run(string(f), func(t *testing.T) {
			var b bytes.Buffer
			if err := Write(&b, f, rep, Options{}); err != nil {
				t.Fatal(err)
			}
			for _, r := range b.String() {
				if invisible(r) {
					t.Fatalf("raw U+%04X in %s output", r, f)
				}
			}
			if !strings.Contains(b.String(), `\u009b`) || !strings.Contains(b.String(), `\u202e`) {
				t.Errorf("%s output lacks the escapes:\n%s", f, b.String())
			}
			line, _, _ := strings.Cut(b.String(), "\n")
			if f != JSONL {
				line = b.String()
			}
			var v any
			if err := json.Unmarshal([]byte(line), &v); err != nil {
				t.Fatalf("%s output is not JSON: %v", f, err)
			}
			if !strings.Contains(mustMarshalRaw(v), hostile) {
				t.Errorf("%s: the note did not decode back to the original text", f)
			}
		})
	}
}

// mustMarshalRaw flattens a decoded JSON value's strings.
func mustMarshalRaw(v any) string {
	var b strings.Builder
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case string:
			b.WriteString(x + "\n")
		case []any:
			for _, e := range x {
				walk(e)
			}
		case map[string]any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
	return b.String()
}
