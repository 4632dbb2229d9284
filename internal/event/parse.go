package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/mpm-dev/mpm/internal/gist"
	"github.com/mpm-dev/mpm/internal/jsonobj"
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

// The top-level fields the daemon reads, by index; everything else stays in
// the raw payload.
const (
	fSessionID = iota
	fName
	fTool
	fToolUseID
	fCwd
	fTranscriptPath
	fReason
	fSource
	fAgentID
	fAgentType
	nFields
)

// fieldNames are the read fields' names, by index.
var fieldNames = [nFields]string{"session_id", "hook_event_name", "tool_name", "tool_use_id", "cwd", "transcript_path", "reason", "source", "agent_id", "agent_type"}

// fieldIndex returns the index of the field named key, -1 for a member the
// daemon does not read. Names match exactly, as Claude Code writes them:
// "Session_Id" is not "session_id".
func fieldIndex(key []byte) int {
	switch string(key) {
	case "session_id":
		return fSessionID
	case "hook_event_name":
		return fName
	case "tool_name":
		return fTool
	case "tool_use_id":
		return fToolUseID
	case "cwd":
		return fCwd
	case "transcript_path":
		return fTranscriptPath
	case "reason":
		return fReason
	case "source":
		return fSource
	case "agent_id":
		return fAgentID
	case "agent_type":
		return fAgentType
	}
	return -1
}

// Parse validates a hook payload of at most maxBytes and returns an Event
// holding its fields and the payload itself (not copied). The Event has no
// Seq or times yet. Errors are *Error with a reason and a message.
//
// Field names are matched exactly (case-sensitive) and, when a name is
// repeated, its first occurrence counts; the payload itself is kept as it
// came, whatever it repeats.
func Parse(payload []byte, maxBytes int) (*Event, error) {
	if maxBytes > 0 && len(payload) > maxBytes {
		return nil, reject(ReasonTooLarge, "payload is %d bytes, more than the limit of %d (--max-event-bytes)", len(payload), maxBytes)
	}
	// One pass says "a JSON object in valid UTF-8" for every good payload
	// (several times faster than utf8.Valid and json.Valid together on the
	// long strings payloads are made of); a bad one is then told apart.
	if !jsonobj.Valid(payload) {
		return nil, whyInvalid(payload)
	}
	trimmed := bytes.TrimLeft(payload, " \t\r\n")
	vals, bad := members(trimmed)
	if bad >= 0 {
		return nil, reject(ReasonMissingField, "field %q must be a string", fieldNames[bad])
	}
	if vals[fSessionID] == "" {
		return nil, reject(ReasonMissingField, "payload has no session_id: expected a Claude Code hook event")
	}
	if vals[fName] == "" {
		return nil, reject(ReasonMissingField, "payload has no hook_event_name: expected a Claude Code hook event")
	}
	ev := eventOf(&vals)
	ev.Payload = payload
	return ev, nil
}

// members reads the fields Parse knows from the members of the object obj.
// First occurrence wins: JSON.parse would keep the last, but Claude Code
// never repeats a name, so a repeat is someone else's doing. bad is the
// index of a field that is not a string (or null), or -1.
func members(obj []byte) (vals [nFields]string, bad int) {
	var seen [nFields]bool
	bad = -1
	gist.Members(obj, func(rawKey, val []byte) bool {
		i := keyIndex(rawKey)
		if i < 0 || seen[i] {
			return true
		}
		seen[i] = true
		if val[0] == 'n' { // null: as if absent
			return true
		}
		s, ok := decodeString(val)
		if !ok {
			bad = i
			return false
		}
		vals[i] = s
		return true
	})
	return vals, bad
}

// eventOf is the Event of the fields members read.
func eventOf(vals *[nFields]string) *Event {
	reason := vals[fReason]
	if reason == "" {
		reason = vals[fSource]
	}
	return &Event{
		SessionID:      vals[fSessionID],
		Name:           vals[fName],
		Tool:           vals[fTool],
		ToolUseID:      vals[fToolUseID],
		Cwd:            vals[fCwd],
		TranscriptPath: vals[fTranscriptPath],
		Reason:         reason,
		AgentID:        vals[fAgentID],
		AgentType:      vals[fAgentType],
	}
}

// FieldsOf returns the fields Parse reads from payload (no Seq, times,
// key or payload), without validating it: for a payload Parse accepted
// before, read back from a store that keeps only the payload for some of
// them. Fields it cannot read are empty.
func FieldsOf(payload []byte) *Event {
	vals, _ := members(bytes.TrimLeft(payload, " \t\r\n"))
	return eventOf(&vals)
}

// whyInvalid returns the rejection of a payload that is not a JSON object in
// valid UTF-8.
func whyInvalid(payload []byte) error {
	if !utf8.Valid(payload) {
		return reject(ReasonInvalidUTF8, "payload is not valid UTF-8")
	}
	trimmed := bytes.TrimLeft(payload, " \t\r\n")
	if len(trimmed) == 0 {
		return reject(ReasonInvalidJSON, "payload is empty: expected the hook's JSON object")
	}
	valid := json.Valid(payload)
	if trimmed[0] != '{' {
		if valid {
			return reject(ReasonNotObject, "payload is JSON but not an object: expected the hook's JSON object")
		}
		return reject(ReasonInvalidJSON, "payload is not valid JSON")
	}
	var v struct{}
	return reject(ReasonInvalidJSON, "payload is not valid JSON: %v", json.Unmarshal(payload, &v))
}

// keyIndex is fieldIndex of a raw key (quotes included), decoding escapes
// only when there are some.
func keyIndex(raw []byte) int {
	body := raw[1 : len(raw)-1]
	if bytes.IndexByte(body, '\\') < 0 {
		return fieldIndex(body)
	}
	s, _ := decodeString(raw)
	return fieldIndex([]byte(s))
}

// decodeString returns the text of raw when it is a JSON string; ok is
// false for any other value.
func decodeString(raw []byte) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' {
		return "", false
	}
	body := raw[1 : len(raw)-1]
	if bytes.IndexByte(body, '\\') < 0 {
		return string(body), true // valid UTF-8 without escapes: as it is
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}
