// Package metrics exposes the server's events as Prometheus counters:
// sessions, logins by result, bans by reason, refusals by stage and reason
// (quota refusals among them), TLS handshakes by channel and version,
// transfers, bytes and transfer durations; and a health check for load
// balancers. It observes the audit package's events, so the server calls
// no metrics code of its own and does not depend on Prometheus.
package metrics

import (
	"io"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/port21/port21/internal/audit"
)

// Metrics holds port21's Prometheus collectors in a registry of its own
// (never the global default registry).
type Metrics struct {
	reg       *prometheus.Registry
	sessions  prometheus.Gauge
	connects  prometheus.Counter
	logins    *prometheus.CounterVec
	bans      *prometheus.CounterVec
	refusals  *prometheus.CounterVec
	handshake *prometheus.CounterVec
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
		bans: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "port21_bans_total", Help: "Addresses banned, by the defender's reason and where the ban came from (defender, store).",
		}, []string{"reason", "source"}),
		refusals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "port21_refusals_total", Help: "Refusals other than wrong passwords, by stage and reason (upload/quota for quota refusals).",
		}, []string{"stage", "reason"}),
		handshake: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "port21_tls_handshakes_total", Help: "TLS handshakes completed, by channel (control, data), version and whether the session was resumed.",
		}, []string{"channel", "version", "resumed"}),
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
	m.reg.MustRegister(m.sessions, m.connects, m.logins, m.bans, m.refusals, m.handshake, m.transfers, m.bytes, m.durations,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// Observe counts one event (audit.Observer).
func (m *Metrics) Observe(e audit.Event) {
	switch e := e.(type) {
	case audit.Connect:
		m.connects.Inc()
		m.sessions.Inc()
	case audit.Disconnect:
		m.sessions.Dec()
	case audit.Login:
		m.logins.WithLabelValues("ok").Inc()
	case audit.LoginFailed:
		m.logins.WithLabelValues("failed").Inc()
	case audit.Ban:
		m.bans.WithLabelValues(e.Reason, e.Source).Inc()
	case audit.Refused:
		m.refusals.WithLabelValues(e.Stage, e.Reason).Inc()
	case audit.TLS:
		resumed := "no"
		if e.Resumed {
			resumed = "yes"
		}
		m.handshake.WithLabelValues(e.Channel, e.Version, resumed).Inc()
	case audit.Transfer:
		ok := e.Complete
		m.transfers.WithLabelValues(e.Op, result(ok)).Inc()
		dir := "out"
		if e.Upload {
			dir = "in"
		}
		m.bytes.WithLabelValues(dir).Add(float64(e.Bytes))
		m.durations.WithLabelValues(e.Op).Observe(e.Duration.Seconds())
	}
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
