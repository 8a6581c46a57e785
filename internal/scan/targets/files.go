package targets

import (
	"bufio"
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
)

// Format is the kind of a targets file.
type Format string

// Formats that ParseFile recognises.
const (
	Plain       Format = "plain"        // one target per line (also zmap's default output)
	NmapXML     Format = "nmap-xml"     // nmap -oX
	MasscanList Format = "masscan-list" // masscan -oL
	MasscanJSON Format = "masscan-json" // masscan -oJ (a JSON array) or -oD (one object per line)
	ZmapCSV     Format = "zmap-csv"     // zmap -O csv, with a header line naming saddr (and sport)
)

// maxFileLine bounds a line of a line-oriented targets file.
const maxFileLine = 64 << 10

// Detect guesses the format of a targets file from its first bytes.
func Detect(head []byte) Format {
	t := bytes.TrimLeft(head, " \t\r\n\ufeff")
	t = bytes.TrimPrefix(t, []byte("\xef\xbb\xbf"))
	switch {
	case len(t) == 0:
		return Plain
	case t[0] == '<':
		return NmapXML
	case t[0] == '[' || t[0] == '{':
		return MasscanJSON
	case bytes.HasPrefix(t, []byte("#masscan")) || bytes.HasPrefix(t, []byte("open tcp ")):
		return MasscanList
	}
	first, _, _ := bytes.Cut(t, []byte("\n"))
	first = bytes.TrimSpace(first)
	for f := range bytes.SplitSeq(first, []byte(",")) {
		if string(bytes.TrimSpace(f)) == "saddr" {
			return ZmapCSV
		}
	}
	return Plain
}

// ParseFile reads a targets file in any of the recognised formats, detected
// from its content, and returns its entries in file order. Entries from
// nmap and masscan output carry the open ports those tools found; the others
// use the List's ports. Only TCP ports reported open are taken.
func ParseFile(r io.Reader) ([]Entry, Format, error) {
	br := bufio.NewReaderSize(r, 4096)
	head, _ := br.Peek(4096)
	f := Detect(head)
	var entries []Entry
	var err error
	switch f {
	case NmapXML:
		entries, err = parseNmapXML(br)
	case MasscanJSON:
		entries, err = parseMasscanJSON(br)
	case MasscanList:
		entries, err = parseLines(br, parseMasscanLine)
	case ZmapCSV:
		entries, err = parseZmapCSV(br)
	default:
		entries, err = parseLines(br, parsePlainLine)
	}
	if err != nil {
		return nil, f, err
	}
	return entries, f, nil
}

// parseLines calls parse on every line of r, numbering errors by line.
func parseLines(r io.Reader, parse func(line string) ([]Entry, error)) ([]Entry, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), maxFileLine)
	var entries []Entry
	for n := 1; sc.Scan(); n++ {
		es, err := parse(sc.Text())
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		entries = append(entries, es...)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadFile, err)
	}
	return entries, nil
}

// parsePlainLine parses a line of targets separated by spaces or commas, with
// "#" starting a comment.
func parsePlainLine(line string) ([]Entry, error) {
	line, _, _ = strings.Cut(line, "#")
	var entries []Entry
	for _, f := range strings.FieldsFunc(line, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\r' || r == '\ufeff' }) {
		e, err := ParseSpec(f)
		if err != nil {
			return nil, err
		}
		entries = append(entries, e)
	}
	return entries, nil
}

// parseMasscanLine parses "open tcp 21 192.0.2.7 1700000000" (masscan -oL).
func parseMasscanLine(line string) ([]Entry, error) {
	line = strings.TrimSpace(line)
	if line == "" || line[0] == '#' {
		return nil, nil
	}
	f := strings.Fields(line)
	if len(f) < 4 {
		return nil, fmt.Errorf("%w: masscan line %s", ErrBadFile, quote(line))
	}
	if f[0] != "open" || f[1] != "tcp" {
		return nil, nil
	}
	return oneOpen(f[3], f[2])
}

// oneOpen returns the entry for an address and a port from a tool's output.
func oneOpen(addr, port string) ([]Entry, error) {
	a, err := netip.ParseAddr(addr)
	p, ok := parsePort(port)
	if err != nil || !ok || a.Zone() != "" {
		return nil, fmt.Errorf("%w: address %s port %s", ErrBadFile, quote(addr), quote(port))
	}
	a = a.Unmap()
	return []Entry{{First: a, Last: a, Ports: []uint16{p}}}, nil
}

// parseZmapCSV reads zmap CSV output: a header naming the fields, saddr
// among them, then one row per responding host. A sport field, when present,
// is the port that answered.
func parseZmapCSV(r io.Reader) ([]Entry, error) {
	saddr, sport := -1, -1
	first := true
	return parseLines(r, func(line string) ([]Entry, error) {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			return nil, nil
		}
		cols := strings.Split(line, ",")
		if first {
			first = false
			for i, c := range cols {
				switch strings.TrimSpace(strings.TrimPrefix(c, "\ufeff")) {
				case "saddr":
					saddr = i
				case "sport":
					sport = i
				}
			}
			if saddr < 0 {
				return nil, fmt.Errorf("%w: zmap header without saddr", ErrBadFile)
			}
			return nil, nil
		}
		if saddr >= len(cols) || sport >= len(cols) {
			return nil, fmt.Errorf("%w: zmap row %s has too few fields", ErrBadFile, quote(line))
		}
		if sport < 0 {
			e, err := ParseSpec(cols[saddr])
			if err != nil || e.Name != "" || e.First != e.Last {
				return nil, fmt.Errorf("%w: zmap saddr %s", ErrBadFile, quote(cols[saddr]))
			}
			return []Entry{e}, nil
		}
		return oneOpen(strings.TrimSpace(cols[saddr]), strings.TrimSpace(cols[sport]))
	})
}

