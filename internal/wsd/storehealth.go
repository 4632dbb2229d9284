package wsd

import (
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/mpm-dev/mpm/internal/logging"
)

// storeLogPeriod is how often a store failure that repeats at every commit
// (a full disk) is logged at most; the lines in between are counted.
const storeLogPeriod = 10 * time.Second

// storeHealth follows the store's write failures for /healthz, /metrics and
// the log: a store that cannot write makes every event a 503, which a
// restart does not cure, so /healthz says so (degraded) and the log says it
// once per storeLogPeriod rather than at every commit.
type storeHealth struct {
	log      hclog.Logger
	lim      *logging.Limiter
	failures prometheus.Counter
	degraded prometheus.Gauge

	mu sync.Mutex
	// since is when the current run of failures began; zero while writes
	// succeed.
	since time.Time
	// count is the failed commits since then; last is the last error.
	count int
	last  string
}

func newStoreHealth(log hclog.Logger, reg prometheus.Registerer) *storeHealth {
	h := &storeHealth{
		log: log, lim: logging.NewLimiter(storeLogPeriod),
		failures: prometheus.NewCounter(prometheus.CounterOpts{Name: "mpm_store_write_failures_total", Help: "Commits the event store refused (the events were answered 503)."}),
		degraded: prometheus.NewGauge(prometheus.GaugeOpts{Name: "mpm_store_degraded", Help: "1 while the event store cannot write (see /healthz store_error), else 0."}),
	}
	reg.MustRegister(h.failures, h.degraded)
	return h
}

// failed records a commit of n events that the store refused.
func (h *storeHealth) failed(err error, n int) {
	h.failures.Inc()
	h.degraded.Set(1)
	h.mu.Lock()
	if h.since.IsZero() {
		h.since = time.Now()
	}
	h.count++
	h.last = err.Error()
	h.mu.Unlock()
	if ok, suppressed := h.lim.Allow("store"); ok {
		h.log.Error("storing events failed; answering 503 so senders retry (free disk space or fix the data directory: a restart does not help)",
			"events", n, "error", err, "similar_lines_suppressed", suppressed)
	}
}

// ok records a commit the store accepted.
func (h *storeHealth) ok() {
	h.mu.Lock()
	if h.since.IsZero() {
		h.mu.Unlock()
		return
	}
	since, n := h.since, h.count
	h.since, h.count, h.last = time.Time{}, 0, ""
	h.mu.Unlock()
	h.degraded.Set(0)
	h.lim.Reset("store")
	h.log.Info("storing events works again", "failed_commits", n, "after", time.Since(since).Round(time.Millisecond))
}

// status is /healthz's store_error: "" while writes succeed.
func (h *storeHealth) status() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.since.IsZero() {
		return ""
	}
	return fmt.Sprintf("the event store cannot write since %s (%d failed commits; new events get 503): %s; free disk space or fix the data directory's permissions: a restart does not help",
		h.since.UTC().Format(time.RFC3339), h.count, h.last)
}
