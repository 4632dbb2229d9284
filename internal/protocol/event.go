package protocol

import "time"

// Event is the event record (docs/protocol.md, "The event record"): what
// clients receive for each event, in "events" frames, GET /v1/events and
// the fleet's NATS messages. The daemon writes it with a hand-written
// encoder on its hot path (internal/event's AppendWire), which a fuzz test
// holds to codec.DecodeEvent; everything else reads it with
// codec.DecodeEvent.
type Event struct {
	// Seq is the daemon's sequence number; 0 for an ephemeral probe.
	Seq uint64 `json:"seq"`
	// Received is when the daemon accepted the event.
	Received time.Time `json:"received"`
	// Sent is the sender's clock at sending; zero when unknown.
	Sent time.Time `json:"sent,omitzero"`
	// SessionID is Claude Code's session id.
	SessionID string `json:"session_id"`
	// Event is the hook event name (PreToolUse, UserPromptSubmit, ...).
	Event string `json:"event"`
	// Tool is the tool name, when the event has one.
	Tool string `json:"tool,omitempty"`
	// ToolUseID pairs PreToolUse with its PostToolUse.
	ToolUseID string `json:"tool_use_id,omitempty"`
	// AgentID and AgentType name the subagent the event belongs to.
	AgentID   string `json:"agent_id,omitempty"`
	AgentType string `json:"agent_type,omitempty"`
	// Ephemeral marks a probe that has no seq and is not stored.
	Ephemeral bool `json:"ephemeral,omitempty"`
	// Origin is the machine+user the event came from, set by a fleet hub
	// (mpm-wsd --nats URL --fleet); "" for events ingested locally.
	Origin string `json:"origin,omitempty"`
	// OriginSeq is the event's seq at its origin; 0 without an origin.
	OriginSeq uint64 `json:"origin_seq,omitempty"`
	// Payload is the original hook JSON, byte for byte.
	Payload RawJSON `json:"payload"`
	// Raw is the whole record as it came on the wire (set by
	// codec.DecodeEvent); never encoded.
	Raw RawJSON `json:"-"`
}

// RawJSON is a JSON value kept as its bytes, like encoding/json's
// RawMessage (which this package cannot name: mpm-hook links it, and must
// not link encoding/json).
type RawJSON []byte

// MarshalJSON returns m, or null when m is empty.
func (m RawJSON) MarshalJSON() ([]byte, error) {
	if m == nil {
		return []byte("null"), nil
	}
	return m, nil
}

// UnmarshalJSON keeps a copy of data (encoding/json calls it on a field or
// element, never on a nil pointer).
func (m *RawJSON) UnmarshalJSON(data []byte) error {
	*m = append((*m)[0:0], data...)
	return nil
}
