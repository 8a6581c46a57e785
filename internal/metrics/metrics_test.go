package metrics

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/port21/port21/internal/audit"
)

func TestExposition(t *testing.T) {
	m := New()
	for _, e := range []audit.Event{
		audit.Connect{}, audit.Connect{}, audit.Disconnect{Reason: "closed"},
		audit.Login{}, audit.LoginFailed{}, audit.LoginFailed{},
		audit.Ban{Reason: "failed logins", Source: "defender"},
		audit.Refused{Stage: audit.StageUpload, Reason: "quota"},
		audit.TLS{Channel: audit.ChannelData, Version: "TLS 1.3", Resumed: true},
		audit.Transfer{Op: "RETR", Bytes: 1000, Complete: true, Duration: 3 * time.Second},
		audit.Transfer{Op: "STOR", Upload: true, Bytes: 10},
	} {
		m.Observe(e)
	}
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{
		"port21_sessions 1",
		"port21_connections_total 2",
		`port21_logins_total{result="ok"} 1`,
		`port21_logins_total{result="failed"} 2`,
		`port21_bans_total{reason="failed logins",source="defender"} 1`,
		`port21_refusals_total{reason="quota",stage="upload"} 1`,
		`port21_tls_handshakes_total{channel="data",resumed="yes",version="TLS 1.3"} 1`,
		`port21_transfers_total{op="RETR",result="ok"} 1`,
		`port21_transfers_total{op="STOR",result="failed"} 1`,
		`port21_transfer_bytes_total{direction="out"} 1000`,
		`port21_transfer_bytes_total{direction="in"} 10`,
		`port21_transfer_duration_seconds_bucket{op="RETR",le="2.56"} 0`,
		`port21_transfer_duration_seconds_bucket{op="RETR",le="10.24"} 1`,
		`port21_transfer_duration_seconds_count{op="RETR"} 1`,
		"go_goroutines",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

func TestHealth(t *testing.T) {
	serving := false
	h := Health(func() bool { return serving })
	for _, want := range []int{503, 200} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
		if rec.Code != want {
			t.Errorf("serving=%v: /healthz %d, want %d", serving, rec.Code, want)
		}
		serving = true
	}
}
