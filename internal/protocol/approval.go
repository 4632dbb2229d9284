package protocol

import "time"

// Permission requests answered from mpm (docs/protocol.md, "Permission
// requests answered from mpm").

// The types of the approval frames.
const (
	// TypeApproval is an ApprovalFrame: a request is pending.
	TypeApproval = "approval"
	// TypeApprovalResolved is an ApprovalResolvedFrame: it went.
	TypeApprovalResolved = "approval_resolved"
)

// Approval outcomes (ApprovalResolvedFrame.Outcome, the journaled
// MpmApprovalDecision's "outcome").
const (
	// ApprovalAllow: allowed from mpm.
	ApprovalAllow = "allow"
	// ApprovalDeny: denied from mpm.
	ApprovalDeny = "deny"
	// ApprovalExpired: nobody answered from mpm in time; Claude Code asks
	// in the terminal.
	ApprovalExpired = "expired"
	// ApprovalAnsweredElsewhere: the person answered in the terminal (a
	// later event of the call or session showed it), the hook went away,
	// or "answer from mpm" was switched off.
	ApprovalAnsweredElsewhere = "answered_elsewhere"
)

// EventApprovalDecision is the hook_event_name of the synthetic event the
// daemon journals in the session when a request is resolved.
const EventApprovalDecision = "MpmApprovalDecision"

// EventApprovalRequest is the hook_event_name of the synthetic event a
// fleet edge journals in the session when a request turns pending
// (ApprovalRequestEvent): forwarded with the session's events, it lists
// the request read-only on the hub until the edge's MpmApprovalDecision
// (or its expires_at) ends it.
const EventApprovalRequest = "MpmApprovalRequest"

// ApprovalRequestEvent is the payload of an EventApprovalRequest event.
type ApprovalRequestEvent struct {
	SessionID string   `json:"session_id"`
	Event     string   `json:"hook_event_name"`
	Cwd       string   `json:"cwd,omitempty"`
	Approval  Approval `json:"approval"`
}

// Headers of the approval exchange between mpm-hook and mpm-wsd.
const (
	// HeaderApprovalWait, on POST /v1/events of a PermissionRequest, says
	// the hook waits for a decision for that many seconds.
	HeaderApprovalWait = "Mpm-Approval-Wait"
	// HeaderApprovalID answers the pending request's id.
	HeaderApprovalID = "Mpm-Approval-Id"
	// HeaderApproval answers "off" when answering from mpm is switched
	// off (the hook returns at once) and "pending" with an id.
	HeaderApproval = "Mpm-Approval"
	// HeaderClient names the client that decides ("dashboard",
	// "monitor"), journaled with the decision.
	HeaderClient = "Mpm-Client"
)

// ApprovalOutputPrefix is how every decision the hook prints starts:
// mpm-hook prints a wait's answer only when it does (and it is one whole
// JSON object).
const ApprovalOutputPrefix = `{"hookSpecificOutput":{"hookEventName":"PermissionRequest","decision":{"behavior":"`

// Approval is one pending permission request (GET /v1/approvals).
type Approval struct {
	// ID names the request in POST /v1/approvals/{id}.
	ID string `json:"id"`
	// Seq is the PermissionRequest event's seq.
	Seq uint64 `json:"seq"`
	// SessionID, Cwd, ToolName, ToolInput and PermissionSuggestions are
	// the request's, as Claude Code sent them.
	SessionID             string  `json:"session_id"`
	Cwd                   string  `json:"cwd,omitempty"`
	ToolName              string  `json:"tool_name"`
	ToolInput             RawJSON `json:"tool_input,omitempty"`
	PermissionSuggestions RawJSON `json:"permission_suggestions,omitempty"`
	// Origin is the machine it came from on a fleet hub.
	Origin string `json:"origin,omitempty"`
	// ReadOnly is set on a fleet hub for another machine's request: it is
	// answered on that machine (POST here answers 403).
	ReadOnly bool `json:"read_only,omitempty"`
	// RequestedAt is when the daemon took it; ExpiresAt when the hook
	// stops waiting (Claude Code then asks in the terminal).
	RequestedAt time.Time `json:"requested_at"`
	ExpiresAt   time.Time `json:"expires_at"`
}

// Approvals is the answer of GET /v1/approvals.
type Approvals struct {
	Approvals []Approval `json:"approvals"`
}

// ApprovalDecision is the body of POST /v1/approvals/{id}.
type ApprovalDecision struct {
	// Decision is "allow" or "deny".
	Decision string `json:"decision"`
	// Message is what Claude is told on a deny.
	Message string `json:"message,omitempty"`
	// Suggestion, with allow, is the index of the permission_suggestions
	// entry to apply ("always allow").
	Suggestion *int `json:"suggestion,omitempty"`
}

// ApprovalResult is the answer of POST /v1/approvals/{id} (200, and 409
// with the outcome that came first).
type ApprovalResult struct {
	ID      string    `json:"id"`
	Outcome string    `json:"outcome"`
	By      string    `json:"by,omitempty"`
	At      time.Time `json:"at,omitzero"`
	Error   string    `json:"error,omitempty"`
}

// ApprovalMode is GET/PUT /v1/approvals/mode: whether pending requests
// wait for an answer from mpm.
type ApprovalMode struct {
	Enabled bool `json:"enabled"`
}

// ApprovalFrame is sent to every subscribed client when a request appears
// (and at subscription, for each pending one).
type ApprovalFrame struct {
	// Type is "approval".
	Type     string   `json:"type"`
	Approval Approval `json:"approval"`
}

// ApprovalResolvedFrame is sent when a request goes.
type ApprovalResolvedFrame struct {
	// Type is "approval_resolved".
	Type string `json:"type"`
	ID   string `json:"id"`
	// SessionID is the request's session.
	SessionID string `json:"session_id"`
	// Outcome is allow, deny, expired or answered_elsewhere.
	Outcome string `json:"outcome"`
	// By says who decided: "dashboard 127.0.0.1:5555", "monitor …", or
	// "mpm-wsd" for an expiry.
	By      string    `json:"by,omitempty"`
	Message string    `json:"message,omitempty"`
	At      time.Time `json:"at"`
}
