package wsd

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/mpm-dev/mpm/internal/event"
	"github.com/mpm-dev/mpm/internal/hub"
	"github.com/mpm-dev/mpm/internal/protocol"
	"github.com/mpm-dev/mpm/internal/store"
	"github.com/mpm-dev/mpm/internal/version"
)

// Headers of POST /v1/events (docs/protocol.md).
const (
	HeaderIdempotencyKey = protocol.HeaderIdempotencyKey
	HeaderSentAt         = protocol.HeaderSentAt
	HeaderEphemeral      = protocol.HeaderEphemeral
	HeaderSeq            = protocol.HeaderSeq
	maxKeyLen            = protocol.MaxKeyLen
)

// handler is the daemon's handler: the routes behind the connection cap.
func (s *Server) handler(static http.Handler) http.Handler {
	return s.conns.capped(s.routes(static))
}

// routes builds the daemon's routes.
func (s *Server) routes(static http.Handler) http.Handler {
	g := s.guard
	mux := http.NewServeMux()
	mux.Handle("POST /v1/events", g.api(http.HandlerFunc(s.handleIngest), false))
	mux.Handle("GET /v1/events", g.api(http.HandlerFunc(s.handleHistory), false))
	mux.Handle("GET /v1/sessions", g.api(http.HandlerFunc(s.handleSessions), false))
	mux.Handle("GET /v1/usage", g.api(http.HandlerFunc(s.handleUsage), false)) // usage_routes.go
	mux.Handle("GET /v1/ws", g.api(http.HandlerFunc(s.handleWS), true))
	mux.Handle("GET /v1/approvals", g.api(http.HandlerFunc(s.handleApprovals), false))
	mux.Handle("GET /v1/approvals/mode", g.api(http.HandlerFunc(s.handleApprovalMode), false))
	mux.Handle("PUT /v1/approvals/mode", g.api(http.HandlerFunc(s.handleApprovalMode), false))
	mux.Handle("POST /v1/approvals/{id}", g.api(http.HandlerFunc(s.handleApprovalDecide), false))
	mux.Handle("GET /v1/approvals/{id}/wait", g.api(http.HandlerFunc(s.handleApprovalWait), false))
	mux.Handle("GET /metrics", g.api(s.metricsHandler(), false))
	mux.Handle("GET /healthz", g.hostOnly(http.HandlerFunc(s.handleHealth)))
	mux.Handle("/healthz", g.hostOnly(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", "GET, HEAD")
		httpError(w, http.StatusMethodNotAllowed, "/healthz answers GET only")
	})))
	s.historyRoutes(mux, g) // GET /v1/search, GET /v1/sessions/{id}/export (history_routes.go)
	mux.Handle("/v1/", g.api(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		httpError(w, http.StatusNotFound, "no such endpoint: see docs/protocol.md")
	}), false))
	if static != nil {
		mux.Handle("/", g.hostOnly(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodGet && r.Method != http.MethodHead {
				w.Header().Set("Allow", "GET, HEAD")
				httpError(w, http.StatusMethodNotAllowed, "the dashboard's files are read-only")
				return
			}
			static.ServeHTTP(w, r)
		})))
	}
	return mux
}

