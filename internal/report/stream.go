package report

import (
	"encoding/json"
	"fmt"
	"io"
	"sync"
)

// Stream receives results as targets finish. JSON Lines writes each result
// at once; every other format needs the whole report (to sort it, to count
// it, to close a document) and writes it on Close.
//
// Add and Close may be called from several goroutines: a scanner's workers
// can hand their results straight to the stream.
type Stream interface {
	// Add records one finished target.
	Add(Result) error
	// Close writes whatever is still to be written and ends the report.
	// r supplies the run's metadata (tool, times, inputs). When Add was
	// called, the results written are the ones added and r.Results is
	// ignored, so a caller may keep its own copy of every result in r (for
	// MaxSeverity, say) without it being written twice; when Add was never
	// called, r.Results are written. Close does not close w. Add or Close
	// after Close return ErrClosed.
	Close(r Report) error
}

// NewStream returns a Stream that writes format f to w.
func NewStream(w io.Writer, f Format, opts Options) (Stream, error) {
	switch f {
	case JSONL:
		return &jsonlStream{enc: json.NewEncoder(jsonSafe(w))}, nil
	case Table, JSON, SARIF, CSV, HTML:
		return &bufferedStream{w: w, format: f, opts: opts}, nil
	}
	return nil, fmt.Errorf("report: stream %q: %w", string(f), ErrUnknownFormat)
}

// bufferedStream keeps results until Close, then writes them with Write.
type bufferedStream struct {
	w      io.Writer
	format Format
	opts   Options

	mu      sync.Mutex
	results []Result
	added   bool
	closed  bool
}

func (s *bufferedStream) Add(res Result) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("report: add: %w", ErrClosed)
	}
	s.results = append(s.results, res)
	s.added = true
	return nil
}

func (s *bufferedStream) Close(r Report) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("report: close: %w", ErrClosed)
	}
	s.closed = true
	if s.added {
		r.Results = s.results
	}
	s.results = nil
	return Write(s.w, s.format, r, s.opts)
}

// jsonlStream writes each result as a line as soon as it is added, and
// keeps only the counts for the summary line.
type jsonlStream struct {
	mu     sync.Mutex
	enc    *json.Encoder
	sum    summarizer
	added  bool
	closed bool
}

func (s *jsonlStream) Add(res Result) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("report: add: %w", ErrClosed)
	}
	s.added = true
	return s.write(res)
}

// write writes one result line and counts it; s.mu is held.
func (s *jsonlStream) write(res Result) error {
	res = normalize(Report{Results: []Result{res}}).Results[0]
	if err := writeJSONLResult(s.enc, res); err != nil {
		return fmt.Errorf("report: write jsonl: %w", err)
	}
	s.sum.add(res)
	return nil
}

func (s *jsonlStream) Close(r Report) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("report: close: %w", ErrClosed)
	}
	s.closed = true
	if !s.added {
		for _, res := range normalize(r).Results {
			if err := s.write(res); err != nil {
				return err
			}
		}
	}
	if err := writeJSONLSummary(s.enc, r, s.sum.summary()); err != nil {
		return fmt.Errorf("report: write jsonl: %w", err)
	}
	return nil
}
