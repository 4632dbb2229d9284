package client

import (
	"encoding/json"
	"time"
)

// Hello is the daemon's first WebSocket message.
type Hello struct {
	// Protocol is the protocol version (1).
	Protocol int `json:"protocol"`
	// Instance changes every time the daemon starts.
	Instance string `json:"instance"`
	// Version is the daemon's version.
	Version string `json:"version"`
	// LastSeq is the last seq the daemon assigned.
	LastSeq uint64 `json:"last_seq"`
	// OldestSeq is the oldest retained seq.
	OldestSeq uint64 `json:"oldest_seq"`
	// ServerTime is the daemon's clock.
	ServerTime time.Time `json:"server_time"`
	// HeartbeatMS is the daemon's heartbeat interval in milliseconds.
	HeartbeatMS int64 `json:"heartbeat_ms"`
}

// Subscribed is the daemon's answer to a subscribe.
type Subscribed struct {
	// Sessions echoes the subscription's sessions.
	Sessions []string `json:"sessions"`
	// Since echoes the subscription's since.
	Since *uint64 `json:"since"`
	// ReplayTo is the daemon's last seq when it subscribed: the replay
	// covers (since, replay_to].
	ReplayTo uint64 `json:"replay_to"`
	// OldestSeq is the oldest retained seq.
	OldestSeq uint64 `json:"oldest_seq"`
	// Truncated means retention already dropped events after since.
	Truncated bool `json:"truncated"`
}

// serverMsg is any message from the daemon; fields by type.
type serverMsg struct {
	Type string `json:"type"`
	// hello, subscribed, heartbeat
	Instance    string    `json:"instance"`
	Protocol    int       `json:"protocol"`
	Version     string    `json:"version"`
	LastSeq     uint64    `json:"last_seq"`
	OldestSeq   uint64    `json:"oldest_seq"`
	ServerTime  time.Time `json:"server_time"`
	HeartbeatMS int64     `json:"heartbeat_ms"`
	Sessions    []string  `json:"sessions"`
	Since       *uint64   `json:"since"`
	ReplayTo    uint64    `json:"replay_to"`
	Truncated   bool      `json:"truncated"`
	// live
	Seq uint64 `json:"seq"`
	// events
	Events []json.RawMessage `json:"events"`
	// error
	Error string `json:"error"`
}

// subscribeMsg is the client's subscribe message.
type subscribeMsg struct {
	Type     string   `json:"type"`
	Sessions []string `json:"sessions"`
	Since    *uint64  `json:"since"`
	Tail     int      `json:"tail"`
}
