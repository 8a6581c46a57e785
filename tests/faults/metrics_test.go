package faults

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The metrics listener answers /healthz with 200 while the server serves,
// and /metrics has the transfer-duration histogram.
func TestHealthzAndTransferDuration(t *testing.T) {
	srv, password := start(t, t.TempDir(), "--metrics-listen", "127.0.0.1:0")
	srv.waitLog(t, "msg=metrics")
	m := regexp.MustCompile(`msg=metrics addr=(\S+)`).FindStringSubmatch(srv.logs.String())
	if m == nil {
		t.Fatalf("no metrics address in the log:\n%s", srv.logs)
	}
	c := srv.dial(t, password)
	if err := c.Stor("f", strings.NewReader("data")); err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Timeout: 5 * time.Second}
	get := func(path string) (int, string) {
		resp, err := hc.Get("http://" + m[1] + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/healthz"); code != 200 {
		t.Errorf("/healthz: %d %q", code, body)
	}
	_, body := get("/metrics")
	if !strings.Contains(body, `port21_transfer_duration_seconds_count{op="STOR"} 1`) {
		t.Errorf("/metrics has no STOR duration:\n%s", body)
	}
}
