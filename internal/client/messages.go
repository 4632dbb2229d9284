package client

import (
	"encoding/json"
	"time"

	"github.com/mpm-dev/mpm/internal/protocol"
)

// Hello is the daemon's first WebSocket message.
type Hello = protocol.Hello

// Subscribed is the daemon's answer to a subscribe.
type Subscribed = protocol.Subscribed

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
	// session
	Session *protocol.Session `json:"session"`
}

// subscribeMsg is the client's subscribe message.
type subscribeMsg = protocol.ClientMsg
