// Package hub fans sequenced events out to WebSocket clients. Each client has
// a byte-bounded queue and its own writer goroutine, so a slow or stalled
// client never delays ingest or any other client; one that falls too far
// behind is closed with a reason and may reconnect and resume.
package hub

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/mpm-dev/mpm/internal/event"
	"github.com/mpm-dev/mpm/internal/store"
)

// Config configures a Hub. Zero fields take the defaults in parentheses.
type Config struct {
	// Store is where replays are read from.
	Store store.Reader
	// Logger is the hub's named logger.
	Logger hclog.Logger
	// Metrics receives the hub's counters; nil registers nothing.
	Metrics *Metrics
	// Instance is the daemon's instance id, sent in hello.
	Instance string
	// Version is the daemon's version, sent in hello.
	Version string
	// QueueBytes bounds each client's queue (64 MiB). Events are shared
	// between clients, so this bounds lag, not memory per client.
	QueueBytes int
	// MaxFrameBytes is the largest events frame a writer builds (1 MiB); a
	// single larger event goes in a frame of its own.
	MaxFrameBytes int
	// Heartbeat is the ping and application heartbeat interval (10 s).
	Heartbeat time.Duration
	// WriteTimeout bounds every write to a client (10 s).
	WriteTimeout time.Duration
	// ControlBytes bounds each client's unwritten replies (hello, pong,
	// errors; 256 KiB): a client that sends requests and never reads the
	// answers is closed with 1008 when they pass it.
	ControlBytes int
	// MaxClients bounds the connected clients (0: no limit).
	MaxClients int
	// ReplayPage is how many events a replay reads from the store at once (512).
	ReplayPage int
	// ReplayBytes bounds the events a replay reads at once (MaxFrameBytes):
	// a page stops after the event that reaches it.
	ReplayBytes int
	// Coalesce is the most a client's events are held back so that they
	// share frames (8 ms; negative: never). Each client's window adapts
	// between Coalesce/16 and Coalesce to its event rate: a client that
	// gets an event now and then is written at once, a flooded one gets
	// few large frames instead of one syscall per event.
	Coalesce time.Duration
	// SessionFrames, when set, returns the "session" frames of the current
	// summaries of the sessions a subscription covers (all: sessions is
	// empty); a client gets them right after "subscribed", before the replay.
	SessionFrames func(sessions []string) [][]byte
}

func (c *Config) setDefaults() {
	if c.QueueBytes <= 0 {
		c.QueueBytes = 64 << 20
	}
	if c.MaxFrameBytes <= 0 {
		c.MaxFrameBytes = 1 << 20
	}
	if c.Heartbeat <= 0 {
		c.Heartbeat = 10 * time.Second
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = 10 * time.Second
	}
	if c.ControlBytes <= 0 {
		c.ControlBytes = 256 << 10
	}
	if c.ReplayPage <= 0 {
		c.ReplayPage = 512
	}
	if c.ReplayBytes <= 0 {
		c.ReplayBytes = c.MaxFrameBytes
	}
	if c.Coalesce == 0 {
		c.Coalesce = 8 * time.Millisecond
	}
	if c.Logger == nil {
		c.Logger = hclog.NewNullLogger()
	}
}

// Metrics are the hub's Prometheus collectors.
type Metrics struct {
	// Clients is the number of connected clients.
	Clients prometheus.Gauge
	// SlowDropped counts clients closed for falling behind.
	SlowDropped prometheus.Counter
	// Deliveries counts events written to clients.
	Deliveries prometheus.Counter
	// Frames counts events frames written to clients.
	Frames prometheus.Counter
	// Latency observes receive-to-write time per delivered live event.
	Latency prometheus.Histogram
}

// NewMetrics creates the hub's collectors and registers them with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Clients:     prometheus.NewGauge(prometheus.GaugeOpts{Name: "mpm_ws_clients", Help: "Connected WebSocket clients."}),
		SlowDropped: prometheus.NewCounter(prometheus.CounterOpts{Name: "mpm_ws_slow_clients_dropped_total", Help: "Clients closed because they fell too far behind."}),
		Deliveries:  prometheus.NewCounter(prometheus.CounterOpts{Name: "mpm_ws_deliveries_total", Help: "Events written to WebSocket clients."}),
		Frames:      prometheus.NewCounter(prometheus.CounterOpts{Name: "mpm_ws_frames_total", Help: "Events frames written to WebSocket clients."}),
		Latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "mpm_ingest_to_send_seconds",
			Help:    "Time from the daemon receiving a live event to writing it to a client.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 5},
		}),
	}
	if reg != nil {
		reg.MustRegister(m.Clients, m.SlowDropped, m.Deliveries, m.Frames, m.Latency)
	}
	return m
}

