package wsd

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mpm-dev/mpm/internal/approvals"
	"github.com/mpm-dev/mpm/internal/event"
	"github.com/mpm-dev/mpm/internal/protocol"
	"github.com/mpm-dev/mpm/internal/protocol/codec"
)

// Permission requests answered from mpm (docs/protocol.md): the hook posts
// a PermissionRequest with Mpm-Approval-Wait, the daemon registers it, a
// person answers through POST /v1/approvals/{id}, the hook long-polls
// /v1/approvals/{id}/wait for the answer.

// reasonBadApproval counts refused decision bodies in
// mpm_events_rejected_total.
const reasonBadApproval = event.Reason("bad_approval")

// approvalKey is the hub queue key of a request's frames.
func approvalKey(id string) string { return "approval\x00" + id }

// setupApprovals builds the registry and the switch.
func (s *Server) setupApprovals() {
	mode, err := approvals.LoadMode(s.cfg.DataDir)
	if err != nil {
		s.log.Named("approvals").Warn("could not read the approvals switch; answering from mpm stays on", "error", err)
	}
	s.approvalMode = mode
	resolved := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mpm_approvals_resolved_total",
		Help: "Permission requests answered from mpm, by outcome (allow, deny, expired, answered_elsewhere)."}, []string{"outcome"})
	s.m.reg.MustRegister(resolved)
	for _, o := range []string{protocol.ApprovalAllow, protocol.ApprovalDeny, protocol.ApprovalExpired, protocol.ApprovalAnsweredElsewhere} {
		resolved.WithLabelValues(o)
	}
	s.m.rejected.WithLabelValues(string(reasonBadApproval))
	s.approvals = approvals.New(approvals.Config{
		OnAdd: func(a protocol.Approval) {
			s.ingest.hub.PublishKeyed(a.SessionID, approvalKey(a.ID),
				codec.Encode(protocol.ApprovalFrame{Type: protocol.TypeApproval, Approval: a}))
			if !a.ReadOnly {
				s.fleetHooks.approval(a)
			}
		},
		OnResolve: func(res approvals.Resolution) {
			if res.Approval.ReadOnly {
				// Another machine's request (fleet hub): that machine
				// counts and journals its own end.
				s.ingest.hub.PublishKeyed(res.Approval.SessionID, approvalKey(res.Approval.ID), resolvedFrame(res))
				return
			}
			resolved.WithLabelValues(res.Outcome).Inc()
			s.ingest.hub.PublishKeyed(res.Approval.SessionID, approvalKey(res.Approval.ID), resolvedFrame(res))
			s.log.Named("approvals").Info("permission request resolved", "id", res.Approval.ID, "session", res.Approval.SessionID,
				"tool", res.Approval.ToolName, "outcome", res.Outcome, "by", res.By)
			if !res.Decided() {
				// Expiry, answered elsewhere: from a timer or the ingest
				// loop, which must not wait for its own commit.
				s.approvalJournal.Add(1)
				go func() {
					defer s.approvalJournal.Done()
					s.journalResolution(res)
				}()
			}
		},
	}, s.instance)
	s.ingest.observed = func(evs []*event.Event) {
		for _, ev := range evs {
			s.approvals.Observe(ev.SessionID, ev.Name, ev.Tool, func() []byte { return ev.Payload })
		}
	}
}

func resolvedFrame(res approvals.Resolution) []byte {
	return codec.Encode(protocol.ApprovalResolvedFrame{Type: protocol.TypeApprovalResolved, ID: res.Approval.ID,
		SessionID: res.Approval.SessionID, Outcome: res.Outcome, By: res.By, Message: res.Message, At: res.At})
}

// approvalFrames are the frames of the pending requests of sessions, sent
// at subscription after the session frames.
func (s *Server) approvalFrames(sessions []string) [][]byte {
	var out [][]byte
	for _, a := range s.approvals.PendingFor(sessions) {
		out = append(out, codec.Encode(protocol.ApprovalFrame{Type: protocol.TypeApproval, Approval: a}))
	}
	return out
}

// journalResolution stores res as an MpmApprovalDecision event of the
// request's session, so that it is part of the session's history.
func (s *Server) journalResolution(res approvals.Resolution) error {
	ev, err := event.Parse(res.Event(), 0)
	if err == nil {
		ev.Key = "mpm-approval-" + res.Approval.ID
		ev.Received = time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err = s.ingest.submit(ctx, ev).err
	}
	if err != nil {
		s.log.Named("approvals").Error("could not journal a permission decision", "id", res.Approval.ID, "outcome", res.Outcome, "error", err)
	}
	return err
}

// registerApproval answers a PermissionRequest posted by a hook that waits
// (Mpm-Approval-Wait: seconds): pending with an id, or "off".
func (s *Server) registerApproval(w http.ResponseWriter, ev *event.Event, wait string, seq uint64, dup bool) {
	secs, err := strconv.Atoi(wait)
	if err != nil || secs <= 0 {
		w.Header().Set(protocol.HeaderApproval, "invalid")
		return
	}
	if !s.approvalMode.Enabled() {
		w.Header().Set(protocol.HeaderApproval, "off")
		return
	}
	if dup {
		for _, a := range s.approvals.Pending() {
			if a.Seq == seq {
				w.Header().Set(protocol.HeaderApproval, "pending")
				w.Header().Set(protocol.HeaderApprovalID, a.ID)
			}
		}
		return
	}
	var p struct {
		Cwd         string          `json:"cwd"`
		ToolName    string          `json:"tool_name"`
		ToolInput   json.RawMessage `json:"tool_input"`
		Suggestions json.RawMessage `json:"permission_suggestions"`
	}
	json.Unmarshal(ev.Payload, &p)
	a := s.approvals.Add(protocol.Approval{Seq: seq, SessionID: ev.SessionID, Cwd: p.Cwd, ToolName: p.ToolName,
		ToolInput: protocol.RawJSON(p.ToolInput), PermissionSuggestions: protocol.RawJSON(p.Suggestions), Origin: ev.Origin},
		time.Duration(secs)*time.Second)
	if a.ID != "" {
		w.Header().Set(protocol.HeaderApproval, "pending")
		w.Header().Set(protocol.HeaderApprovalID, a.ID)
	}
}

