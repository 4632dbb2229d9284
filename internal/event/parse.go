package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"
)

// Reason names why a payload was rejected; it is the label of the
// mpm_events_rejected_total metric.
type Reason string

// Rejection reasons.
const (
	ReasonTooLarge      Reason = "too_large"
	ReasonInvalidUTF8   Reason = "invalid_utf8"
	ReasonInvalidJSON   Reason = "invalid_json"
	ReasonNotObject     Reason = "not_object"
	ReasonMissingField  Reason = "missing_field"
	ReasonBadHeader     Reason = "bad_header"
	ReasonUnauthorized  Reason = "unauthorized"
	ReasonForbidden     Reason = "forbidden"
	ReasonUnavailable   Reason = "unavailable"
	ReasonReadError     Reason = "read_error"
	ReasonMethod        Reason = "method"
	ReasonTooManyClient Reason = "too_many_clients"
)

// Error is a rejected payload: why, and a message for the sender.
type Error struct {
	// Reason is the metric label.
	Reason Reason
	// Msg says what was wrong, for the sender.
	Msg string
}

func (e *Error) Error() string { return e.Msg }

func reject(r Reason, format string, args ...any) error {
	return &Error{Reason: r, Msg: fmt.Sprintf(format, args...)}
}

// ReasonOf returns the rejection reason of err, or "" if it is not an *Error.
func ReasonOf(err error) Reason {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}

// fields are the parts of a hook payload the daemon reads. Everything else
// stays in the raw payload.
type fields struct {
	SessionID      *string `json:"session_id"`
	Name           *string `json:"hook_event_name"`
	Tool           string  `json:"tool_name"`
	ToolUseID      string  `json:"tool_use_id"`
	Cwd            string  `json:"cwd"`
	TranscriptPath string  `json:"transcript_path"`
	Reason         string  `json:"reason"`
	Source         string  `json:"source"`
	AgentID        string  `json:"agent_id"`
	AgentType      string  `json:"agent_type"`
}

// Parse validates a hook payload of at most maxBytes and returns an Event
// holding its fields and the payload itself (not copied). The Event has no
// Seq or times yet. Errors are *Error with a reason and a message.
func Parse(payload []byte, maxBytes int) (*Event, error) {
	if maxBytes > 0 && len(payload) > maxBytes {
		return nil, reject(ReasonTooLarge, "payload is %d bytes, more than the limit of %d (--max-event-bytes)", len(payload), maxBytes)
	}
	if !utf8.Valid(payload) {
		return nil, reject(ReasonInvalidUTF8, "payload is not valid UTF-8")
	}
	trimmed := bytes.TrimLeft(payload, " \t\r\n")
	if len(trimmed) == 0 {
		return nil, reject(ReasonInvalidJSON, "payload is empty: expected the hook's JSON object")
	}
	if trimmed[0] != '{' {
		if json.Valid(payload) {
			return nil, reject(ReasonNotObject, "payload is JSON but not an object: expected the hook's JSON object")
		}
		return nil, reject(ReasonInvalidJSON, "payload is not valid JSON")
	}
	var f fields
	if err := json.Unmarshal(payload, &f); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return nil, reject(ReasonMissingField, "field %q must be a string", typeErr.Field)
		}
		return nil, reject(ReasonInvalidJSON, "payload is not valid JSON: %v", err)
	}
	if f.SessionID == nil || *f.SessionID == "" {
		return nil, reject(ReasonMissingField, "payload has no session_id: expected a Claude Code hook event")
	}
	if f.Name == nil || *f.Name == "" {
		return nil, reject(ReasonMissingField, "payload has no hook_event_name: expected a Claude Code hook event")
	}
	reason := f.Reason
	if reason == "" {
		reason = f.Source
	}
	return &Event{
		SessionID:      *f.SessionID,
		Name:           *f.Name,
		Tool:           f.Tool,
		ToolUseID:      f.ToolUseID,
		Cwd:            f.Cwd,
		TranscriptPath: f.TranscriptPath,
		Reason:         reason,
		AgentID:        f.AgentID,
		AgentType:      f.AgentType,
		Payload:        payload,
	}, nil
}

// agentKey is how an agent_id field starts in a payload.
var agentKey = []byte(`"agent_id"`)

// FillAgent sets AgentID and AgentType from the payload, for an event read
// back from a store that keeps only the payload for them. Payloads without
// an agent_id (most) cost one byte search.
func (e *Event) FillAgent() {
	if e.AgentID != "" || !bytes.Contains(e.Payload, agentKey) {
		return
	}
	var f struct {
		AgentID   string `json:"agent_id"`
		AgentType string `json:"agent_type"`
	}
	if json.Unmarshal(e.Payload, &f) == nil {
		e.AgentID, e.AgentType = f.AgentID, f.AgentType
	}
}
