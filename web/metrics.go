package web

import (
	"time"

	"tandem/demos"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the server's Prometheus metrics, on the server's own registry
// (served at /metrics). Label cardinality is bounded: per-session series are
// deleted when the session ends.
type metrics struct {
	reg           *prometheus.Registry
	tickDuration  prometheus.Histogram
	tickOverruns  *prometheus.CounterVec // session
	ticks         *prometheus.CounterVec // session
	sessions      prometheus.Gauge
	clients       *prometheus.GaugeVec   // role
	dropped       *prometheus.CounterVec // session
	rejected      *prometheus.CounterVec // reason
	slowKicks     prometheus.Counter
	interventions *prometheus.CounterVec // session
	frameLatency  prometheus.Histogram
	httpRequests  *prometheus.CounterVec
	connRefused   *prometheus.CounterVec // reason: cap (closed at accept), reserve (reserve connection without the token)
	connEvicted   prometheus.Counter
	exports       prometheus.Gauge
}

func newMetrics(reg *prometheus.Registry) *metrics {
	if reg == nil {
		reg = prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	m := &metrics{
		reg: reg,
		tickDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "tandem_tick_duration_seconds", Help: "Time a session loop wake-up spent ticking (session clock).",
			Buckets: []float64{50e-6, 100e-6, 250e-6, 500e-6, 1e-3, 2.5e-3, 5e-3, 10e-3, 25e-3, 50e-3, 100e-3},
		}),
		tickOverruns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tandem_tick_overruns_total", Help: "Ticks skipped because a session loop fell behind.",
		}, []string{"session"}),
		ticks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tandem_ticks_total", Help: "Loop wake-ups per session.",
		}, []string{"session"}),
		sessions: prometheus.NewGauge(prometheus.GaugeOpts{Name: "tandem_sessions", Help: "Live sessions."}),
		clients: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "tandem_ws_clients", Help: "Connected WebSocket clients (session protocol and Foxglove).",
		}, []string{"role"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tandem_ws_dropped_frames_total", Help: "Frames dropped from full client send queues.",
		}, []string{"session"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tandem_ws_rejected_messages_total", Help: "Client messages refused, by reason.",
		}, []string{"reason"}),
		slowKicks: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tandem_ws_slow_disconnects_total", Help: "Clients disconnected for staying too slow.",
		}),
		interventions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tandem_interventions_total", Help: "Human interventions started.",
		}, []string{"session"}),
		frameLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "tandem_frame_latency_seconds", Help: "From a tick (session clock) to its frame being written to a client.",
			Buckets: []float64{250e-6, 500e-6, 1e-3, 2.5e-3, 5e-3, 10e-3, 25e-3, 50e-3, 100e-3, 250e-3},
		}),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tandem_http_requests_total", Help: "REST requests by route and status class.",
		}, []string{"route", "code"}),
		connRefused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tandem_http_connections_refused_total", Help: "Connections refused at a connection cap (cap) or requests refused on a reserve connection (reserve).",
		}, []string{"reason"}),
		connEvicted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tandem_http_connections_evicted_total", Help: "Idle connections closed to make room under a connection cap.",
		}),
		exports: prometheus.NewGauge(prometheus.GaugeOpts{Name: "tandem_exports_in_flight", Help: "Export downloads being built or sent."}),
	}
	reg.MustRegister(m.tickDuration, m.tickOverruns, m.ticks, m.sessions, m.clients, m.dropped, m.rejected,
		m.slowKicks, m.interventions, m.frameLatency, m.httpRequests, m.connRefused, m.connEvicted, m.exports)
	for _, r := range []string{"cap", "reserve"} {
		m.connRefused.WithLabelValues(r)
	}
	for _, code := range []string{codeBadJSON, codeBadType, codeBadValue, codeTooLarge, codeForbidden, codeRejected, codeClosed, codeRateLimit} {
		m.rejected.WithLabelValues(code) // export every reason from the start
	}
	for _, role := range []string{RoleOperator, RoleViewer, "foxglove"} {
		m.clients.WithLabelValues(role)
	}
	return m
}

// sessionEnded deletes the session's labelled series.
func (m *metrics) sessionEnded(id string) {
	for _, v := range []*prometheus.CounterVec{m.tickOverruns, m.ticks, m.dropped, m.interventions} {
		v.DeleteLabelValues(id)
	}
}

// tickHook returns the sim.SessionConfig.TickHook for session id. It runs
// on the loop goroutine and must not block: it only observes.
func (m *metrics) tickHook(id string) func(time.Duration, int) {
	overruns := m.tickOverruns.WithLabelValues(id)
	ticks := m.ticks.WithLabelValues(id)
	return func(elapsed time.Duration, skipped int) {
		m.tickDuration.Observe(elapsed.Seconds())
		ticks.Inc()
		if skipped > 0 {
			overruns.Add(float64(skipped))
		}
	}
}

// connections exports the limiter's connection count.
func (m *metrics) connections(l *connLimiter) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "tandem_http_connections", Help: "Connections held now (HTTP and WebSocket)."},
		func() float64 { n, _ := l.counts(""); return float64(n) }))
}

// recorder exports the recorder's counters.
func (m *metrics) recorder(rec *demos.Recorder) {
	stat := func(f func(demos.RecorderStats) float64) func() float64 {
		return func() float64 { return f(rec.Stats()) }
	}
	m.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "tandem_recorder_lag_seconds", Help: "Age of the oldest step not yet committed."},
			stat(func(st demos.RecorderStats) float64 { return st.Lag.Seconds() })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "tandem_recorder_pending_steps", Help: "Steps waiting to be committed."},
			stat(func(st demos.RecorderStats) float64 { return float64(st.PendingSteps) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "tandem_recorder_dropped_steps_total", Help: "Steps the recorder dropped (queue full or subscription overflow)."},
			stat(func(st demos.RecorderStats) float64 { return float64(st.DroppedSteps) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "tandem_recorder_committed_steps_total", Help: "Steps committed to the store."},
			stat(func(st demos.RecorderStats) float64 { return float64(st.CommittedSteps) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "tandem_recorder_commit_failures_total", Help: "Failed commits (retried)."},
			stat(func(st demos.RecorderStats) float64 { return float64(st.CommitFailures) })),
	)
}
