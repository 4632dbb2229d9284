package hub

import "encoding/json"

// Subscription is a client's registration.
type Subscription struct {
	// Sessions lists the session ids to receive; empty means all.
	Sessions []string
	// Since asks for the replay of events with seq > *Since; nil: live only.
	Since *uint64
	// Tail limits the replay to the last Tail matching events; 0: no limit.
	Tail int
}

// mustJSON encodes a message the hub built itself.
func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
