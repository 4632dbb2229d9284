// Package event is the daemon's record of one Claude Code hook event: the
// fields mpm reads from the payload, the daemon's own sequence number and
// times, and the original payload byte for byte.
package event

import (
	"io"
	"strconv"
	"time"
)

// Event is one accepted hook event.
type Event struct {
	// Seq is the daemon's sequence number: monotonic, gap-free, never reused.
	// Zero for an ephemeral probe, which is never stored.
	Seq uint64
	// Received is when the daemon accepted the event.
	Received time.Time
	// Sent is the sender's clock when it sent the event (mpm-hook's
	// Mpm-Sent-At); zero when unknown.
	Sent time.Time
	// SessionID is Claude Code's session_id.
	SessionID string
	// Name is hook_event_name (PreToolUse, UserPromptSubmit, ...).
	Name string
	// Tool is tool_name, when the event has one.
	Tool string
	// ToolUseID is tool_use_id, which pairs PreToolUse with its PostToolUse.
	ToolUseID string
	// Cwd is the session's working directory, when given.
	Cwd string
	// TranscriptPath is the session's transcript file, when given.
	TranscriptPath string
	// Reason is SessionEnd's reason or SessionStart's source, when given.
	Reason string
	// AgentID and AgentType name the subagent an event belongs to (its
	// agent_id and agent_type), when the payload has them.
	AgentID   string
	AgentType string
	// Key is the sender's Idempotency-Key; empty when none was sent.
	Key string
	// Ephemeral marks a probe that is fanned out but never stored.
	Ephemeral bool
	// Origin names the machine+user an event came from in fleet mode;
	// empty for events ingested locally.
	Origin string
	// OriginSeq is the event's seq at its origin (fleet mode); 0 locally.
	OriginSeq uint64
	// StreamSeq is, on a fleet hub, the JetStream stream sequence the event
	// was consumed at; the journal stores the highest one with the event,
	// in the same transaction, as the hub's position. Not sent to clients.
	StreamSeq uint64
	// Payload is the original hook JSON, unchanged.
	Payload []byte

	// head caches the event's JSON encoding up to its payload (see
	// Encode): the payload itself is written from Payload, never copied.
	head []byte
}

// Encode caches the part of the event's JSON encoding that precedes its
// payload, so that clients sharing the event do not each compute it. Call
// it once Seq is final and before the event is shared (the hub does, in
// Publish): it is not safe to call from several goroutines at once, and
// the fields must not change afterwards (WriteWire and Size use the cache;
// AppendWire and Wire do not).
func (e *Event) Encode() {
	if e.head == nil {
		e.head = e.appendHead(make([]byte, 0, headRoom))
	}
}

// headRoom is the capacity Encode gives an event's head: its fixed names,
// two times and typical ids fit.
const headRoom = 320

// Size is the event's weight in a client queue: the length of its JSON
// encoding.
func (e *Event) Size() int {
	n := len(e.head)
	if e.head == nil {
		var buf [headRoom]byte
		n = len(e.appendHead(buf[:0]))
	}
	return n + len(e.Payload) + 1
}

// WriteWire writes the event's JSON encoding to w in three parts (head,
// payload, closing brace), so that a large payload is not copied into an
// encoding first. It returns the first write error.
func (e *Event) WriteWire(w io.Writer) error {
	head := e.head
	if head == nil {
		head = e.appendHead(make([]byte, 0, headRoom)) // not encoded: a replayed event
	}
	if _, err := w.Write(head); err != nil {
		return err
	}
	if _, err := w.Write(e.Payload); err != nil {
		return err
	}
	_, err := w.Write(closeBrace)
	return err
}

var closeBrace = []byte{'}'}

// Wire returns the event's JSON encoding as sent to clients
// (docs/protocol.md), in a new buffer. The hub and the history route write
// it with WriteWire instead.
func (e *Event) Wire() []byte {
	return e.AppendWire(make([]byte, 0, len(e.Payload)+headRoom))
}

// AppendWire appends the event's JSON encoding to b, from its fields as
// they are now (never from the head Encode cached: a copy of an encoded
// event may have changed, as the fleet edge's copy sets its origin).
func (e *Event) AppendWire(b []byte) []byte {
	b = e.appendHead(b)
	b = append(b, e.Payload...)
	return append(b, '}')
}

// appendHead appends the event's JSON encoding up to its payload's first
// byte.
func (e *Event) appendHead(b []byte) []byte {
	b = append(b, `{"seq":`...)
	b = strconv.AppendUint(b, e.Seq, 10)
	b = append(b, `,"received":"`...)
	b = e.Received.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, '"')
	if !e.Sent.IsZero() {
		b = append(b, `,"sent":"`...)
		b = e.Sent.UTC().AppendFormat(b, time.RFC3339Nano)
		b = append(b, '"')
	}
	b = append(b, `,"session_id":`...)
	b = AppendString(b, e.SessionID)
	b = append(b, `,"event":`...)
	b = AppendString(b, e.Name)
	if e.Tool != "" {
		b = append(b, `,"tool":`...)
		b = AppendString(b, e.Tool)
	}
	if e.ToolUseID != "" {
		b = append(b, `,"tool_use_id":`...)
		b = AppendString(b, e.ToolUseID)
	}
	if e.AgentID != "" {
		b = append(b, `,"agent_id":`...)
		b = AppendString(b, e.AgentID)
	}
	if e.AgentType != "" {
		b = append(b, `,"agent_type":`...)
		b = AppendString(b, e.AgentType)
	}
	if e.Ephemeral {
		b = append(b, `,"ephemeral":true`...)
	}
	if e.Origin != "" {
		b = append(b, `,"origin":`...)
		b = AppendString(b, e.Origin)
		b = append(b, `,"origin_seq":`...)
		b = strconv.AppendUint(b, e.OriginSeq, 10)
	}
	return append(b, `,"payload":`...)
}

const hexDigits = "0123456789abcdef"

// AppendString appends s as a JSON string. s must be valid UTF-8 (Parse
// guarantees it for every field it extracts). <, > and & are escaped so the
// output is also safe inside HTML.
func AppendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
