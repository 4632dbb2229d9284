package fleet

import (
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mpm-dev/mpm/internal/protocol"
)

// Status is the state of this daemon's NATS link, for /healthz and
// mpm-verify (its definition is part of the protocol).
type Status = protocol.FleetStatus

// link holds one loop's live status.
type link struct {
	mu sync.Mutex
	st Status
}

func (l *link) update(f func(*Status)) {
	l.mu.Lock()
	f(&l.st)
	l.mu.Unlock()
}

// onConn records a connection change (connect's callback).
func (l *link) onConn(up bool, err error) {
	l.update(func(s *Status) {
		s.Connected = up
		if err != nil {
			s.LastError = err.Error()
		}
	})
}

func (l *link) get() Status {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.st
}

// current is the link of the loop running in this process (one per daemon).
var current atomic.Pointer[link]

// CurrentStatus is the status of this process's fleet link; ok is false
// when fleet mode is off (or its loop has not started yet).
func CurrentStatus() (st Status, ok bool) {
	l := current.Load()
	if l == nil {
		return Status{}, false
	}
	return l.get(), true
}

// metrics are fleet mode's collectors on the daemon's registry.
type metrics struct {
	published, publishErrors, consumed, ingestErrors prometheus.Counter
}

// newMetrics registers the collectors on reg; lag and connected read l.
// Registering twice on one registry (a restarted loop) reuses nothing and
// is skipped quietly.
func newMetrics(reg prometheus.Registerer, l *link) *metrics {
	m := &metrics{
		published:     prometheus.NewCounter(prometheus.CounterOpts{Name: "mpm_fleet_published_total", Help: "Events acknowledged by JetStream (edge)."}),
		publishErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "mpm_fleet_publish_errors_total", Help: "Failed publish attempts (edge); the events are retried."}),
		consumed:      prometheus.NewCounter(prometheus.CounterOpts{Name: "mpm_fleet_consumed_total", Help: "Events ingested from JetStream, duplicates included (hub)."}),
		ingestErrors:  prometheus.NewCounter(prometheus.CounterOpts{Name: "mpm_fleet_ingest_errors_total", Help: "Messages that could not be ingested (hub): retried, or dropped when undecodable."}),
	}
	lag := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "mpm_fleet_outbox_lag", Help: "Stored events not yet acknowledged by JetStream (edge)."},
		func() float64 { return float64(l.get().Lag) })
	conn := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "mpm_fleet_connected", Help: "1 while the NATS connection is up."},
		func() float64 {
			if l.get().Connected {
				return 1
			}
			return 0
		})
	if reg != nil {
		for _, c := range []prometheus.Collector{m.published, m.publishErrors, m.consumed, m.ingestErrors, lag, conn} {
			_ = reg.Register(c)
		}
	}
	return m
}
