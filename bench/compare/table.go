package main

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// Which way a figure is better.
const (
	higher = "higher"
	lower  = "lower"
)

// row is one workload's figure on every server.
type row struct {
	Workload string             `json:"workload"`
	Unit     string             `json:"unit"`
	Better   string             `json:"better"` // higher or lower
	Values   map[string]float64 `json:"values"`
	Errors   map[string]string  `json:"errors,omitempty"`
}

// results are the rows in the order they were first measured.
type results struct {
	Rows []*row `json:"rows"`
	// Notes qualify figures: a server that could not do all of a workload.
	Notes []string `json:"notes,omitempty"`
	index map[string]*row
}

func (r *results) note(s string) { r.Notes = append(r.Notes, s) }

func (r *results) row(workload, unit, better string) *row {
	if r.index == nil {
		r.index = map[string]*row{}
	}
	if x, ok := r.index[workload]; ok {
		return x
	}
	x := &row{Workload: workload, Unit: unit, Better: better, Values: map[string]float64{}}
	r.index[workload] = x
	r.Rows = append(r.Rows, x)
	return x
}

// set records a server's figure for a workload.
func (r *results) set(workload, unit, better, server string, v float64) {
	r.row(workload, unit, better).Values[server] = v
}

// fail records that a workload failed on a server.
func (r *results) fail(workload, unit, better, server string, err error) {
	x := r.row(workload, unit, better)
	if x.Errors == nil {
		x.Errors = map[string]string{}
	}
	x.Errors[server] = err.Error()
}

// best is the best peer's figure for the row (the highest or the lowest),
// and its name; ok is false when no peer has one.
func (x *row) best(peers []string) (name string, v float64, ok bool) {
	for _, p := range peers {
		pv, has := x.Values[p]
		if !has || math.IsNaN(pv) {
			continue
		}
		if !ok || (x.Better == higher && pv > v) || (x.Better == lower && pv < v) {
			name, v, ok = p, pv, true
		}
	}
	return name, v, ok
}

// ratio is port21's figure over a peer's, "1.49x", or "" when either is
// missing or the peer's is zero. For a lower-is-better figure a ratio
// under 1 is port21 ahead.
func ratio(p21, peer float64) string {
	if peer == 0 || math.IsNaN(p21) || math.IsNaN(peer) {
		return ""
	}
	return strconv.FormatFloat(p21/peer, 'f', 2, 64) + "x"
}

// number formats a figure with three significant digits or so and
// thousands separators: 1,234 / 56.7 / 0.78.
func number(v float64) string {
	switch {
	case math.IsNaN(v):
		return ""
	case math.Abs(v) >= 100:
		return thousands(strconv.FormatFloat(v, 'f', 0, 64))
	case math.Abs(v) >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	default:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
}

func thousands(s string) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// displayName is how the table heads a server.
func displayName(s string) string {
	switch s {
	case "vsftpd":
		return "vsftpd"
	case "pure-ftpd":
		return "Pure-FTPd"
	case "proftpd":
		return "ProFTPD"
	}
	return s
}

// writeTable prints the results as one markdown table: the workload, each
// server's figure, the best peer's name, and port21's ratio to the best
// peer and to each. servers[0] is port21.
func writeTable(w io.Writer, res *results, servers []string) error {
	peers := servers[1:]
	head := []string{"workload", "better"}
	for _, s := range servers {
		head = append(head, displayName(s))
	}
	head = append(head, "best peer", "port21 : best")
	for _, p := range peers {
		head = append(head, "port21 : "+displayName(p))
	}
	var b strings.Builder
	b.WriteString("| " + strings.Join(head, " | ") + " |\n|---|---|")
	b.WriteString(strings.Repeat("---:|", len(servers)) + "---|")
	b.WriteString(strings.Repeat("---:|", 1+len(peers)) + "\n")
	for _, x := range res.Rows {
		cells := []string{x.Workload + ", " + x.Unit, x.Better}
		for _, s := range servers {
			cells = append(cells, cell(x, s))
		}
		p21, has := x.Values[servers[0]]
		if !has {
			p21 = math.NaN()
		}
		if name, v, ok := x.best(peers); ok {
			cells = append(cells, displayName(name), ratio(p21, v))
		} else {
			cells = append(cells, "", "")
		}
		for _, p := range peers {
			v, ok := x.Values[p]
			if !ok {
				v = math.NaN()
			}
			cells = append(cells, ratio(p21, v))
		}
		b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func cell(x *row, server string) string {
	if v, ok := x.Values[server]; ok {
		return number(v)
	}
	if _, failed := x.Errors[server]; failed {
		return "failed"
	}
	return "n/a"
}

// writeErrors lists the failed measurements under the table.
func writeErrors(w io.Writer, res *results) {
	for _, n := range res.Notes {
		fmt.Fprintf(w, "- %s\n", n)
	}
	for _, x := range res.Rows {
		for s, e := range x.Errors {
			if i := strings.IndexByte(e, '\n'); i >= 0 {
				e = e[:i]
			}
			fmt.Fprintf(w, "- %s failed on %s: %s\n", x.Workload, displayName(s), e)
		}
	}
}
