package report

import "github.com/port21/port21/internal/finding"

// Summary counts what a report found, so that a reader, a dashboard or a
// CI gate can tell how bad things are without walking every finding.
type Summary struct {
	Findings   int            `json:"findings"`
	BySeverity SeverityCounts `json:"by_severity"`
	Targets    int            `json:"targets"`
	// TargetsWithErrors counts the targets whose audit is incomplete.
	TargetsWithErrors int `json:"targets_with_errors"`
	// ByStatus counts targets per status (finding.Status), every status
	// listed, zeros included.
	ByStatus StatusCounts    `json:"by_status"`
	ByTarget []TargetSummary `json:"by_target"`
}

// SeverityCounts counts findings per severity. It is a struct rather than a
// map so that JSON lists the severities most severe first and always lists
// all five, zeros included.
type SeverityCounts struct {
	Critical int `json:"critical"`
	High     int `json:"high"`
	Medium   int `json:"medium"`
	Low      int `json:"low"`
	Info     int `json:"info"`
}

// Get returns the count for s.
func (c SeverityCounts) Get(s finding.Severity) int {
	switch s {
	case finding.Critical:
		return c.Critical
	case finding.High:
		return c.High
	case finding.Medium:
		return c.Medium
	case finding.Low:
		return c.Low
	case finding.Info:
		return c.Info
	}
	return 0
}

// add counts one finding of severity s; severities outside the known range
// (which finding.Severity can hold) are counted as info rather than lost.
func (c *SeverityCounts) add(s finding.Severity) {
	switch s {
	case finding.Critical:
		c.Critical++
	case finding.High:
		c.High++
	case finding.Medium:
		c.Medium++
	case finding.Low:
		c.Low++
	default:
		c.Info++
	}
}

// TargetSummary counts one target's findings.
type TargetSummary struct {
	Target     finding.Target `json:"target"`
	Findings   int            `json:"findings"`
	BySeverity SeverityCounts `json:"by_severity"`
	// MaxSeverity is the worst finding's severity; absent when there are
	// no findings, so that "no findings" is not read as "only info".
	MaxSeverity *finding.Severity `json:"max_severity,omitempty"`
	// Status is the target's status (finding.Status).
	Status finding.Status `json:"status"`
	// Error is true when the target's audit is incomplete.
	Error bool `json:"error,omitempty"`
}

// StatusCounts counts targets per status; a struct, so that JSON lists
// every status in a fixed order.
type StatusCounts struct {
	Success       int `json:"success"`
	Closed        int `json:"closed"`
	Timeout       int `json:"timeout"`
	NotFTP        int `json:"not-ftp"`
	TLSError      int `json:"tls-error"`
	ResolveError  int `json:"resolve-error"`
	Refused       int `json:"refused"`
	ProtocolError int `json:"protocol-error"`
	Interrupted   int `json:"interrupted"`
}

func (c *StatusCounts) add(s finding.Status) {
	switch s {
	case finding.StatusSuccess:
		c.Success++
	case finding.StatusClosed:
		c.Closed++
	case finding.StatusTimeout:
		c.Timeout++
	case finding.StatusNotFTP:
		c.NotFTP++
	case finding.StatusTLSError:
		c.TLSError++
	case finding.StatusResolveError:
		c.ResolveError++
	case finding.StatusRefused:
		c.Refused++
	case finding.StatusInterrupted:
		c.Interrupted++
	default:
		c.ProtocolError++
	}
}

// Summarize counts the findings in r, per severity and per target. Targets
// are listed in the order of r.Results.
func Summarize(r Report) Summary {
	var s summarizer
	for _, res := range r.Results {
		s.add(res)
	}
	return s.summary()
}

// summarizer builds a Summary one result at a time, so a stream need not
// keep every result to write the summary at the end.
type summarizer struct{ sum Summary }

func (s *summarizer) add(res Result) {
	ts := TargetSummary{Target: res.Target, Findings: len(res.Findings), Status: res.State(), Error: incomplete(res)}
	s.sum.ByStatus.add(ts.Status)
	for _, f := range res.Findings {
		ts.BySeverity.add(f.Severity)
		s.sum.BySeverity.add(f.Severity)
		if ts.MaxSeverity == nil || f.Severity > *ts.MaxSeverity {
			sev := f.Severity
			ts.MaxSeverity = &sev
		}
	}
	s.sum.Findings += len(res.Findings)
	s.sum.Targets++
	if ts.Error {
		s.sum.TargetsWithErrors++
	}
	s.sum.ByTarget = append(s.sum.ByTarget, ts)
}

// summary returns the counts so far; ByTarget is [] rather than null when
// there were no targets.
func (s *summarizer) summary() Summary {
	sum := s.sum
	if sum.ByTarget == nil {
		sum.ByTarget = []TargetSummary{}
	}
	return sum
}

// incomplete reports whether a result lacks findings it might have had: a
// status short of complete, or an error beside a complete status.
func incomplete(res Result) bool {
	return !res.Complete() || res.Error != ""
}
