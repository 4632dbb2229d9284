package hub

import (
	"github.com/mpm-dev/mpm/internal/protocol"
	"github.com/mpm-dev/mpm/internal/protocol/codec"
)

// Subscription is a client's registration.
type Subscription struct {
	// Sessions lists the session ids to receive; empty means all.
	Sessions []string
	// Since asks for the replay of events with seq > *Since; nil: live only.
	Since *uint64
	// Tail limits the replay to the last Tail matching events; 0: no limit.
	Tail int
}

// mustJSON encodes a message the hub built itself (a protocol type).
func mustJSON(v any) []byte { return codec.Encode(v) }

// An events frame is written by hand around the events' encodings
// (event.Event.WriteWire): protocol.Events with its records in place.
var (
	framePrefix = []byte(`{"type":"` + protocol.TypeEvents + `","events":[`)
	frameSuffix = []byte(`]}`)
	comma       = []byte(`,`)
)

// pong answers a client's ping.
var pong = mustJSON(protocol.Pong{Type: protocol.TypePong})
