package targets

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"
	"testing"
)

const nmapXML = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE nmaprun>
<?xml-stylesheet href="file:///usr/bin/../share/nmap/nmap.xsl" type="text/xsl"?>
<nmaprun scanner="nmap" args="nmap -p21,990,2121 -oX - 192.0.2.0/29" start="1700000000" version="7.94" xmloutputversion="1.05">
<scaninfo type="syn" protocol="tcp" numservices="3" services="21,990,2121"/>
<host starttime="1700000000" endtime="1700000001"><status state="up" reason="echo-reply" reason_ttl="63"/>
<address addr="192.0.2.1" addrtype="ipv4"/>
<address addr="52:54:00:12:34:56" addrtype="mac"/>
<hostnames><hostname name="ftp.example.com" type="PTR"/></hostnames>
<ports><port protocol="tcp" portid="21"><state state="open" reason="syn-ack" reason_ttl="63"/><service name="ftp" method="table" conf="3"/></port>
<port protocol="tcp" portid="990"><state state="closed" reason="reset" reason_ttl="63"/></port>
<port protocol="tcp" portid="2121"><state state="open" reason="syn-ack" reason_ttl="63"/></port>
</ports>
<times srtt="300" rttvar="200" to="100000"/>
</host>
<host><status state="up" reason="echo-reply"/><address addr="192.0.2.2" addrtype="ipv4"/>
<ports><extraports state="closed" count="3"/></ports></host>
<host><status state="up"/><address addr="2001:db8::21" addrtype="ipv6"/>
<ports><port protocol="udp" portid="21"><state state="open"/></port><port protocol="tcp" portid="990"><state state="open"/></port></ports></host>
<runstats><finished time="1700000002" timestr="Tue Nov 14 22:13:22 2023" elapsed="2.00" exit="success"/><hosts up="3" down="5" total="8"/></runstats>
</nmaprun>
`

func render(es []Entry) string {
	var b strings.Builder
	for _, e := range es {
		if e.Name != "" {
			b.WriteString(e.Name)
		} else if e.First == e.Last {
			b.WriteString(e.First.String())
		} else {
			b.WriteString(e.First.String() + "-" + e.Last.String())
		}
		fmt.Fprint(&b, e.Ports, ";")
	}
	return b.String()
}

func TestParseFile(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		format Format
		want   string
		err    bool
	}{
		{name: "nmap", in: nmapXML, format: NmapXML, want: "192.0.2.1[21 2121];2001:db8::21[990];"},
		{name: "plain", in: "# my hosts\n192.0.2.1\n\n192.0.2.8/31, ftp.example.com # office\r\n[2001:db8::1]:990\tfoo.example:2121\n",
			format: Plain, want: "192.0.2.1[];192.0.2.8-192.0.2.9[];ftp.example.com[];2001:db8::1[990];foo.example[2121];"},
		{name: "plain bad", in: "192.0.2.1\nnot a host!\n", format: Plain, err: true},
		{name: "zmap plain", in: "192.0.2.1\n192.0.2.2\n", format: Plain, want: "192.0.2.1[];192.0.2.2[];"},
		{name: "zmap csv", in: "saddr,sport,classification\n192.0.2.1,21,synack\n2001:db8::2,2121,synack\n", format: ZmapCSV,
			want: "192.0.2.1[21];2001:db8::2[2121];"},
		{name: "zmap csv saddr only", in: "saddr\n192.0.2.1\n", format: ZmapCSV, want: "192.0.2.1[];"},
		{name: "zmap csv short row", in: "saddr,sport\n192.0.2.1\n", format: ZmapCSV, err: true},
		{name: "masscan list", in: "#masscan\nopen tcp 21 192.0.2.1 1700000000\nopen udp 53 192.0.2.1 1700000000\nopen tcp 2121 2001:db8::9 1700000000\n# end\n",
			format: MasscanList, want: "192.0.2.1[21];2001:db8::9[2121];"},
		{name: "masscan list bad", in: "#masscan\nopen tcp 99999 192.0.2.1 1\n", format: MasscanList, err: true},
		{name: "masscan json", in: "[\n{   \"ip\": \"192.0.2.1\",   \"timestamp\": \"1700000000\", \"ports\": [ {\"port\": 21, \"proto\": \"tcp\", \"status\": \"open\", \"reason\": \"syn-ack\", \"ttl\": 64} ] },\n{   \"ip\": \"192.0.2.3\", \"ports\": [ {\"port\": 990, \"proto\": \"tcp\", \"status\": \"open\"} ] },\n{finished: 1}\n]\n",
			format: MasscanJSON, err: true},
		{name: "masscan json ok", in: "[\n{   \"ip\": \"192.0.2.1\",   \"timestamp\": \"1700000000\", \"ports\": [ {\"port\": 21, \"proto\": \"tcp\", \"status\": \"open\", \"reason\": \"syn-ack\", \"ttl\": 64} ] },\n{   \"ip\": \"192.0.2.3\", \"ports\": [ {\"port\": 990, \"proto\": \"tcp\", \"status\": \"open\"} ] }\n]\n",
			format: MasscanJSON, want: "192.0.2.1[21];192.0.2.3[990];"},
		{name: "masscan ndjson", in: "{\"ip\":\"192.0.2.4\",\"ports\":[{\"port\":21,\"proto\":\"tcp\",\"status\":\"open\"}]}\n{\"finished\":1}\n",
			format: MasscanJSON, want: "192.0.2.4[21];"},
		{name: "nmap bad", in: "<nmaprun><host><address addr=\"x\" addrtype=\"ipv4\"/></host></nmaprun>", format: NmapXML, err: true},
		{name: "nmap truncated", in: "<nmaprun><host>", format: NmapXML, err: true},
		{name: "long line", in: strings.Repeat("a", maxFileLine+10), format: Plain, err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			es, f, err := ParseFile(strings.NewReader(tt.in))
			if f != tt.format {
				t.Errorf("format = %s, want %s", f, tt.format)
			}
			if tt.err {
				if err == nil {
					t.Fatalf("ParseFile = %s, want an error", render(es))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := render(es); got != tt.want {
				t.Errorf("ParseFile = %s\nwant %s", got, tt.want)
			}
		})
	}
}

func FuzzParseFile(f *testing.F) {
	for _, s := range []string{nmapXML, "192.0.2.1\n", "saddr,sport\n192.0.2.1,21\n", "#masscan\nopen tcp 21 192.0.2.1 1\n",
		`[{"ip":"192.0.2.1","ports":[{"port":21,"proto":"tcp","status":"open"}]}]`, "<host></host>",
		// zmap -O csv with more fields, masscan -oD (one object a line) and
		// -oJ as masscan 1.3 writes it (a trailing comma object), a plain
		// file with comments, ranges and CIDRs.
		"saddr,daddr,sport,dport,classification,success\n192.0.2.7,198.51.100.1,21,40000,synack,1\n",
		`{"ip": "192.0.2.9", "timestamp": "1700000000", "ports": [ {"port": 21, "proto": "tcp", "status": "open", "reason": "syn-ack", "ttl": 64} ] }` + "\n",
		"[\n{   \"ip\": \"192.0.2.9\",   \"timestamp\": \"1700000000\", \"ports\": [ {\"port\": 990, \"proto\": \"tcp\", \"status\": \"open\"} ] }\n,\n{\"finished\": 1}\n]\n",
		"# office\n192.0.2.0/28, 198.51.100.1-9 ftp.example:2121\n[2001:db8::21]:990\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		es, _, err := ParseFile(bytes.NewReader(data))
		if err != nil {
			return
		}
		// What a file yields is bounded by the file: an entry takes at
		// least a byte of it, and so does each port an entry carries,
		// so a small hostile file cannot make the scanner hold a huge list.
		ports := 0
		for _, e := range es {
			ports += len(e.Ports)
		}
		if len(es) > len(data) || ports > len(data) {
			t.Fatalf("%d entries and %d ports from %d bytes", len(es), ports, len(data))
		}
		for _, e := range es {
			if e.Name == "" && (!e.First.IsValid() || e.Last.Less(e.First)) {
				t.Fatalf("bad entry %+v", e)
			}
			if slices.Contains(e.Ports, 0) {
				t.Fatalf("port 0 in %+v", e)
			}
		}
		_ = errors.Is(err, ErrBadFile)
	})
}

func TestCollect(t *testing.T) {
	files := map[string]string{"a.txt": "192.0.2.1\n", "scan.xml": nmapXML}
	open := func(name string) (io.ReadCloser, error) {
		s, ok := files[name]
		if !ok {
			return nil, fs.ErrNotExist
		}
		return io.NopCloser(strings.NewReader(s)), nil
	}
	l, err := Collect([]string{"192.0.2.9", "-", "-"}, []string{"a.txt", "scan.xml", "-"}, strings.NewReader("192.0.2.5:2121\n"), open)
	if err != nil {
		t.Fatal(err)
	}
	want := "192.0.2.9[];192.0.2.5[2121];192.0.2.1[];192.0.2.1[21 2121];2001:db8::21[990];"
	if got := render(l.Entries); got != want {
		t.Errorf("Collect = %s\nwant %s", got, want)
	}
	if _, err := Collect(nil, []string{"missing"}, nil, open); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

// TestRealNmapOutput parses the -oX output of a real nmap 7.93 run.
func TestRealNmapOutput(t *testing.T) {
	data, err := os.ReadFile("testdata/nmap-7.93.xml")
	if err != nil {
		t.Fatal(err)
	}
	es, f, err := ParseFile(bytes.NewReader(data))
	if err != nil || f != NmapXML {
		t.Fatalf("ParseFile = %v, %s", err, f)
	}
	if got := render(es); got != "127.0.0.1[22150];" {
		t.Errorf("entries %s", got)
	}
}
