package ftp

import (
	"strings"
	"testing"
	"time"
)

// Names with terminal escapes must never reach a client raw: an ESC or a
// C1 CSI in a listing would be run by the client's terminal.
func TestListingEscapesControlCharacters(t *testing.T) {
	names := []struct{ in, want string }{
		{"evil\x1b[31mred", "evil?[31mred"},
		{"bell\x07", "bell?"},
		{"del\x7f", "del?"},
		{"csi\u009b2J", "csi?2J"},
		{"raw\x9b2J", "raw?2J"},
		{"tab\tx", "tab?x"},
		{"café \u00a0ok", "café \u00a0ok"},
		{"latin1\xe9", "latin1\xe9"},
	}
	now := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	for _, n := range names {
		line := ListLine(ListEntry{Name: n.in, Mode: 0o644, ModTime: now}, now)
		if !strings.HasSuffix(line, " "+n.want) {
			t.Errorf("ListLine(%q) = %q, want name %q", n.in, line, n.want)
		}
		fact := Facts{Type: "file", Name: n.in}.Format(FactType)
		if fact != "type=file; "+n.want {
			t.Errorf("Facts.Format(%q) = %q, want name %q", n.in, fact, n.want)
		}
		if got := string(AppendName(nil, n.in)); got != n.want {
			t.Errorf("AppendName(%q) = %q, want %q", n.in, got, n.want)
		}
	}
}
