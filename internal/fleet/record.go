package fleet

import (
	"errors"
	"fmt"

	"github.com/mpm-dev/mpm/internal/event"
	"github.com/mpm-dev/mpm/internal/protocol"
	"github.com/mpm-dev/mpm/internal/protocol/codec"
)

// decode turns a message published by an edge (an event record,
// protocol.Event, as the edge's clients get it) into an Event ready for
// Server.Ingest: the payload parsed as the daemon parses a hook body (at
// most maxBytes), the edge's times kept, Origin and OriginSeq set, and Key
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
	ev, err := event.Parse(r.Payload, maxBytes)
	if err != nil {
		return nil, fmt.Errorf("event payload: %w", err)
	}
	if ev.SessionID != r.SessionID && r.SessionID != "" {
		return nil, fmt.Errorf("event record's session_id %q differs from its payload's %q", r.SessionID, ev.SessionID)
	}
	ev.Origin, ev.OriginSeq = r.Origin, r.OriginSeq
	ev.Received, ev.Sent = r.Received, r.Sent
	ev.Key = msgID
	if !protocol.ValidKey(ev.Key) { // the daemon's one Idempotency-Key rule
		// origin (at most 100 bytes, see Config.Validate) ":" seq fits it.
		ev.Key = fmt.Sprintf("%s:%d", r.Origin, r.OriginSeq)
	}
	return ev, nil
}
