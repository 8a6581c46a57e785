package finding

import (
	"encoding/json"
	"testing"
)

func TestSeverityJSON(t *testing.T) {
	for s := Info; s <= Critical; s++ {
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		var back Severity
		if err := json.Unmarshal(b, &back); err != nil || back != s {
			t.Errorf("%s: round trip gave %v, %v", b, back, err)
		}
	}
	if _, err := ParseSeverity("severe"); err == nil {
		t.Error("unknown severity accepted")
	}
}

func TestTargetString(t *testing.T) {
	for _, tc := range []struct {
		t    Target
		want string
	}{
		{Target{Host: "ftp.example", Address: "192.0.2.1", Port: 21}, "192.0.2.1:21"},
		{Target{Address: "2001:db8::1", Port: 990}, "[2001:db8::1]:990"},
		{Target{File: "/etc/vsftpd.conf", Line: 12}, "/etc/vsftpd.conf:12"},
		{Target{Host: "ftp.example"}, "ftp.example"},
	} {
		if got := tc.t.String(); got != tc.want {
			t.Errorf("%+v: got %q, want %q", tc.t, got, tc.want)
		}
	}
}

func TestLess(t *testing.T) {
	a := Finding{ID: "b", Severity: High}
	b := Finding{ID: "a", Severity: Low}
	c := Finding{ID: "a", Severity: High}
	if !Less(a, b) || !Less(c, a) || Less(b, c) {
		t.Error("order is not severity desc, then id")
	}
}
