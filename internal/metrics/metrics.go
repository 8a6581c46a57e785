// Package metrics exposes the server's counters in the Prometheus text
// format: sessions, logins by result, bans, transfers, bytes and transfer
// durations, and a health check for load balancers. The server
// reports through the small server.Metrics interface, so it does not depend
// on Prometheus; this package is the implementation cmd/port21 wires in.
package metrics

import (
	"io"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds port21's Prometheus collectors in a registry of its own
// (never the global default registry).
type Metrics struct {
	reg       *prometheus.Registry
	sessions  prometheus.Gauge
	connects  prometheus.Counter
	logins    *prometheus.CounterVec
	bans      prometheus.Counter
	transfers *prometheus.CounterVec
	bytes     *prometheus.CounterVec
	durations *prometheus.HistogramVec
}

// New returns the collectors, registered with Go runtime and process metrics.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		sessions: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "port21_sessions", Help: "Control connections open now.",
		}),
		connects: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "port21_connections_total", Help: "Control connections accepted.",
		}),
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "port21_logins_total", Help: "Login attempts by result (ok, failed).",
		}, []string{"result"}),
		bans: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "port21_bans_total", Help: "Addresses banned for guessing passwords.",
		}),
		transfers: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "port21_transfers_total", Help: "Data transfers by command and result (ok, failed).",
		}, []string{"op", "result"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "port21_transfer_bytes_total", Help: "Bytes moved over data connections, by direction (in, out).",
		}, []string{"direction"}),
		// From 10ms to about 3h: a listing to a large upload on a slow line.
		durations: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "port21_transfer_duration_seconds", Help: "Time data transfers took, from the preliminary reply to the final one, by command.",
			Buckets: prometheus.ExponentialBuckets(0.01, 4, 10),
		}, []string{"op"}),
	}
	m.reg.MustRegister(m.sessions, m.connects, m.logins, m.bans, m.transfers, m.bytes, m.durations,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// SessionStarted counts an accepted control connection.
func (m *Metrics) SessionStarted() { m.connects.Inc(); m.sessions.Inc() }

// SessionEnded counts a control connection that closed.
func (m *Metrics) SessionEnded() { m.sessions.Dec() }

// Login counts a login attempt.
func (m *Metrics) Login(ok bool) { m.logins.WithLabelValues(result(ok)).Inc() }

// Banned counts a ban.
func (m *Metrics) Banned() { m.bans.Inc() }

// Transfer counts a finished transfer; upload is the direction of its bytes.
func (m *Metrics) Transfer(op string, upload bool, bytes int64, ok bool) {
	m.transfers.WithLabelValues(op, result(ok)).Inc()
	dir := "out"
	if upload {
		dir = "in"
	}
	m.bytes.WithLabelValues(dir).Add(float64(bytes))
}

// TransferDuration records how long a transfer took.
func (m *Metrics) TransferDuration(op string, d time.Duration) {
	m.durations.WithLabelValues(op).Observe(d.Seconds())
}

// Health answers load balancers' checks: 200 while serving reports true,
// else 503 (starting, or draining after SIGTERM).
func Health(serving func() bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if !serving() {
			http.Error(w, "not serving", http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ok\n")
	})
}

func result(ok bool) string {
	if ok {
		return "ok"
	}
	return "failed"
}