// ErrTooManyClients is returned by Register when MaxClients are connected.
var ErrTooManyClients = errors.New("too many clients")

// ErrClosed is returned by Register after Shutdown.
var ErrClosed = errors.New("hub is shutting down")

// Hub is the set of connected clients and the last published seq.
type Hub struct {
	// cfg is the hub's configuration, defaults applied.
	cfg Config
	// mu serialises Publish with Subscribe, so a subscription's replay_to
	// and the first live event it queues meet exactly.
	mu sync.Mutex
	// clients is the set of registered clients.
	clients map[*Client]struct{}
	// last is the highest published seq.
	last uint64
	// closing is set by Shutdown; no client registers after it.
	closing bool
	// wg counts running client writers, for Shutdown.
	wg sync.WaitGroup
}

// New returns a hub whose last published seq is cfg.Store.LastSeq().
func New(cfg Config) *Hub {
	cfg.setDefaults()
	return &Hub{cfg: cfg, clients: make(map[*Client]struct{}), last: cfg.Store.LastSeq()}
}

// Publish queues events (ascending seq) for every client whose subscription
// matches. It never blocks on a client. Only one goroutine publishes.
func (h *Hub) Publish(evs []*event.Event) {
	for _, ev := range evs {
		ev.Encode() // once, before clients share it
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, ev := range evs {
		if !ev.Ephemeral {
			h.last = ev.Seq
		}
	}
	for c := range h.clients {
		c.enqueue(evs)
	}
}

// PublishSession queues frame, the "session" frame of session id, for every
// subscribed client whose subscription covers the session. A frame still
// queued for the same session is replaced, so a client that is slow to
// write holds at most one frame per session. It never blocks on a client.
func (h *Hub) PublishSession(id string, frame []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.clients {
		c.enqueueSession(id, frame)
	}
}

// PublishKeyed queues frame under key for every subscribed client whose
// subscription covers session, like PublishSession: a frame still queued
// under the same key is replaced. Keys must not be session ids (the
// approval frames use "approval\x00"+id: a resolution replaces its unsent
// request).
func (h *Hub) PublishKeyed(session, key string, frame []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.clients {
		c.enqueueKeyed(session, key, frame)
	}
}

// LastSeq returns the highest published seq.
func (h *Hub) LastSeq() uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.last
}

// Ping takes and releases the hub's lock: it answers only if the hub is not
// wedged. The daemon's health check calls it from the ingest loop.
func (h *Hub) Ping() {
	h.mu.Lock()
	h.mu.Unlock() //nolint:staticcheck // an empty critical section is the point
}

// Clients returns the number of registered clients.
func (h *Hub) Clients() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.clients)
}

func (h *Hub) register(c *Client) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closing {
		return ErrClosed
	}
	if h.cfg.MaxClients > 0 && len(h.clients) >= h.cfg.MaxClients {
		return ErrTooManyClients
	}
	h.clients[c] = struct{}{}
	h.wg.Add(1)
	if h.cfg.Metrics != nil {
		h.cfg.Metrics.Clients.Inc()
	}
	return nil
}

func (h *Hub) unregister(c *Client) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.clients[c]; ok {
		delete(h.clients, c)
		if h.cfg.Metrics != nil {
			h.cfg.Metrics.Clients.Dec()
		}
	}
}

// subscribe replaces c's subscription. Under the hub lock, the replay's upper
// bound is the last published seq and the live queue starts empty, so the
// client gets (since, last] from the store and everything after from the
// queue: no gap, no duplicate.
func (h *Hub) subscribe(c *Client, sub Subscription) {
	h.mu.Lock()
	defer h.mu.Unlock()
	c.setSubscription(sub, h.last)
}

// Shutdown closes every client with 1001 after its queued events are written
// (each write bounded by WriteTimeout), and waits for the writers until ctx
// ends. No client registers after it.
func (h *Hub) Shutdown(ctx context.Context) error {
	h.mu.Lock()
	h.closing = true
	for c := range h.clients {
		c.closeAfterQueue(1001, "daemon shutting down; reconnect with since=<last seq seen>")
	}
	h.mu.Unlock()
	done := make(chan struct{})
	go func() { h.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		h.mu.Lock()
		for c := range h.clients {
			c.conn.Close()
		}
		h.mu.Unlock()
		return ctx.Err()
	}
}
