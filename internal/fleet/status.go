package fleet

import (
	"context"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mpm-dev/mpm/internal/protocol"
	"github.com/mpm-dev/mpm/internal/wsd"
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

// Loop is one fleet-mode loop, an edge's outbox (Edge) or a hub's
// consumer (Consumer), with the status of its NATS link. Run goes into
// wsd.Options.Background and Status into wsd.Options.FleetStatus: each
// daemon asks its own loop, nothing is process-wide.
type Loop struct {
	link *link
	run  func(ctx context.Context, s *wsd.Server) error
	// prepare, when set, runs before the daemon answers any request.
	prepare func(s *wsd.Server)
	// register registers the loop's metrics on the daemon's registry,
	// once (registerOnce): from Prepare, so that the first scrape after a
	// start has them, else when the loop starts.
	register     func(s *wsd.Server) *metrics
	registerOnce sync.Once
	// m are the registered metrics (set by registerOnce).
	m *metrics
}

// metricsFor registers the loop's metrics on s's registry, the first time,
// and returns them.
func (l *Loop) metricsFor(s *wsd.Server) *metrics {
	l.registerOnce.Do(func() { l.m = l.register(s) })
	return l.m
}

// Prepare does what must be done before the daemon answers a request (for
// wsd.Options.Prepare): a hub lists again the other machines' permission
// requests still pending, so that none is missing from the first
// GET /v1/approvals after a restart; and the loop's metrics are
// registered (a hub's per-origin usage among them), so that the first
// scrape has them: the loop's goroutine may not have run yet.
func (l *Loop) Prepare(s *wsd.Server) {
	l.metricsFor(s)
	if l.prepare != nil {
		l.prepare(s)
	}
}

// Run runs the loop until ctx ends (for wsd.Options.Background).
func (l *Loop) Run(ctx context.Context, s *wsd.Server) error { return l.run(ctx, s) }

// Status is the loop's NATS link for /healthz (for wsd.Options.FleetStatus);
// ok is always true: fleet mode is on.
func (l *Loop) Status() (st Status, ok bool) { return l.link.get(), true }

// metrics are fleet mode's collectors on the daemon's registry.
type metrics struct {
	published, publishErrors, consumed, ingestErrors prometheus.Counter
	// stubbed counts the events published as stubs (edge only).
	stubbed prometheus.Counter
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
