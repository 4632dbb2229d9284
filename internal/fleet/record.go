package fleet

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/mpm-dev/mpm/internal/event"
	"github.com/mpm-dev/mpm/internal/protocol"
	"github.com/mpm-dev/mpm/internal/protocol/codec"
)

// decode turns a message published by an edge (an event record,
// protocol.Event, as the edge's clients get it) into an Event ready for
// Server.Ingest: the payload parsed as the daemon parses a hook body (one
// larger than maxBytes replaced by a stub saying what was cut), the edge's times kept, Origin and OriginSeq set, and Key
// set to msgID (the Nats-Msg-Id header), or origin:origin_seq without one,
// so that a redelivered message is stored once.
func decode(data []byte, msgID string, maxBytes int) (*event.Event, error) {
	r, err := codec.DecodeEvent(data)
	if err != nil {
		return nil, fmt.Errorf("not an mpm event record: %w", err)
	}
	if len(r.Payload) == 0 {
		return nil, errors.New("not an mpm event record: no payload")
	}
	if r.Origin == "" {
		return nil, errors.New("event record has no origin (published by something other than an mpm edge?)")
	}
	if r.OriginSeq == 0 {
		r.OriginSeq = r.Seq
	}
	if r.OriginSeq == 0 {
		return nil, errors.New("event record has no origin_seq")
	}
	payload := []byte(r.Payload)
	if maxBytes > 0 && len(payload) > maxBytes && r.SessionID != "" && r.Event != "" {
		// An edge allows larger events than this hub: keep what the record
		// says, as the edge does for one too large for NATS, rather than
		// drop the event.
		payload = stub(&event.Event{SessionID: r.SessionID, Name: r.Event, Tool: r.Tool, ToolUseID: r.ToolUseID, AgentID: r.AgentID, AgentType: r.AgentType, Payload: payload},
			len(data), fmt.Sprintf("the payload is %d bytes, more than the hub's --max-event-bytes of %d", len(payload), maxBytes))
	}
	ev, err := event.Parse(payload, maxBytes)
	if err != nil {
		return nil, fmt.Errorf("event payload: %w", err)
	}
	if ev.SessionID != r.SessionID && r.SessionID != "" {
		return nil, fmt.Errorf("event record's session_id %q differs from its payload's %q", r.SessionID, ev.SessionID)
	}
	ev.Origin, ev.OriginSeq = r.Origin, r.OriginSeq
	ev.Received, ev.Sent = r.Received, r.Sent
	ev.Key = recordKey(msgID, r.Origin, r.OriginSeq)
	return ev, nil
}

// recordKey is the hub's idempotency key for a message: its Nats-Msg-Id
// (origin:journal-id:seq, see MsgID), hashed when it is longer than an
// Idempotency-Key may be (a long origin), or origin:seq for a message
// without one.
func recordKey(msgID, origin string, originSeq uint64) string {
	if msgID == "" {
		return fmt.Sprintf("%s:%d", origin, originSeq)
	}
	if protocol.ValidKey(msgID) || (len(msgID) <= protocol.MaxKeyLen && utf8.ValidString(msgID)) {
		return msgID // an origin may hold spaces, which ValidKey refuses
	}
	sum := sha256.Sum256([]byte(msgID))
	return "fleet-sha256:" + hex.EncodeToString(sum[:24])
}

// MsgID is the Nats-Msg-Id of the event with seq in the edge journal
// journalID of origin: origin:journal-id:seq. The journal id makes the ids
// of a fresh journal under an old origin (a reinstall, a damaged journal
// moved aside) new ones, which the stream and the hub do not take for
// duplicates; being 64 random bits that only the edge and the hub see, it
// also keeps another machine from making the stream drop this origin's
// events by publishing their ids first.
func MsgID(origin, journalID string, seq uint64) string {
	return fmt.Sprintf("%s:%s:%d", origin, journalID, seq)
}

// checkOrigin refuses a record whose origin is not the one its subject
// names (mpm.events.<origin>.<session>): the server lets each machine's
// credentials publish only on its own subjects (deploy/nats), so the
// subject, not the record, says which machine sent it. The hub calls it
// for every message and refuses (terminates and counts) what disagrees.
func checkOrigin(subject string, ev *event.Event) error {
	rest, ok := strings.CutPrefix(subject, SubjectPrefix+".")
	token, _, ok2 := strings.Cut(rest, ".")
	if !ok || !ok2 || token == "" {
		return fmt.Errorf("refused: subject %q is not %s.<origin>.<session>", subject, SubjectPrefix)
	}
	if SubjectPart(ev.Origin) != token {
		return fmt.Errorf("refused: the record claims origin %q but came on %s, the subject of origin %q (forged, or an edge whose --origin differs from its credentials')", ev.Origin, subject, token)
	}
	return nil
}

// stubField bounds each field copied into a stub.
const stubField = 4096

// stub is the payload that replaces one too large to publish: a hook body
// with the fields mpm reads (so the hub's sessions and tools stay right)
// and "mpm_truncated" saying what was cut and why.
func stub(ev *event.Event, size int, why string) []byte {
	cut := func(s string) string {
		if len(s) <= stubField {
			return s
		}
		s = s[:stubField]
		for !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
		return s
	}
	p := map[string]any{
		"session_id":      cut(ev.SessionID),
		"hook_event_name": cut(ev.Name),
		"mpm_truncated": map[string]any{
			"payload_bytes": len(ev.Payload),
			"record_bytes":  size,
			"reason":        why,
			"note":          "the hook payload was too large to publish to NATS; it is kept whole in the journal of its origin (origin_seq there)",
		},
	}
	for k, v := range map[string]string{"tool_name": ev.Tool, "tool_use_id": ev.ToolUseID, "cwd": ev.Cwd,
		"transcript_path": ev.TranscriptPath, "agent_id": ev.AgentID, "agent_type": ev.AgentType} {
		if v != "" {
			p[k] = cut(v)
		}
	}
	if ev.Reason != "" {
		if ev.Name == "SessionStart" {
			p["source"] = cut(ev.Reason)
		} else {
			p["reason"] = cut(ev.Reason)
		}
	}
	b, _ := json.Marshal(p)
	return b
}
