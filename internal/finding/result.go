package finding

import "fmt"

// Status says how far the audit of one target got, zgrab2-style: every
// consumer can tell a clean target from one that could not be audited
// without parsing an error string.
type Status string

// The statuses of a Result.
const (
	// StatusSuccess: the audit ran to the end; the findings are all there is.
	StatusSuccess Status = "success"
	// StatusClosed: nothing listens (the connection was refused or reset).
	StatusClosed Status = "closed"
	// StatusTimeout: no answer in time (a filtered port, a silent service,
	// or the per-target time-out hit mid-audit).
	StatusTimeout Status = "timeout"
	// StatusNotFTP: the port answered, but not like an FTP server.
	StatusNotFTP Status = "not-ftp"
	// StatusTLSError: a TLS handshake the audit needed failed.
	StatusTLSError Status = "tls-error"
	// StatusResolveError: the host name did not resolve.
	StatusResolveError Status = "resolve-error"
	// StatusRefused: the service would not serve the scanner: a 421 greeting
	// or reply (too many connections, or a ban of the scanner's address), or
	// a hang-up before any greeting.
	StatusRefused Status = "refused"
	// StatusProtocolError: the service broke the protocol or dropped the
	// connection in a way a fresh connection did not mend.
	StatusProtocolError Status = "protocol-error"
	// StatusInterrupted: the scan was stopped (^C) while this target was
	// being audited.
	StatusInterrupted Status = "interrupted"
)

// Statuses lists every status, in the order reports show them.
func Statuses() []Status {
	return []Status{StatusSuccess, StatusClosed, StatusTimeout, StatusNotFTP, StatusTLSError,
		StatusResolveError, StatusRefused, StatusProtocolError, StatusInterrupted}
}

// Complete reports whether a target with this status was audited as far as
// it can be: success, or a port that turned out closed or not FTP. Every
// other status means findings may be missing, and --fail-on-incomplete
// fails on it.
func (s Status) Complete() bool {
	return s == StatusSuccess || s == StatusClosed || s == StatusNotFTP
}

// ParseStatus parses a status name.
func ParseStatus(name string) (Status, error) {
	for _, s := range Statuses() {
		if string(s) == name {
			return s, nil
		}
	}
	return "", fmt.Errorf("unknown status %q", name)
}

// Result is one audited target: a network service for port21 scan, or a
// listener or configuration file for port21 local. Scan, local and every
// report format share this one type.
type Result struct {
	Target Target `json:"target"`
	// Status says how far the audit got. The zero value reads as success,
	// so a configuration audit that fills in only findings is complete.
	Status  Status   `json:"status"`
	Service *Service `json:"service,omitempty"`
	// Findings is never null in JSON: [] when none.
	Findings []Finding `json:"findings"`
	// Error says why this target's audit is incomplete. A result may carry
	// both findings and an error: what was found before the audit stopped
	// is still true.
	Error string `json:"error,omitempty"`
}

// State returns the result's status: success when none was set and there
// is no error, protocol-error when only an error was set.
func (r Result) State() Status {
	switch {
	case r.Status != "":
		return r.Status
	case r.Error != "":
		return StatusProtocolError
	}
	return StatusSuccess
}

// Complete reports whether the target was audited as far as it can be.
func (r Result) Complete() bool { return r.State().Complete() }
