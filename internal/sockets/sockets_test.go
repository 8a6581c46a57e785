package sockets

import (
	"net"
	"net/netip"
	"os"
	"strconv"
	"testing"
	"time"
)

func TestReadFixture(t *testing.T) {
	s, err := read("testdata/proc", strconv.Itoa)
	if err != nil {
		t.Fatal(err)
	}
	type want struct {
		addr       string
		port       uint16
		pids       []int
		activation string
	}
	wants := []want{
		{"0.0.0.0", 21, []int{4242}, ""},
		{"::", 21, []int{4242}, ""},
		{"::1", 22, nil, ""},
		{"0.0.0.0", 990, []int{1}, "systemd"},
		{"127.0.0.1", 2117, []int{4243}, ""},
	}
	if len(s.Listeners) != len(wants) {
		t.Fatalf("got %d listeners, want %d: %+v", len(s.Listeners), len(wants), s.Listeners)
	}
	for i, w := range wants {
		l := s.Listeners[i]
		if l.Addr != netip.MustParseAddr(w.addr) || l.Port != w.port || l.Activation != w.activation {
			t.Errorf("listener %d = %v:%d %q, want %s:%d %q", i, l.Addr, l.Port, l.Activation, w.addr, w.port, w.activation)
		}
		if len(l.Processes) != len(w.pids) {
			t.Errorf("listener %d: processes %+v, want pids %v", i, l.Processes, w.pids)
			continue
		}
		for j, pid := range w.pids {
			if l.Processes[j].PID != pid {
				t.Errorf("listener %d: pid %d, want %d", i, l.Processes[j].PID, pid)
			}
		}
	}
	v := s.Listeners[0].Processes[0]
	if v.Name != "vsftpd" || v.Exe != "/usr/sbin/vsftpd" || v.User != "0" || len(v.Args) != 2 || v.Args[1] != "/etc/vsftpd/ftp1.conf" {
		t.Errorf("vsftpd process = %+v", v)
	}
	if want := time.Unix(1700000000+120, 0).UTC(); !v.Started.Equal(want) {
		t.Errorf("vsftpd started %v, want %v", v.Started, want)
	}
	if s.Listeners[4].UID != 1000 || s.Listeners[4].Processes[0].User != "1000" {
		t.Errorf("proftpd uid/user = %d %q", s.Listeners[4].UID, s.Listeners[4].Processes[0].User)
	}
}

// TestReadLive finds this test's own listener in the real /proc.
func TestReadLive(t *testing.T) {
	if _, err := os.Stat("/proc/net/tcp"); err != nil {
		t.Skip("no /proc/net/tcp (not Linux)")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := uint16(ln.Addr().(*net.TCPAddr).Port)
	s, err := Read("/proc")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range s.Listeners {
		if l.Port == port && l.Addr == netip.MustParseAddr("127.0.0.1") {
			if len(l.Processes) == 0 || l.Processes[0].PID != os.Getpid() {
				t.Errorf("own listener owned by %+v, want pid %d", l.Processes, os.Getpid())
			}
			if l.Processes[0].Started.IsZero() || time.Since(l.Processes[0].Started) < 0 {
				t.Errorf("start time %v", l.Processes[0].Started)
			}
			return
		}
	}
	t.Errorf("own listener 127.0.0.1:%d not found in %+v", port, s.Listeners)
}

func TestParseHexAddr(t *testing.T) {
	for in, want := range map[string]string{
		"0100007F:0015":                         "127.0.0.1:21",
		"00000000:03DE":                         "0.0.0.0:990",
		"00000000000000000000000001000000:0016": "[::1]:22",
		"0000000000000000FFFF00000100007F:0015": "127.0.0.1:21",
		"B80D0120000000000000000001000000:0015": "[2001:db8::1]:21",
		"0100007F":                              "",
		"0100007G:0015":                         "",
		"0100007F:15":                           "",
	} {
		a, p, ok := parseHexAddr(in)
		got := ""
		if ok {
			got = netip.AddrPortFrom(a, p).String()
		}
		if got != want {
			t.Errorf("parseHexAddr(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseStartTicks(t *testing.T) {
	for in, want := range map[string]uint64{
		"1 (a) S 0 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 77 0":  77,
		"1 (a) b) S 0 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 78": 78,
		"1 (a S": 0,
		"":       0,
	} {
		got, _ := parseStartTicks(in)
		if got != want {
			t.Errorf("parseStartTicks(%q) = %d, want %d", in, got, want)
		}
	}
}

func FuzzParseNetTCP(f *testing.F) {
	for _, name := range []string{"testdata/proc/net/tcp", "testdata/proc/net/tcp6"} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("sl\n0: :0015 0 0A 0 0 0 0 0 0\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ls, err := ParseNetTCP(b)
		if err != nil && ls != nil {
			t.Fatal("listeners with an error")
		}
		for _, l := range ls {
			if !l.Addr.IsValid() {
				t.Fatalf("invalid address in %+v", l)
			}
		}
	})
}

func FuzzParseStartTicks(f *testing.F) {
	f.Add("4242 (vs ftpd) (x) S 1 4242 4242 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 12000 0 0")
	f.Fuzz(func(t *testing.T, s string) { parseStartTicks(s) })
}

func TestProbeFTP(t *testing.T) {
	ftpLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ftpLn.Close()
	go func() {
		for {
			c, err := ftpLn.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("220-Welcome\r\n220 (vsFTPd 3.0.3)\r\n"))
			c.Close()
		}
	}()
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	port := func(l net.Listener) uint16 { return uint16(l.Addr().(*net.TCPAddr).Port) }
	ls := []Listener{
		{Addr: netip.IPv4Unspecified(), Port: port(ftpLn)},
		{Addr: netip.MustParseAddr("127.0.0.1"), Port: port(silent)},
	}
	got := ProbeAll(t.Context(), ls, 300*time.Millisecond, 4)
	if len(got) != 1 || got[0] != "Welcome (vsFTPd 3.0.3)" {
		t.Errorf("ProbeAll = %v", got)
	}
}