// handleIngest is POST /v1/events.
func (s *Server) handleIngest(w http.ResponseWriter, r *http.Request) {
	received := time.Now()
	limit := s.cfg.MaxEventBytes
	if r.ContentLength > int64(limit) {
		s.rejectEvent(w, &event.Error{Reason: event.ReasonTooLarge, Msg: "payload is " + strconv.FormatInt(r.ContentLength, 10) + " bytes, more than the limit of " + strconv.Itoa(limit) + " (--max-event-bytes)"})
		return
	}
	var body []byte
	var err error
	if r.ContentLength > 0 {
		body, err = readSized(r.Body, int(r.ContentLength)) // <= limit: checked above
	} else {
		body, err = readBody(r.Body, limit)
	}
	if err != nil {
		s.m.reject(event.ReasonReadError)
		httpError(w, http.StatusBadRequest, "could not read the request body: "+err.Error())
		return
	}
	if len(body) > limit {
		s.rejectEvent(w, &event.Error{Reason: event.ReasonTooLarge, Msg: "payload is more than the limit of " + strconv.Itoa(limit) + " bytes (--max-event-bytes)"})
		return
	}
	ev, err := event.Parse(body, limit)
	if err != nil {
		s.rejectEvent(w, err)
		return
	}
	if err := readHeaders(r, ev); err != nil {
		s.rejectEvent(w, err)
		return
	}
	ev.Received = received
	res := s.ingest.submit(r.Context(), ev)
	if res.err != nil {
		s.m.reject(event.ReasonUnavailable)
		httpError(w, http.StatusServiceUnavailable, "event not stored, retry later: "+res.err.Error())
		return
	}
	if ev.Ephemeral {
		w.WriteHeader(http.StatusAccepted)
		return
	}
	w.Header().Set(HeaderSeq, strconv.FormatUint(res.seq, 10))
	if v := r.Header.Get(protocol.HeaderApprovalWait); v != "" && ev.Name == "PermissionRequest" {
		s.registerApproval(w, ev, v, res.seq, res.dup)
	}
	if res.dup {
		w.WriteHeader(http.StatusOK)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// bodyBufs are read buffers for request bodies, reused up to 64 KiB.
var bodyBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// bodyFirstRead is how much of an announced body readSized reads before it
// trusts the announced length.
const bodyFirstRead = 64 << 10

// readBody reads a request body up to limit+1 bytes (more than limit means
// too large). Its buffer grows with the bytes that arrive, never with the
// Content-Length the client announced: a client that announces a megabyte
// and sends a trickle costs a trickle. The answer is an exact-size copy,
// since the event keeps it.
func readBody(body io.Reader, limit int) ([]byte, error) {
	buf := bodyBufs.Get().(*bytes.Buffer)
	buf.Reset()
	defer func() {
		if buf.Cap() <= 64<<10 {
			bodyBufs.Put(buf)
		}
	}()
	if _, err := buf.ReadFrom(io.LimitReader(body, int64(limit)+1)); err != nil {
		return nil, err
	}
	return bytes.Clone(buf.Bytes()), nil
}

// readSized reads a body whose length n (0 < n <= limit) the client
// announced: the first min(n, bodyFirstRead) bytes into a reused buffer,
// then, once they have arrived, everything into one buffer of exactly n
// bytes, which the event keeps. A large payload (a Read of a big file) is
// thus read in a few large reads into its final place, with no growing
// buffer and no copy at the end (before, a 256 KiB body cost ~1.5 MiB of
// copying and clearing before the answer), and the first read touches no
// fresh memory (a fresh 64 KiB buffer cost 16 page faults, ~30 µs here); a
// client that announces a lot and sends a trickle still costs only what it
// sent, up to bodyFirstRead. A body that ends early is an error
// (io.ErrUnexpectedEOF, as net/http reports it).
func readSized(body io.Reader, n int) ([]byte, error) {
	first := min(n, bodyFirstRead)
	fb := firstBufs.Get().(*[bodyFirstRead]byte)
	defer firstBufs.Put(fb)
	if _, err := io.ReadFull(body, fb[:first]); err != nil {
		return nil, err
	}
	if n == first {
		return bytes.Clone(fb[:n]), nil
	}
	// append's growth copies the first bytes without clearing them first
	// (make would), and clears only the rest.
	b := append(fb[:first:first], make([]byte, n-first)...)[:n:n]
	if _, err := io.ReadFull(body, b[first:]); err != nil {
		return nil, err
	}
	return b, nil
}

// firstBufs are readSized's first-read buffers.
var firstBufs = sync.Pool{New: func() any { return new([bodyFirstRead]byte) }}

// readHeaders applies the optional ingest headers to ev.
func readHeaders(r *http.Request, ev *event.Event) error {
	if k := r.Header.Get(HeaderIdempotencyKey); k != "" {
		if len(k) > maxKeyLen {
			return &event.Error{Reason: event.ReasonBadHeader, Msg: "Idempotency-Key is longer than 128 characters"}
		}
		if !protocol.ValidKey(k) {
			return &event.Error{Reason: event.ReasonBadHeader, Msg: "Idempotency-Key must be printable ASCII without spaces"}
		}
		ev.Key = k
	}
	if v := r.Header.Get(HeaderSentAt); v != "" {
		ns, err := strconv.ParseInt(v, 10, 64)
		if err != nil || ns <= 0 {
			return &event.Error{Reason: event.ReasonBadHeader, Msg: "Mpm-Sent-At must be Unix nanoseconds"}
		}
		ev.Sent = time.Unix(0, ns)
	}
	switch v := r.Header.Get(HeaderEphemeral); v {
	case "", "0":
	case "1":
		ev.Ephemeral = true
	default:
		return &event.Error{Reason: event.ReasonBadHeader, Msg: "Mpm-Ephemeral must be 1 or 0"}
	}
	return nil
}

// rejectEvent answers a refused event with its status, message and counter.
func (s *Server) rejectEvent(w http.ResponseWriter, err error) {
	reason := event.ReasonOf(err)
	s.m.reject(reason)
	code := http.StatusBadRequest
	if reason == event.ReasonTooLarge {
		code = http.StatusRequestEntityTooLarge
	}
	s.log.Named("ingest").Debug("event rejected", "reason", reason, "error", err)
	httpError(w, code, "event rejected: "+err.Error())
}

// handleHistory is GET /v1/events?session=&since=&limit=.
func (s *Server) handleHistory(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	since, err := parseUint(q.Get("since"), 0)
	if err != nil {
		httpError(w, http.StatusBadRequest, "since must be a seq number: "+err.Error())
		return
	}
	limit, err := parseUint(q.Get("limit"), 1000)
	if err != nil || limit == 0 || limit > 10000 {
		httpError(w, http.StatusBadRequest, "limit must be a number from 1 to 10000")
		return
	}
	last := s.ingest.hub.LastSeq()
	f := store.Filter{Sessions: protocol.SplitList(q["session"])}
	// The answer is streamed from the store a chunk at a time (256 events,
	// 512 KiB) and stops at limit events or about HistoryBytes, whichever
	// comes first: the client goes on from next_since.
	const chunk, chunkBytes = 256, 512 << 10
	budget := s.cfg.HistoryBytes
	evs, err := s.store.Page(since, last, f, min(int(limit), chunk), min(budget, chunkBytes))
	if err != nil {
		httpError(w, http.StatusInternalServerError, "reading history failed: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	bw := bufio.NewWriterSize(w, 32<<10)
	bw.WriteString(`{"events":[`)
	next, n := since, 0
	for len(evs) > 0 {
		for _, ev := range evs {
			if n > 0 {
				bw.WriteByte(',')
			}
			ev.WriteWire(bw)
			budget -= store.EventBytes(ev)
			next = ev.Seq
			n++
		}
		if n >= int(limit) || budget <= 0 {
			break
		}
		if evs, err = s.store.Page(next, last, f, min(int(limit)-n, chunk), min(budget, chunkBytes)); err != nil {
			// The status is sent: end the answer short, so the client
			// sees a broken body rather than a page that looks whole.
			s.log.Named("http").Error("reading history failed in the middle of an answer", "error", err)
			panic(http.ErrAbortHandler)
		}
	}
	bw.WriteString(`],"next_since":`)
	bw.Write(strconv.AppendUint(nil, next, 10))
	bw.WriteString(`,"last_seq":`)
	bw.Write(strconv.AppendUint(nil, last, 10))
	bw.WriteString(`,"oldest_seq":`)
	bw.Write(strconv.AppendUint(nil, s.store.OldestSeq(), 10))
	bw.WriteString("}\n")
	bw.Flush()
}

// handleSessions is GET /v1/sessions.
func (s *Server) handleSessions(w http.ResponseWriter, r *http.Request) {
	list := s.tracker.List()
	now := time.Now()
	out := make([]protocol.Session, len(list))
	for k := range list {
		out[k] = s.caster.wire(&list[k], now)
	}
	writeJSON(w, http.StatusOK, map[string]any{"sessions": out})
}

// handleHealth is GET /healthz: 200 only if the ingest loop and the hub
// answer within a short deadline.
func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	res := s.ingest.submit(ctx, nil)
	h := protocol.Health{
		OK: res.err == nil, Service: protocol.ServiceName, Version: version.Version, Pid: os.Getpid(),
		Instance: s.instance, Uptime: time.Since(s.started).Seconds(),
		Store: s.store.Kind(), StoreNote: s.store.Note(),
	}
	if e := s.ingest.sh.status(); e != "" {
		h.Degraded, h.StoreError = true, e
	}
	code := http.StatusOK
	if res.err != nil {
		code = http.StatusServiceUnavailable
		h.Error = "event loop did not answer: " + res.err.Error()
	} else {
		h.Clients = s.ingest.hub.Clients()
		h.LastSeq = s.ingest.hub.LastSeq()
	}
	if s.fleetStatus != nil {
		if st, ok := s.fleetStatus(); ok {
			h.Fleet = &st
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, code, h)
}

// handleWS is GET /v1/ws.
func (s *Server) handleWS(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var initial *hub.Subscription
	if q.Has("session") || q.Has("since") || q.Has("tail") {
		initial = &hub.Subscription{Sessions: protocol.SplitList(q["session"])}
		if q.Has("since") {
			since, err := parseUint(q.Get("since"), 0)
			if err != nil {
				httpError(w, http.StatusBadRequest, "since must be a seq number")
				return
			}
			initial.Since = &since
		}
		if q.Has("tail") {
			tail, err := parseUint(q.Get("tail"), 0)
			if err != nil {
				httpError(w, http.StatusBadRequest, "tail must be a number")
				return
			}
			initial.Tail = int(tail)
			if initial.Since == nil {
				zero := uint64(0)
				initial.Since = &zero
			}
		}
	}
	if s.cfg.MaxClients > 0 && s.ingest.hub.Clients() >= s.cfg.MaxClients {
		s.m.reject(event.ReasonTooManyClient)
		httpError(w, http.StatusServiceUnavailable, "too many clients (--max-clients "+strconv.Itoa(s.cfg.MaxClients)+"): close another client or raise the limit")
		return
	}
	conn, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered
	}
	if err := s.ingest.hub.Serve(conn, initial); err != nil && !errors.Is(err, hub.ErrClosed) {
		s.log.Named("hub").Warn("client refused", "error", err)
	}
}

func (s *Server) newUpgrader() *websocket.Upgrader {
	return &websocket.Upgrader{
		HandshakeTimeout: 5 * time.Second,
		ReadBufferSize:   1024, // client frames are small; an idle connection keeps this buffer
		// A flooded client's frame carries tens of events (~30 KiB): a
		// buffer that holds it whole writes it in one system call, where
		// a smaller one sends it as fragments, one write each.
		WriteBufferSize: 64 << 10,
		WriteBufferPool: &sync.Pool{}, // an idle connection holds no write buffer
		CheckOrigin:     s.guard.originOK,
		Error: func(w http.ResponseWriter, r *http.Request, status int, reason error) {
			httpError(w, status, "WebSocket handshake failed: "+reason.Error())
		},
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

func parseUint(s string, def uint64) (uint64, error) {
	if s == "" {
		return def, nil
	}
	return strconv.ParseUint(s, 10, 64)
}
