package wsd

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
)

// spareConns are the connections admitted past the cap, for /healthz only:
// a supervisor's health check gets through while the cap is reached, and
// everything else on them is answered 503 and closed.
const spareConns = 8

// fdReserve are the file descriptors kept for what is not a connection
// (the journal, the spool, the token, logs) when the cap is sized to the
// process's limit.
const fdReserve = 64 + spareConns

// connCap is the connection cap for --max-conns given the process's open
// file limit (0: unknown): the cap and the fds kept for everything else
// must fit under the limit.
func connCap(maxConns int, fdLimit uint64) int {
	if fdLimit == 0 || uint64(maxConns)+fdReserve <= fdLimit {
		return maxConns
	}
	return max(int(int64(fdLimit)-fdReserve), 16)
}

// connLimiter is the daemon's listener: it holds the open connections
// (HTTP keep-alive and WebSocket alike) to a cap. At the cap a new
// connection first takes the place of the longest-idle keep-alive
// connection (a keep-alive client reconnects at no cost); with none idle
// it is admitted as a spare that may only ask /healthz, and past the spares
// it is closed at once.
type connLimiter struct {
	net.Listener
	// max is the cap.
	max int
	// log is the "http" logger.
	log hclog.Logger
	// open and refused are the metrics.
	open    prometheus.Gauge
	refused *prometheus.CounterVec

	// mu guards the fields below.
	mu sync.Mutex
	// served counts admitted connections under the cap; spare those past it.
	served, spare int
	// idle holds the keep-alive connections waiting for a request, with
	// the time they became idle.
	idle map[*limitedConn]time.Time
	// warned is when a refusal was last logged (at most one a minute).
	warned time.Time
}

// limitedConn is a connection the limiter admitted.
type limitedConn struct {
	net.Conn
	// l is the limiter.
	l *connLimiter
	// spare marks a connection past the cap (/healthz only).
	spare bool
	// released is set once the connection no longer counts (l.mu).
	released bool
}

func newConnLimiter(ln net.Listener, max int, log hclog.Logger, reg prometheus.Registerer) *connLimiter {
	l := &connLimiter{
		Listener: ln, max: max, log: log, idle: make(map[*limitedConn]time.Time),
		open:    prometheus.NewGauge(prometheus.GaugeOpts{Name: "mpm_conns_open", Help: "Open client connections (HTTP and WebSocket)."}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mpm_conns_refused_total", Help: "Connections refused at the --max-conns cap: closed at once (closed), answered 503 (spare), or a keep-alive connection closed to make room (evicted)."}, []string{"how"}),
	}
	for _, how := range []string{"closed", "spare", "evicted"} {
		l.refused.WithLabelValues(how)
	}
	reg.MustRegister(l.open, l.refused)
	return l
}

// Accept admits the next connection under the rules above.
func (l *connLimiter) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		lc := &limitedConn{Conn: c, l: l}
		l.mu.Lock()
		var evict *limitedConn
		if l.served >= l.max {
			evict = l.oldestIdle()
			if evict != nil {
				l.releaseLocked(evict)
			}
		}
		admitted := true
		switch {
		case l.served < l.max:
			l.served++
		case l.spare < spareConns:
			l.spare++
			lc.spare = true
		default:
			admitted = false
		}
		warn := !admitted && time.Since(l.warned) > time.Minute
		if warn {
			l.warned = time.Now()
		}
		l.mu.Unlock()
		if evict != nil {
			l.refused.WithLabelValues("evicted").Inc()
			evict.Conn.Close()
		}
		if warn {
			l.log.Warn("connection cap reached: closing new connections (hooks spool their events, the dashboard reconnects)", "max_conns", l.max)
		}
		if !admitted {
			l.refused.WithLabelValues("closed").Inc()
			c.Close()
			continue
		}
		l.open.Inc()
		return lc, nil
	}
}

// oldestIdle returns the longest-idle keep-alive connection, or nil.
// Callers hold l.mu.
func (l *connLimiter) oldestIdle() *limitedConn {
	var oldest *limitedConn
	var since time.Time
	for c, t := range l.idle {
		if oldest == nil || t.Before(since) {
			oldest, since = c, t
		}
	}
	return oldest
}

// releaseLocked stops counting c. Callers hold l.mu.
func (l *connLimiter) releaseLocked(c *limitedConn) {
	if c.released {
		return
	}
	c.released = true
	delete(l.idle, c)
	if c.spare {
		l.spare--
	} else {
		l.served--
	}
	l.open.Dec()
}

// Close closes the connection and frees its place.
func (c *limitedConn) Close() error {
	c.l.mu.Lock()
	c.l.releaseLocked(c)
	c.l.mu.Unlock()
	return c.Conn.Close()
}

// connState is the http.Server's ConnState hook: it keeps the set of idle
// keep-alive connections.
func (l *connLimiter) connState(c net.Conn, st http.ConnState) {
	lc, ok := c.(*limitedConn)
	if !ok {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if st == http.StateIdle && !lc.released {
		l.idle[lc] = time.Now()
	} else {
		delete(l.idle, lc)
	}
}

// spareKey marks a request's context as coming on a spare connection.
type spareKey struct{}

// connContext is the http.Server's ConnContext hook.
func connContext(ctx context.Context, c net.Conn) context.Context {
	if lc, ok := c.(*limitedConn); ok && lc.spare {
		return context.WithValue(ctx, spareKey{}, true)
	}
	return ctx
}

// capped wraps the daemon's handler: on a spare connection only /healthz
// is served, and the connection closes after the answer.
func (l *connLimiter) capped(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Context().Value(spareKey{}) == nil {
			h.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Connection", "close")
		if r.URL.Path == "/healthz" {
			h.ServeHTTP(w, r)
			return
		}
		l.refused.WithLabelValues("spare").Inc()
		w.Header().Set("Retry-After", "1")
		httpError(w, http.StatusServiceUnavailable, "too many connections (--max-conns "+strconv.Itoa(l.max)+"): retry later, close idle clients, or raise --max-conns")
	})
}
