package wsd

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/mpm-dev/mpm/internal/event"
	"github.com/mpm-dev/mpm/internal/hub"
)

// metrics are the daemon's Prometheus collectors, on a registry of its own.
type metrics struct {
	// reg is the registry /metrics serves.
	reg *prometheus.Registry
	// accepted counts stored events.
	accepted prometheus.Counter
	// duplicates counts deliveries whose Idempotency-Key was already stored.
	duplicates prometheus.Counter
	// rejected counts refused requests by reason.
	rejected *prometheus.CounterVec
	// spooled counts events delivered from the hook spool.
	spooled prometheus.Counter
	// hookRefused counts POST /v1/events refused for the token, and
	// refusedLog logs them now and then (refused.go).
	hookRefused prometheus.Counter
	refusedLog  *rateLog
	// batch observes how many events each commit grouped.
	batch prometheus.Histogram
	// hub holds the hub's collectors.
	hub *hub.Metrics
}

func newMetrics() *metrics {
	reg := prometheus.NewRegistry()
	m := &metrics{
		reg:        reg,
		accepted:   prometheus.NewCounter(prometheus.CounterOpts{Name: "mpm_events_accepted_total", Help: "Events accepted and sequenced."}),
		duplicates: prometheus.NewCounter(prometheus.CounterOpts{Name: "mpm_events_duplicate_total", Help: "Deliveries ignored because their Idempotency-Key was already accepted."}),
		rejected:   prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mpm_events_rejected_total", Help: "Requests refused, by reason."}, []string{"reason"}),
		spooled:    prometheus.NewCounter(prometheus.CounterOpts{Name: "mpm_spool_events_drained_total", Help: "Events delivered from the hook spool."}),
		hookRefused: prometheus.NewCounter(prometheus.CounterOpts{Name: "mpm_hook_deliveries_refused_total",
			Help: "POST /v1/events refused for a missing or wrong token (a hook with another data directory's token; mpm-hook spools those events)."}),
		batch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "mpm_commit_batch_events", Help: "Events grouped per commit.",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024},
		}),
		hub: hub.NewMetrics(reg),
	}
	reg.MustRegister(m.accepted, m.duplicates, m.rejected, m.spooled, m.hookRefused, m.batch,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, r := range []event.Reason{event.ReasonTooLarge, event.ReasonInvalidUTF8, event.ReasonInvalidJSON,
		event.ReasonNotObject, event.ReasonMissingField, event.ReasonBadHeader, event.ReasonUnauthorized,
		event.ReasonForbidden, event.ReasonUnavailable} {
		m.rejected.WithLabelValues(string(r))
	}
	return m
}

func (m *metrics) reject(r event.Reason) { m.rejected.WithLabelValues(string(r)).Inc() }
