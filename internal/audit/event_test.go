package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestEventsDocumented keeps EVENTS.md in step with the events: every
// event has a section, and the section's table lists exactly its fields,
// in order.
func TestEventsDocumented(t *testing.T) {
	doc, err := os.ReadFile("EVENTS.md")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string][]string{}
	var current string
	field := regexp.MustCompile("^\\| `([a-z_]+)` \\|")
	for line := range strings.SplitSeq(string(doc), "\n") {
		if name, ok := strings.CutPrefix(line, "### "); ok {
			current = name
			documented[current] = []string{}
			continue
		}
		if m := field.FindStringSubmatch(line); m != nil && current != "" {
			documented[current] = append(documented[current], m[1])
		}
	}
	seen := map[string]bool{}
	for _, e := range Examples() {
		seen[e.Name()] = true
		var keys []string
		for _, a := range e.Attrs() {
			keys = append(keys, a.Key)
		}
		got, ok := documented[e.Name()]
		if !ok {
			t.Errorf("event %q has no section in EVENTS.md", e.Name())
			continue
		}
		if !slices.Equal(got, keys) {
			t.Errorf("EVENTS.md lists %s's fields as %q; the event has %q", e.Name(), got, keys)
		}
	}
	for name := range documented {
		if !seen[name] {
			t.Errorf("EVENTS.md documents %q, which is not an event", name)
		}
	}
}

type recorder struct{ got []Event }

func (r *recorder) Observe(e Event) { r.got = append(r.got, e) }

// TestSink: the event is logged under its name with its fields, handed to
// the observers, and only file transfers reach the xferlog.
func TestSink(t *testing.T) {
	var logBuf, xfer bytes.Buffer
	obs := &recorder{}
	sink := NewSink(&Xferlog{W: &xfer}, obs)
	log := slog.New(slog.NewJSONHandler(&logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	start := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	sink.Emit(context.Background(), log, Transfer{Op: "LIST", Path: "/", Start: start})
	sink.Emit(context.Background(), log, Transfer{Op: "RETR", Path: "/a\nforged", Start: start, Bytes: 3, Complete: true, User: "alice"})
	sink.Emit(context.Background(), log, LoginFailed{User: "root", Reason: "unknown user"})
	if len(obs.got) != 3 {
		t.Fatalf("observer got %d events, want 3", len(obs.got))
	}
	if n := strings.Count(xfer.String(), "\n"); n != 1 || !strings.Contains(xfer.String(), `/a\x0aforged`) {
		t.Errorf("xferlog %q: want one escaped line for RETR only", xfer.String())
	}
	lines := strings.Split(strings.TrimSpace(logBuf.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("log has %d lines, want 3:\n%s", len(lines), logBuf.String())
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(lines[2]), &rec); err != nil {
		t.Fatal(err)
	}
	if rec["msg"] != "login-failed" || rec["user"] != "root" || rec["reason"] != "unknown user" || rec["level"] != "WARN" {
		t.Errorf("login-failed record %v", rec)
	}
	var nilSink *Sink
	nilSink.Emit(context.Background(), log, Connect{}) // logs, and does not panic
}
