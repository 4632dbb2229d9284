package wsd

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/mpm-dev/mpm/internal/event"
	"github.com/mpm-dev/mpm/internal/logging"
)

// The Unix socket (<data-dir>/wsd.sock, not on Windows) is a second door to
// POST /v1/events, for mpm-hook: connecting over it costs less than TCP, and
// it needs no token. Being able to open it is the authentication: it is
// 0600 in the 0700 data directory, and on Linux the peer's uid
// (SO_PEERCRED) must be the daemon's own. It serves ingest only; every
// other request on it is refused and belongs on the TCP address.

// peerKey marks a request's context with whether the socket's peer passed
// the uid check.
type peerKey struct{}

// socketServer builds the HTTP server for the socket listener ln, capped
// like the TCP listener (its connections are counted on their own, not in
// mpm_conns_*).
func (s *Server) socketServer(ln net.Listener) *http.Server {
	lim := newConnLimiter(ln, s.conns.max, s.log.Named(logging.NameHTTP), prometheus.NewRegistry())
	s.sockLn = lim
	return &http.Server{
		Handler:           lim.capped(s.socketRoutes()),
		ReadHeaderTimeout: s.cfg.HeaderTimeout,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       s.cfg.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ConnState:         lim.connState,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			ctx = connContext(ctx, c)
			if lc, ok := c.(*limitedConn); ok {
				c = lc.Conn
			}
			return context.WithValue(ctx, peerKey{}, s.peerAllowed(c))
		},
		ErrorLog: s.log.Named(logging.NameHTTP).StandardLogger(&hclog.StandardLoggerOptions{InferLevels: true}),
	}
}

// peerAllowed reports whether the process at the other end of c runs as
// the daemon's uid, where the OS tells (Linux); elsewhere the socket's file
// mode is the check.
func (s *Server) peerAllowed(c net.Conn) bool {
	uid, ok := peerUID(c)
	if !ok {
		return true
	}
	if uid != selfUID() {
		s.m.refusedLog.warn("socket-peer", "refused a connection on the Unix socket from another user: its hook falls back to TCP with the token", "peer_uid", uid, "daemon_uid", selfUID())
		return false
	}
	return true
}

// socketRoutes serves POST /v1/events without the token, and refuses the
// rest.
func (s *Server) socketRoutes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/events", func(w http.ResponseWriter, r *http.Request) {
		if ok, _ := r.Context().Value(peerKey{}).(bool); !ok {
			s.m.reject(event.ReasonForbidden)
			w.Header().Set("Connection", "close")
			httpError(w, http.StatusForbidden, "the Unix socket serves only the user the daemon runs as (uid "+strconv.Itoa(selfUID())+"): post to http://"+s.Addr()+"/v1/events with the token instead")
			return
		}
		if _, ok := r.Header["Origin"]; ok {
			s.m.reject(event.ReasonForbidden)
			w.Header().Set("Connection", "close")
			httpError(w, http.StatusForbidden, "a request with an Origin header is refused on the Unix socket: it is for mpm-hook, not browsers")
			return
		}
		s.handleIngest(w, r)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		httpError(w, http.StatusNotFound, "the Unix socket serves POST /v1/events only: everything else is at http://"+s.Addr()+" (see docs/protocol.md)")
	})
	return mux
}
