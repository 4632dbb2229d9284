package wsd

import (
	"bufio"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mpm-dev/mpm/internal/export"
	"github.com/mpm-dev/mpm/internal/protocol"
	"github.com/mpm-dev/mpm/internal/store"
)

// historyMetrics count the search and export requests.
type historyMetrics struct {
	// searches counts GET /v1/search by outcome: ok, bad_query,
	// unsupported (memory store), error.
	searches *prometheus.CounterVec
	// exports counts GET /v1/sessions/{id}/export by format.
	exports *prometheus.CounterVec
}

// register returns c, or the collector already registered under its name.
func register[C prometheus.Collector](reg *prometheus.Registry, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if prev, ok := are.ExistingCollector.(C); ok {
				return prev
			}
		}
		panic(err)
	}
	return c
}

// historyRoutes adds GET /v1/search and GET /v1/sessions/{id}/export.
func (s *Server) historyRoutes(mux *http.ServeMux, g *guard) {
	hm := &historyMetrics{
		searches: register(s.m.reg, prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mpm_search_requests_total",
			Help: "GET /v1/search requests, by outcome (ok, bad_query, unsupported, error)."}, []string{"outcome"})),
		exports: register(s.m.reg, prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mpm_export_requests_total",
			Help: "GET /v1/sessions/{id}/export requests, by format."}, []string{"format"})),
	}
	for _, o := range []string{"ok", "bad_query", "unsupported", "error"} {
		hm.searches.WithLabelValues(o)
	}
	mux.Handle("GET /v1/search", g.api(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.handleSearch(w, r, hm) }), false))
	mux.Handle("GET /v1/sessions/{id}/export", g.api(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.handleExport(w, r, hm) }), false))
}

// parseWhen reads since/until: an RFC 3339 time, or a duration back from
// now (90m, 24h, 7d).
func parseWhen(v string, now time.Time) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	if n, ok := strings.CutSuffix(v, "d"); ok {
		if d, err := strconv.Atoi(n); err == nil && d >= 0 {
			return now.Add(-time.Duration(d) * 24 * time.Hour), nil
		}
	}
	if d, err := time.ParseDuration(v); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, errors.New("want an RFC 3339 time (2026-11-30T10:00:00Z) or a duration back from now (90m, 24h, 7d)")
}

// handleSearch is GET /v1/search (docs/protocol.md, "Searching history").
func (s *Server) handleSearch(w http.ResponseWriter, r *http.Request, hm *historyMetrics) {
	q := r.URL.Query()
	bad := func(msg string) {
		hm.searches.WithLabelValues("bad_query").Inc()
		httpError(w, http.StatusBadRequest, msg)
	}
	sq := store.SearchQuery{Query: q.Get("q"), Session: q.Get("session"), Origin: q.Get("origin"), Limit: 50}
	if strings.TrimSpace(sq.Query) == "" {
		bad("q is required: the words to search for (see docs/protocol.md, Searching history)")
		return
	}
	now := time.Now()
	var err error
	if sq.Since, err = parseWhen(q.Get("since"), now); err != nil {
		bad("since: " + err.Error())
		return
	}
	if sq.Until, err = parseWhen(q.Get("until"), now); err != nil {
		bad("until: " + err.Error())
		return
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			bad("limit must be a number from 1 to 500")
			return
		}
		sq.Limit = n
	}
	se, ok := s.store.(store.Searcher)
	if !ok {
		hm.searches.WithLabelValues("unsupported").Inc()
		httpError(w, http.StatusNotImplemented, "search needs the journal: this mpm-wsd keeps events in memory only (--journal=false); restart it without --journal=false")
		return
	}
	hits, err := se.Search(sq)
	var qe *store.QueryError
	switch {
	case errors.As(err, &qe):
		bad("bad query: " + qe.Msg)
		return
	case err != nil:
		hm.searches.WithLabelValues("error").Inc()
		s.log.Error("search failed", "error", err)
		httpError(w, http.StatusInternalServerError, "search failed: "+err.Error())
		return
	}
	hm.searches.WithLabelValues("ok").Inc()
	res := protocol.SearchResult{Hits: make([]protocol.SearchHit, 0, len(hits))}
	for _, h := range hits {
		res.Hits = append(res.Hits, protocol.SearchHit{Seq: h.Seq, SessionID: h.SessionID, Event: h.Event, Tool: h.Tool, Received: h.Received, Snippet: h.Snippet})
	}
	writeJSON(w, http.StatusOK, res)
}

// handleExport is GET /v1/sessions/{id}/export?format=ndjson|markdown: the
// session's retained events read from the store a page at a time and
// written as they are read, so memory stays bounded by one page.
func (s *Server) handleExport(w http.ResponseWriter, r *http.Request, hm *historyMetrics) {
	id := r.PathValue("id")
	format := r.URL.Query().Get("format")
	if format == "" {
		format = "ndjson"
	}
	if format != "ndjson" && format != "markdown" {
		httpError(w, http.StatusBadRequest, "format must be ndjson or markdown")
		return
	}
	f := store.Filter{Sessions: []string{id}}
	upto := s.ingest.hub.LastSeq()
	const page = 256
	evs, err := s.store.Page(0, upto, f, page, s.cfg.HistoryBytes)
	if err != nil {
		httpError(w, http.StatusInternalServerError, "reading the session failed: "+err.Error())
		return
	}
	if len(evs) == 0 {
		httpError(w, http.StatusNotFound, "no retained events for session "+strconv.Quote(id)+": see GET /v1/sessions for the ids")
		return
	}
	hm.exports.WithLabelValues(format).Inc()
	name := "session-" + safeName(id)
	bw := bufio.NewWriterSize(w, 32<<10)
	var md *export.Markdown
	if format == "markdown" {
		w.Header().Set("Content-Type", "text/markdown; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.md"`)
		md = export.NewMarkdown(bw, id)
	} else {
		w.Header().Set("Content-Type", "application/x-ndjson")
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.ndjson"`)
	}
	w.WriteHeader(http.StatusOK)
	var buf []byte
	for len(evs) > 0 {
		for _, ev := range evs {
			if md != nil {
				err = md.Event(ev)
			} else {
				buf = append(ev.AppendWire(buf[:0]), '\n')
				_, err = bw.Write(buf)
			}
			if err != nil {
				return // the client went away
			}
		}
		if r.Context().Err() != nil {
			return
		}
		after := evs[len(evs)-1].Seq
		if evs, err = s.store.Page(after, upto, f, page, s.cfg.HistoryBytes); err != nil {
			// The status is sent: end the body short, and say so in the log.
			s.log.Error("export: reading the session failed midway; the answer is cut short", "session_id", id, "after_seq", after, "error", err)
			return
		}
	}
	if md != nil {
		if in, ok := s.tracker.Get(id); ok {
			md.Session(s.caster.wire(&in, time.Now())) // its usage, as GET /v1/sessions serves it
		}
		md.Close()
	}
	bw.Flush()
}

// safeName keeps the letters, digits, '-' and '_' of id, for a file name.
func safeName(id string) string {
	b := []byte(id)
	out := b[:0]
	for _, c := range b {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return "export"
	}
	return string(out)
}
