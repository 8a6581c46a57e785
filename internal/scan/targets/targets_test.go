package targets

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func targetStrings(l *List) []string {
	var out []string
	for t := range l.All() {
		out = append(out, t.String())
	}
	return out
}

func TestParseSpec(t *testing.T) {
	tests := []struct {
		in   string
		want string // fmt of the entry: name or first-last, then ports
		err  bool
	}{
		{in: "192.0.2.7", want: "192.0.2.7-192.0.2.7 []"},
		{in: " 192.0.2.7 ", want: "192.0.2.7-192.0.2.7 []"},
		{in: "192.0.2.0/30", want: "192.0.2.0-192.0.2.3 []"},
		{in: "192.0.2.9/30", want: "192.0.2.8-192.0.2.11 []"},
		{in: "192.0.2.10-20", want: "192.0.2.10-192.0.2.20 []"},
		{in: "192.0.2.250-192.0.3.2", want: "192.0.2.250-192.0.3.2 []"},
		{in: "2001:db8::/126", want: "2001:db8::-2001:db8::3 []"},
		{in: "2001:db8::1-2001:db8::3", want: "2001:db8::1-2001:db8::3 []"},
		{in: "::ffff:192.0.2.1", want: "192.0.2.1-192.0.2.1 []"},
		{in: "[2001:db8::1]:990", want: "2001:db8::1-2001:db8::1 [990]"},
		{in: "[2001:db8::1]", want: "2001:db8::1-2001:db8::1 []"},
		{in: "192.0.2.7:2121", want: "192.0.2.7-192.0.2.7 [2121]"},
		{in: "FTP.Example.com.", want: "ftp.example.com []"},
		{in: "ftp-1.example.com:21", want: "ftp-1.example.com [21]"},
		{in: "localhost", want: "localhost []"},
		{in: "", err: true},
		{in: "192.0.2.20-10", err: true},
		{in: "192.0.2.1-300", err: true},
		// A mistyped address is not a name to send to DNS.
		{in: "999.1.1.1", err: true},
		{in: "10.0.0.256:21", err: true},
		{in: "1234", err: true},
		{in: "192.0.2.1-2001:db8::1", err: true},
		{in: "192.0.2.0/33", err: true},
		{in: "192.0.2.7:0", err: true},
		{in: "192.0.2.7:65536", err: true},
		{in: "192.0.2.0/24:21", err: true},
		{in: "[2001:db8::1]21", err: true},
		{in: "[192.0.2.1]", err: true},
		{in: "fe80::1%eth0", err: true},
		{in: "-bad.example", err: true},
		{in: "a b", err: true},
		{in: "ex@mple.com", err: true},
		{in: strings.Repeat("a", 64) + ".com", err: true},
	}
	for _, tt := range tests {
		e, err := ParseSpec(tt.in)
		if tt.err {
			if err == nil || !errors.Is(err, ErrBadSpec) {
				t.Errorf("ParseSpec(%q) = %+v, %v; want ErrBadSpec", tt.in, e, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseSpec(%q): %v", tt.in, err)
			continue
		}
		got := e.Name
		if got == "" {
			got = e.First.String() + "-" + e.Last.String()
		}
		got += fmt.Sprint(" ", e.Ports)
		if got != tt.want {
			t.Errorf("ParseSpec(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestParsePorts(t *testing.T) {
	tests := []struct {
		in   string
		want []uint16
		n    int
		err  bool
	}{
		{in: "21", want: []uint16{21}},
		{in: "21,990,2121", want: []uint16{21, 990, 2121}},
		{in: " 2100-2102 , 21,2101", want: []uint16{2100, 2101, 2102, 21}},
		{in: "all", n: 65535},
		{in: "ALL", n: 65535},
		{in: "1-65535", n: 65535},
		{in: "0", err: true},
		{in: "65536", err: true},
		{in: "30-20", err: true},
		{in: "", err: true},
		{in: "21,", err: true},
		{in: "+21", err: true},
		{in: "21-", err: true},
		{in: "abc", err: true},
	}
	for _, tt := range tests {
		got, err := ParsePorts(tt.in)
		if tt.err {
			if !errors.Is(err, ErrBadPorts) {
				t.Errorf("ParsePorts(%q) = %v, %v; want ErrBadPorts", tt.in, got, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParsePorts(%q): %v", tt.in, err)
			continue
		}
		if tt.want != nil && !slices.Equal(got, tt.want) || tt.n > 0 && len(got) != tt.n {
			t.Errorf("ParsePorts(%q) = %v (%d ports)", tt.in, got[:min(len(got), 8)], len(got))
		}
	}
}

func TestListAllCountAndShard(t *testing.T) {
	var l List
	for _, s := range []string{"192.0.2.1-3", "ftp.example.com", "[2001:db8::1]:990"} {
		e, err := ParseSpec(s)
		if err != nil {
			t.Fatal(err)
		}
		l.Entries = append(l.Entries, e)
	}
	l.Ports = []uint16{21, 2121}
	want := []string{
		"192.0.2.1:21", "192.0.2.1:2121", "192.0.2.2:21", "192.0.2.2:2121", "192.0.2.3:21", "192.0.2.3:2121",
		"ftp.example.com:21", "ftp.example.com:2121", "[2001:db8::1]:990",
	}
	if got := targetStrings(&l); !slices.Equal(got, want) {
		t.Fatalf("All = %v, want %v", got, want)
	}
	if got := l.Count(); got != uint64(len(want)) {
		t.Errorf("Count = %d, want %d", got, len(want))
	}
	// The shards partition All, in order, whatever n is.
	for n := 1; n <= 5; n++ {
		var union []string
		for i := 1; i <= n; i++ {
			var got []string
			for tg := range l.Shard(i, n) {
				got = append(got, tg.String())
			}
			if uint64(len(got)) != ShardCount(l.Count(), i, n) {
				t.Errorf("shard %d/%d has %d targets, ShardCount says %d", i, n, len(got), ShardCount(l.Count(), i, n))
			}
			union = append(union, got...)
		}
		slices.Sort(union)
		w := slices.Clone(want)
		slices.Sort(w)
		if !slices.Equal(union, w) {
			t.Errorf("shards of %d: union %v, want %v", n, union, w)
		}
	}
}

func TestAllEndOfAddressSpace(t *testing.T) {
	for _, s := range []string{"255.255.255.254/31", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/127"} {
		e, err := ParseSpec(s)
		if err != nil {
			t.Fatal(err)
		}
		l := List{Entries: []Entry{e}, Ports: []uint16{21}}
		if got := targetStrings(&l); len(got) != 2 {
			t.Errorf("%s: All = %v, want 2 targets", s, got)
		}
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		spec      string
		force     bool
		wantErr   bool
		wantAddrs uint64
	}{
		{spec: "10.0.0.0/8", wantAddrs: 1 << 24},
		{spec: "10.0.0.0/7", wantErr: true, wantAddrs: 1 << 25},
		{spec: "10.0.0.0/7", force: true, wantAddrs: 1 << 25},
		{spec: "0.0.0.0/0", force: true, wantAddrs: 1 << 32},
		{spec: "2001:db8::/64", force: true, wantErr: true, wantAddrs: ^uint64(0)},
		{spec: "2001:db8::/96", force: true, wantAddrs: 1 << 32},
		{spec: "::/0", force: true, wantErr: true, wantAddrs: ^uint64(0)},
	}
	for _, tt := range tests {
		e, err := ParseSpec(tt.spec)
		if err != nil {
			t.Fatal(err)
		}
		l := List{Entries: []Entry{e}}
		if got := l.Addresses(); got != tt.wantAddrs {
			t.Errorf("%s: Addresses = %d, want %d", tt.spec, got, tt.wantAddrs)
		}
		err = l.Check(tt.force)
		if (err != nil) != tt.wantErr || err != nil && !errors.Is(err, ErrTooMany) {
			t.Errorf("%s force=%v: Check = %v, want error %v", tt.spec, tt.force, err, tt.wantErr)
		}
	}
}

func TestParseShard(t *testing.T) {
	for _, tt := range []struct {
		in   string
		i, n int
		err  bool
	}{
		{in: "1/1", i: 1, n: 1}, {in: "3/4", i: 3, n: 4}, {in: " 2/2 ", i: 2, n: 2},
		{in: "0/4", err: true}, {in: "5/4", err: true}, {in: "1/0", err: true}, {in: "1", err: true},
		{in: "a/b", err: true}, {in: "1/70000", err: true}, {in: "", err: true},
	} {
		i, n, err := ParseShard(tt.in)
		if tt.err != (err != nil) || !tt.err && (i != tt.i || n != tt.n) {
			t.Errorf("ParseShard(%q) = %d, %d, %v", tt.in, i, n, err)
		}
	}
}

func FuzzParseSpec(f *testing.F) {
	for _, s := range []string{"192.0.2.7", "192.0.2.0/24", "192.0.2.1-9", "2001:db8::/120", "[::1]:21", "a.example:21", "1-2", "::-::1", "1.2.3.4-1.2.3.4"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := ParseSpec(s)
		if err != nil {
			if !errors.Is(err, ErrBadSpec) {
				t.Fatalf("ParseSpec(%q): unexpected error %v", s, err)
			}
			return
		}
		if e.Name != "" {
			if e.First.IsValid() || !isHostName(e.Name) {
				t.Fatalf("ParseSpec(%q) = %+v", s, e)
			}
			return
		}
		if !e.First.IsValid() || !e.Last.IsValid() || e.Last.Less(e.First) || e.First.Is4() != e.Last.Is4() {
			t.Fatalf("ParseSpec(%q) = bad range %+v", s, e)
		}
		if e.size() == 0 {
			t.Fatalf("ParseSpec(%q): empty range", s)
		}
		// Iterating a small range must yield exactly size() targets.
		if e.size() <= 1024 {
			l := List{Entries: []Entry{e}, Ports: []uint16{21}}
			n := 0
			for range l.All() {
				n++
			}
			if uint64(n) != e.size() {
				t.Fatalf("ParseSpec(%q): All yields %d, size %d", s, n, e.size())
			}
		}
	})
}

// FuzzParseShard: an accepted --shard is in range, and its numbers
// re-format to an "I/N" that parses the same; the shards' counts add up.
func FuzzParseShard(f *testing.F) {
	for _, s := range []string{"1/1", "2/4", " 3/3 ", "0/4", "5/4", "1/65536", "1/65537", "+1/+2", "01/02", "-1/2", "1/", "/", "1//2", "1/2/3", ""} {
		f.Add(s, uint64(1000))
	}
	f.Fuzz(func(t *testing.T, s string, count uint64) {
		i, n, err := ParseShard(s)
		if err != nil {
			if !errors.Is(err, ErrBadShard) || i != 0 || n != 0 {
				t.Fatalf("ParseShard(%q) = %d, %d, %v", s, i, n, err)
			}
			return
		}
		if i < 1 || i > n || n > 65536 {
			t.Fatalf("ParseShard(%q) = %d, %d", s, i, n)
		}
		if i2, n2, err := ParseShard(fmt.Sprintf("%d/%d", i, n)); err != nil || i2 != i || n2 != n {
			t.Fatalf("ParseShard(%q) = %d/%d, which re-parses as %d/%d, %v", s, i, n, i2, n2, err)
		}
		var sum uint64
		for k := 1; k <= n; k++ {
			sum += ShardCount(count, k, n)
		}
		if c := ShardCount(count, i, n); sum != count || c > count/uint64(n)+1 {
			t.Fatalf("shard %d/%d of %d holds %d; all shards %d", i, n, count, c, sum)
		}
	})
}

func FuzzParsePorts(f *testing.F) {
	for _, s := range []string{"21", "21,990,2121", "1-65535", "all", "5-3", ",", "0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ports, err := ParsePorts(s)
		if err != nil {
			if !errors.Is(err, ErrBadPorts) {
				t.Fatalf("ParsePorts(%q): %v", s, err)
			}
			return
		}
		seen := map[uint16]bool{}
		for _, p := range ports {
			if p == 0 || seen[p] {
				t.Fatalf("ParsePorts(%q) = bad or repeated port %d", s, p)
			}
			seen[p] = true
		}
	})
}
