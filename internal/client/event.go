package client

import (
	"bytes"
	"encoding/json"
	"time"
)

// Event is one event record as the daemon sends it (docs/protocol.md, "The
// event record").
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
	Payload json.RawMessage `json:"payload"`
	// Raw is the whole record as received on the wire.
	Raw json.RawMessage `json:"-"`
}

// decodeEvents decodes a JSON array of event records, keeping each raw.
func decodeEvents(raws []json.RawMessage) ([]Event, error) {
	out := make([]Event, len(raws))
	for i, r := range raws {
		if err := json.Unmarshal(r, &out[i]); err != nil {
			return nil, err
		}
		out[i].Raw = r
	}
	return out, nil
}

// Line returns the record as one line of JSON (NDJSON): the wire record
// unchanged when it has no line break, else compacted. No trailing newline.
func (e *Event) Line() []byte {
	raw := []byte(e.Raw)
	if len(raw) == 0 {
		b, err := json.Marshal(e)
		if err != nil {
			return nil
		}
		return b
	}
	if bytes.IndexByte(raw, '\n') < 0 && bytes.IndexByte(raw, '\r') < 0 {
		return raw
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return bytes.ReplaceAll(bytes.ReplaceAll(raw, []byte("\r"), nil), []byte("\n"), []byte(" "))
	}
	return buf.Bytes()
}
