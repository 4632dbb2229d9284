package hub

import (
	"encoding/json"
	"time"
)

// Protocol is the version of the WebSocket protocol in docs/protocol.md.
const Protocol = 1

// Close codes the hub uses besides the standard ones.
const (
	// CloseSlowConsumer closes a client that fell too far behind.
	CloseSlowConsumer = 4000
)

// Hello is the first message on every connection.
type Hello struct {
	Type        string    `json:"type"`
	Protocol    int       `json:"protocol"`
	Instance    string    `json:"instance"`
	Version     string    `json:"version"`
	LastSeq     uint64    `json:"last_seq"`
	OldestSeq   uint64    `json:"oldest_seq"`
	ServerTime  time.Time `json:"server_time"`
	HeartbeatMS int64     `json:"heartbeat_ms"`
}

// Subscribed answers a subscribe: what the replay covers.
type Subscribed struct {
	Type      string   `json:"type"`
	Sessions  []string `json:"sessions"`
	Since     *uint64  `json:"since"`
	ReplayTo  uint64   `json:"replay_to"`
	OldestSeq uint64   `json:"oldest_seq"`
	Truncated bool     `json:"truncated"`
}

// Live marks the end of a replay: events after it are live.
type Live struct {
	Type string `json:"type"`
	Seq  uint64 `json:"seq"`
}

// Heartbeat is sent when the connection has been quiet for a heartbeat
// interval, so browsers (which cannot see pings) notice a dead daemon.
type Heartbeat struct {
	Type       string    `json:"type"`
	LastSeq    uint64    `json:"last_seq"`
	ServerTime time.Time `json:"server_time"`
}

// ErrorMsg answers a client message the server could not understand.
type ErrorMsg struct {
	Type  string `json:"type"`
	Error string `json:"error"`
}

// ClientMsg is any message a client sends.
type ClientMsg struct {
	// Type is "subscribe" or "ping".
	Type string `json:"type"`
	// Sessions lists the sessions to receive; empty means all.
	Sessions []string `json:"sessions"`
	// Since asks for a replay of events after it; nil means live only.
	Since *uint64 `json:"since"`
	// Tail limits the replay to the last Tail matching events.
	Tail int `json:"tail"`
}

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