// handleApprovals is GET /v1/approvals.
func (s *Server) handleApprovals(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, struct {
		Approvals []protocol.Approval `json:"approvals"`
		Enabled   bool                `json:"enabled"`
	}{s.approvals.Pending(), s.approvalMode.Enabled()})
}

// handleApprovalMode is GET and PUT /v1/approvals/mode.
func (s *Server) handleApprovalMode(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPut {
		body, err := readBody(r.Body, 1024)
		var v struct {
			Enabled *bool `json:"enabled"`
		}
		if err != nil || len(body) > 1024 || json.Unmarshal(body, &v) != nil || v.Enabled == nil {
			httpError(w, http.StatusBadRequest, `want {"enabled":true|false}`)
			return
		}
		if err := s.approvalMode.Set(*v.Enabled); err != nil {
			httpError(w, http.StatusInternalServerError, "could not save the switch in the data directory: "+err.Error())
			return
		}
		by := approvals.CleanBy(r.Header.Get(protocol.HeaderClient)) + " " + r.RemoteAddr
		s.log.Named("approvals").Info("answering from mpm switched", "enabled", *v.Enabled, "by", by)
		if !*v.Enabled {
			s.approvals.ReleaseAll(by, "answering from mpm was switched off: Claude Code asks in the terminal")
		}
	}
	writeJSON(w, http.StatusOK, protocol.ApprovalMode{Enabled: s.approvalMode.Enabled()})
}

// handleApprovalDecide is POST /v1/approvals/{id}.
func (s *Server) handleApprovalDecide(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	body, err := readBody(r.Body, approvals.MaxBody)
	if err != nil {
		httpError(w, http.StatusBadRequest, "could not read the request body: "+err.Error())
		return
	}
	d, err := approvals.ParseDecision(body)
	if err != nil {
		s.m.reject(reasonBadApproval)
		httpError(w, http.StatusBadRequest, "bad decision: "+err.Error())
		return
	}
	by := approvals.CleanBy(r.Header.Get(protocol.HeaderClient)) + " " + r.RemoteAddr
	res, err := s.approvals.Decide(id, d, by)
	var resolved *approvals.ResolvedError
	var readOnly *approvals.ReadOnlyError
	switch {
	case errors.As(err, &readOnly):
		httpError(w, http.StatusForbidden, readOnly.Error())
		return
	case errors.Is(err, approvals.ErrUnknown):
		httpError(w, http.StatusNotFound, "no pending permission request "+strconvQuote(id)+": see GET /v1/approvals")
		return
	case errors.Is(err, approvals.ErrBadSuggestion):
		httpError(w, http.StatusBadRequest, "bad decision: "+err.Error())
		return
	case errors.As(err, &resolved):
		p := resolved.Resolution
		writeJSON(w, http.StatusConflict, protocol.ApprovalResult{ID: id, Outcome: p.Outcome, By: p.By, At: p.At,
			Error: "already resolved (" + p.Outcome + "): nothing changed"})
		return
	case err != nil:
		httpError(w, http.StatusInternalServerError, err.Error())
		return
	}
	out := protocol.ApprovalResult{ID: id, Outcome: res.Outcome, By: res.By, At: res.At}
	if err := s.journalResolution(res); err != nil {
		out.Error = "the decision was handed to the hook but not journaled: " + err.Error()
	}
	writeJSON(w, http.StatusOK, out)
}

// handleApprovalWait is GET /v1/approvals/{id}/wait?timeout=SECONDS, the
// hook's long poll: 200 with the JSON the hook prints when a person
// decided, 204 for anything else (timeout, expired, answered elsewhere,
// daemon stopping), 404 for an unknown id.
func (s *Server) handleApprovalWait(w http.ResponseWriter, r *http.Request) {
	timeout := approvals.MaxWait
	if v := r.URL.Query().Get("timeout"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			httpError(w, http.StatusBadRequest, "timeout must be whole seconds")
			return
		}
		timeout = min(time.Duration(n)*time.Second, approvals.MaxWait)
	}
	// The server's read timeout would end the request's context in the
	// middle of a long wait.
	http.NewResponseController(w).SetReadDeadline(time.Time{})
	res, ok, err := s.approvals.Wait(r.Context().Done(), r.PathValue("id"), timeout)
	if errors.Is(err, approvals.ErrUnknown) {
		httpError(w, http.StatusNotFound, "no such permission request")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	if !ok || !res.Decided() {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Mpm-Approval-Outcome", res.Outcome)
	w.WriteHeader(http.StatusOK)
	w.Write(res.Output)
}

func strconvQuote(s string) string {
	if len(s) > 64 {
		s = s[:64]
	}
	return strconv.Quote(s)
}
