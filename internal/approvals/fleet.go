package approvals

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/mpm-dev/mpm/internal/protocol"
)

// Fleet mode, read-only: an edge journals a protocol.EventApprovalRequest
// event when a request turns pending (RequestEvent), and its
// MpmApprovalDecision when it ends (Resolution.Event); both reach the hub
// with the session's events. The hub lists the request read-only
// (AddRemote: Origin and ReadOnly set, never answered here: Decide gives a
// *ReadOnlyError) until the edge's decision arrives (ResolveRemote) or its
// expires_at passes (the edge stopped waiting by then; this also ends the
// requests of an edge that went away).

// ReadOnlyError is Decide's error for another machine's request (403).
type ReadOnlyError struct{ Origin string }

func (e *ReadOnlyError) Error() string {
	return fmt.Sprintf("this permission request is from the machine %q and is shown here read-only: answer on the machine %s (its dashboard, or mpm-monitor approve/deny there); answering across machines is not supported yet", e.Origin, e.Origin)
}

// RequestEvent returns the payload of the MpmApprovalRequest event an edge
// journals for pending request a.
func RequestEvent(a protocol.Approval) []byte {
	b, _ := json.Marshal(protocol.ApprovalRequestEvent{SessionID: a.SessionID, Event: protocol.EventApprovalRequest, Cwd: a.Cwd, Approval: a})
	return b
}

// decisionEvent is the payload of an MpmApprovalDecision event
// (Resolution.Event writes it, ObserveRemote reads it).
type decisionEvent struct {
	SessionID  string `json:"session_id"`
	Cwd        string `json:"cwd,omitempty"`
	Event      string `json:"hook_event_name"`
	ApprovalID string `json:"approval_id"`
	RequestSeq uint64 `json:"request_seq"`
	ToolName   string `json:"tool_name"`
	Outcome    string `json:"outcome"`
	Message    string `json:"message,omitempty"`
	Suggestion *int   `json:"suggestion,omitempty"`
	By         string `json:"by"`
	At         string `json:"at"`
	Requested  string `json:"requested_at"`
}

// ObserveRemote applies an event of another origin (origin) on a fleet
// hub: an MpmApprovalRequest lists its request read-only, an
// MpmApprovalDecision ends it. Other events, and payloads that do not
// parse, are ignored (false).
func (r *Registry) ObserveRemote(origin, session, name string, payload []byte) bool {
	if origin == "" {
		return false
	}
	switch name {
	case protocol.EventApprovalRequest:
		var p protocol.ApprovalRequestEvent
		if json.Unmarshal(payload, &p) != nil || p.Approval.ID == "" {
			return false
		}
		a := p.Approval
		a.SessionID, a.Origin = session, origin // the record's, which the hub checked, not the payload's
		r.AddRemote(a)
		return true
	case protocol.EventApprovalDecision:
		var p decisionEvent
		if json.Unmarshal(payload, &p) != nil || p.ApprovalID == "" {
			return false
		}
		at, _ := time.Parse(time.RFC3339Nano, p.At)
		r.ResolveRemote(origin, session, p.ApprovalID, p.Outcome, p.By, p.Message, at)
		return true
	}
	return false
}

// AddRemote lists another machine's pending request a (a.Origin set)
// read-only until ResolveRemote or a.ExpiresAt. A request already known
// (pending, or ended: its decision arrived first) or already expired is
// not listed again.
func (r *Registry) AddRemote(a protocol.Approval) {
	if a.Origin == "" || a.ID == "" {
		return
	}
	a.ReadOnly = true
	now := r.cfg.Now()
	wait := a.ExpiresAt.Sub(now)
	if wait <= 0 {
		return
	}
	wait = min(wait, MaxWait)
	r.mu.Lock()
	if _, ok := r.byID[a.ID]; ok || r.closed {
		r.mu.Unlock()
		return
	}
	e := &entry{a: a, done: make(chan struct{})}
	r.byID[a.ID] = e
	r.pending++
	id := a.ID
	e.timer = time.AfterFunc(wait, func() {
		r.resolve(id, Resolution{Outcome: protocol.ApprovalExpired, By: a.Origin,
			Message: "its expiry passed without word from " + a.Origin + ": Claude Code asks in the terminal there"})
	})
	r.pruneLocked(now)
	r.mu.Unlock()
	if r.cfg.OnAdd != nil {
		r.cfg.OnAdd(a)
	}
}

// ResolveRemote ends another machine's request id as the machine says. A
// decision that comes before its request (or after the request expired
// here) is remembered for keepResolved, so that the request is not listed
// afterwards.
func (r *Registry) ResolveRemote(origin, session, id, outcome, by, message string, at time.Time) {
	r.mu.Lock()
	e, ok := r.byID[id]
	if ok && (!e.a.ReadOnly || e.a.Origin != origin) {
		r.mu.Unlock()
		return // not that machine's: never end another's request
	}
	if !ok {
		if !r.closed {
			now := r.cfg.Now()
			if at.IsZero() || at.After(now) {
				at = now
			}
			done := make(chan struct{})
			close(done)
			r.byID[id] = &entry{a: protocol.Approval{ID: id, SessionID: session, Origin: origin, ReadOnly: true}, done: done,
				res: &Resolution{Outcome: outcome, By: by, Message: message, At: at}}
		}
		r.mu.Unlock()
		return
	}
	r.mu.Unlock()
	r.resolve(id, Resolution{Outcome: outcome, By: by, Message: message})
}
