package faults

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jlaffaye/ftp"
)

// The metrics listener answers /healthz with 200 while the server serves,
// and /metrics counts the audit events: the transfer-duration histogram,
// TLS handshakes by channel and version, refusals by stage and reason,
// logins by result. The same events are in the log under their names.
func TestHealthzAndTransferDuration(t *testing.T) {
	srv, password := start(t, t.TempDir(), "--metrics-listen", "127.0.0.1:0")
	srv.waitLog(t, "msg=metrics")
	m := regexp.MustCompile(`msg=metrics addr=(\S+)`).FindStringSubmatch(srv.logText())
	if m == nil {
		t.Fatalf("no metrics address in the log:\n%s", srv.logText())
	}
	c := srv.dial(t, password)
	if err := c.Stor("f", strings.NewReader("data")); err != nil {
		t.Fatal(err)
	}
	// A refusal: USER before AUTH TLS.
	raw, err := net.DialTimeout("tcp", srv.addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	raw.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(raw)
	r.ReadString('\n')
	fmt.Fprintf(raw, "USER port21\r\n")
	if line, _ := r.ReadString('\n'); !strings.HasPrefix(line, "530 ") {
		t.Errorf("USER in clear: %q, want 530", line)
	}
	raw.Close()
	// A failed login.
	cfg := &tls.Config{InsecureSkipVerify: true}
	if bad, err := ftp.Dial(srv.addr, ftp.DialWithExplicitTLS(cfg), ftp.DialWithTimeout(10*time.Second)); err == nil {
		if bad.Login("port21", "wrong") == nil {
			t.Error("a wrong password logged in")
		}
		bad.Quit()
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
	for _, want := range []string{
		`port21_transfer_duration_seconds_count{op="STOR"} 1`,
		`port21_tls_handshakes_total{channel="control",resumed="no",version="TLS 1.3"}`,
		`port21_tls_handshakes_total{channel="data",resumed="yes",version="TLS 1.3"} 1`,
		`port21_refusals_total{reason="cleartext",stage="login"} 1`,
		`port21_logins_total{result="failed"} 1`,
		`port21_logins_total{result="ok"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s:\n%s", want, body)
		}
	}
	for _, event := range []string{"connect", "tls", "login", "transfer", "refused", "login-failed", "disconnect"} {
		srv.waitLog(t, "msg="+event+" ")
	}
}