// masscanRecord is one host in masscan's JSON output.
type masscanRecord struct {
	IP    string `json:"ip"`
	Ports []struct {
		Port   int    `json:"port"`
		Proto  string `json:"proto"`
		Status string `json:"status"`
	} `json:"ports"`
}

// parseMasscanJSON reads masscan -oJ (a JSON array, which older versions
// end with a trailing comma and a {"finished": 1} object) and -oD (one object
// per line). Both put one record per line, so each line is decoded alone
// after stripping the array punctuation, which also tolerates the broken
// arrays.
func parseMasscanJSON(r io.Reader) ([]Entry, error) {
	return parseLines(r, func(line string) ([]Entry, error) {
		line = strings.TrimSpace(line)
		line = strings.TrimPrefix(line, "[")
		line = strings.TrimSuffix(line, "]")
		line = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(line), ","))
		if line == "" {
			return nil, nil
		}
		var rec masscanRecord
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			return nil, fmt.Errorf("%w: masscan JSON: %w", ErrBadFile, err)
		}
		if rec.IP == "" {
			return nil, nil // {"finished": 1} and other trailers
		}
		var out []Entry
		for _, p := range rec.Ports {
			if p.Proto != "tcp" || (p.Status != "" && p.Status != "open") {
				continue
			}
			e, err := oneOpen(rec.IP, strconv.Itoa(p.Port))
			if err != nil {
				return nil, err
			}
			out = append(out, e...)
		}
		return out, nil
	})
}

// nmapHost is the part of an nmap -oX <host> element the scanner uses.
type nmapHost struct {
	Status struct {
		State string `xml:"state,attr"`
	} `xml:"status"`
	Addresses []struct {
		Addr     string `xml:"addr,attr"`
		AddrType string `xml:"addrtype,attr"`
	} `xml:"address"`
	Hostnames []struct {
		Name string `xml:"name,attr"`
		Type string `xml:"type,attr"`
	} `xml:"hostnames>hostname"`
	Ports []struct {
		Protocol string `xml:"protocol,attr"`
		PortID   string `xml:"portid,attr"`
		State    struct {
			State string `xml:"state,attr"`
		} `xml:"state"`
	} `xml:"ports>port"`
}

// maxNmapHosts bounds how many <host> elements are read from one file.
const maxNmapHosts = 1 << 24

// parseNmapXML reads nmap -oX output host by host, so a large file is never
// held in memory whole, and keeps the TCP ports nmap found open. Hosts with
// no open port are skipped: nmap already found nothing to audit there.
func parseNmapXML(r io.Reader) ([]Entry, error) {
	d := xml.NewDecoder(r)
	d.Strict = true
	// nmap writes a DOCTYPE and no entities beyond the predefined ones.
	var entries []Entry
	hosts := 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: nmap XML: %w", ErrBadFile, err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok || se.Name.Local != "host" {
			continue
		}
		if hosts++; hosts > maxNmapHosts {
			return nil, fmt.Errorf("%w: nmap XML has more than %d hosts", ErrBadFile, maxNmapHosts)
		}
		var h nmapHost
		if err := d.DecodeElement(&h, &se); err != nil {
			return nil, fmt.Errorf("%w: nmap XML host: %w", ErrBadFile, err)
		}
		var addr netip.Addr
		for _, a := range h.Addresses {
			if a.AddrType != "ipv4" && a.AddrType != "ipv6" {
				continue
			}
			if addr, err = netip.ParseAddr(a.Addr); err != nil || addr.Zone() != "" {
				return nil, fmt.Errorf("%w: nmap XML address %s", ErrBadFile, quote(a.Addr))
			}
			addr = addr.Unmap()
			break
		}
		if !addr.IsValid() {
			continue
		}
		var ports []uint16
		for _, p := range h.Ports {
			if p.Protocol != "tcp" || p.State.State != "open" {
				continue
			}
			n, ok := parsePort(p.PortID)
			if !ok {
				return nil, fmt.Errorf("%w: nmap XML port %s", ErrBadFile, quote(p.PortID))
			}
			ports = append(ports, n)
		}
		if len(ports) == 0 {
			continue
		}
		entries = append(entries, Entry{First: addr, Last: addr, Ports: ports})
	}
	return entries, nil
}

// Collect builds a List from targets given on the command line and from
// input files (-iL), in that order. A spec or file named "-" reads targets
// from stdin, in any format ParseFile knows; stdin is read at most once.
// open opens a named file (os.Open, or a fake in tests).
func Collect(specs, files []string, stdin io.Reader, open func(name string) (io.ReadCloser, error)) (List, error) {
	var l List
	stdinRead := false
	readFile := func(name string) error {
		var r io.Reader
		if name == "-" {
			if stdinRead {
				return nil
			}
			stdinRead = true
			r = stdin
		} else {
			f, err := open(name)
			if err != nil {
				return fmt.Errorf("targets: %w", err)
			}
			defer f.Close()
			r = f
		}
		es, _, err := ParseFile(r)
		if err != nil {
			if name == "-" {
				name = "standard input"
			}
			return fmt.Errorf("%s: %w", name, err)
		}
		l.Entries = append(l.Entries, es...)
		return nil
	}
	for _, s := range specs {
		if s == "-" {
			if err := readFile("-"); err != nil {
				return l, err
			}
			continue
		}
		e, err := ParseSpec(s)
		if err != nil {
			return l, err
		}
		l.Entries = append(l.Entries, e)
	}
	for _, f := range files {
		if err := readFile(f); err != nil {
			return l, err
		}
	}
	return l, nil
}
