// Package protocol is the contract between mpm-wsd and its clients, as
// docs/protocol.md describes it: the event record, the WebSocket messages,
// the GET /v1/events page, the /healthz answer (with the fleet status) and
// the ingest headers. The daemon, the shared client, mpm-verify, the
// installer and the tests all use these types, so the wire has one
// definition. Package codec (internal/protocol/codec) encodes and decodes
// them. This package imports only time and internal/ascii: mpm-hook may link it.
package protocol

import "time"

// Version is the WebSocket protocol's version, sent in Hello.
const Version = 1

// ServiceName is what /healthz says in "service" for mpm-wsd.
const ServiceName = "mpm-wsd"

// Close codes besides the standard ones.
const (
	// CloseSlowConsumer closes a client that fell too far behind.
	CloseSlowConsumer = 4000
)

// Request and response headers of POST /v1/events.
const (
	// HeaderIdempotencyKey makes a repeated delivery of one event a no-op.
	HeaderIdempotencyKey = "Idempotency-Key"
	// HeaderSentAt is the sender's clock, Unix nanoseconds.
	HeaderSentAt = "Mpm-Sent-At"
	// HeaderEphemeral ("1") marks a probe that is never stored.
	HeaderEphemeral = "Mpm-Ephemeral"
	// HeaderSeq answers the seq the event got (or had, for a duplicate).
	HeaderSeq = "Mpm-Seq"
	// MaxKeyLen bounds an Idempotency-Key.
	MaxKeyLen = 128
)

// ValidKey reports whether k can be an Idempotency-Key: 1 to MaxKeyLen
// printable ASCII characters without spaces. mpm-hook makes them, the
// spool stores them, the daemon checks them: one rule for all three.
func ValidKey(k string) bool { return Printable(k, MaxKeyLen) }

// The "type" of each WebSocket message.
const (
	// Server to client.
	TypeHello      = "hello"
	TypeSubscribed = "subscribed"
	TypeEvents     = "events"
	TypeLive       = "live"
	TypeHeartbeat  = "heartbeat"
	TypeError      = "error"
	TypePong       = "pong"
	// Client to server.
	TypeSubscribe = "subscribe"
	TypePing      = "ping"
)

// Hello is the first message on every WebSocket connection.
type Hello struct {
	// Type is "hello".
	Type string `json:"type"`
	// Protocol is the protocol version (Version).
	Protocol int `json:"protocol"`
	// Instance changes every time the daemon starts.
	Instance string `json:"instance"`
	// Version is the daemon's build version.
	Version string `json:"version"`
	// LastSeq is the last seq the daemon assigned.
	LastSeq uint64 `json:"last_seq"`
	// OldestSeq is the oldest retained seq.
	OldestSeq uint64 `json:"oldest_seq"`
	// ServerTime is the daemon's clock.
	ServerTime time.Time `json:"server_time"`
	// HeartbeatMS is the heartbeat interval in milliseconds.
	HeartbeatMS int64 `json:"heartbeat_ms"`
}

// Subscribed answers a subscribe: what the replay covers.
type Subscribed struct {
	// Type is "subscribed".
	Type string `json:"type"`
	// Sessions echoes the subscription's sessions ([] for all).
	Sessions []string `json:"sessions"`
	// Since echoes the subscription's since (null: live only).
	Since *uint64 `json:"since"`
	// ReplayTo is the daemon's last seq when it subscribed: the replay
	// covers (since, replay_to].
	ReplayTo uint64 `json:"replay_to"`
	// OldestSeq is the oldest retained seq.
	OldestSeq uint64 `json:"oldest_seq"`
	// Truncated means retention already dropped events after since.
	Truncated bool `json:"truncated"`
}

// Live marks the end of a replay: events after it are live.
type Live struct {
	// Type is "live".
	Type string `json:"type"`
	// Seq is the replay's last seq (replay_to).
	Seq uint64 `json:"seq"`
}

// Heartbeat is sent when a connection has been quiet for a heartbeat
// interval, so browsers (which cannot see pings) notice a dead daemon.
type Heartbeat struct {
	// Type is "heartbeat".
	Type string `json:"type"`
	// LastSeq is the daemon's last seq (not a cursor: do not resume from it).
	LastSeq uint64 `json:"last_seq"`
	// ServerTime is the daemon's clock.
	ServerTime time.Time `json:"server_time"`
}

// ErrorMsg answers a client message the server could not understand.
type ErrorMsg struct {
	// Type is "error".
	Type string `json:"type"`
	// Error says what was wrong.
	Error string `json:"error"`
}

// Pong answers a client's ping.
type Pong struct {
	// Type is "pong".
	Type string `json:"type"`
}

// Events carries one or more event records in ascending seq. The daemon
// writes these frames by hand (a fixed prefix around each record's cached
// encoding), so Events holds the records undecoded: codec.DecodeEvent
// decodes each.
type Events struct {
	// Type is "events".
	Type string `json:"type"`
	// Events are the records (see Event).
	Events []RawJSON `json:"events"`
}

// EventsPage is the answer of GET /v1/events: one page of retained events.
type EventsPage struct {
	// Events are the retained records after since, in seq order (see Event).
	Events []RawJSON `json:"events"`
	// NextSince is the since for the next page.
	NextSince uint64 `json:"next_since"`
	// LastSeq is the daemon's last seq.
	LastSeq uint64 `json:"last_seq"`
	// OldestSeq is the oldest retained seq.
	OldestSeq uint64 `json:"oldest_seq"`
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

// Health is the /healthz answer.
type Health struct {
	// OK is true when the daemon's event loop answered.
	OK bool `json:"ok"`
	// Service is ServiceName for mpm-wsd.
	Service string `json:"service"`
	// Version is the daemon's build version.
	Version string `json:"version"`
	// Pid is the daemon's process id.
	Pid int `json:"pid"`
	// Instance changes at every daemon start.
	Instance string `json:"instance"`
	// Uptime is how long the daemon has run, in seconds.
	Uptime float64 `json:"uptime_seconds"`
	// Clients is the number of WebSocket clients.
	Clients int `json:"clients"`
	// LastSeq is the last assigned event seq.
	LastSeq uint64 `json:"last_seq"`
	// Store is the event store's kind ("memory", "journal").
	Store string `json:"store"`
	// StoreNote explains a degraded store, empty when all is well.
	StoreNote string `json:"store_note,omitempty"`
	// Degraded is set while the store cannot write (StoreError says why):
	// the daemon runs and answers 503 to new events, and OK stays true
	// because a restart does not cure a full disk. A manager reports it
	// and does not restart the daemon for it.
	Degraded bool `json:"degraded,omitempty"`
	// StoreError is the store's last write failure while Degraded, with
	// when it began and how many writes failed since.
	StoreError string `json:"store_error,omitempty"`
	// Error says why OK is false.
	Error string `json:"error,omitempty"`
	// Fleet is the NATS link's state in fleet mode; absent otherwise. It
	// does not affect OK: a NATS outage is no reason to restart the daemon.
	Fleet *FleetStatus `json:"fleet,omitempty"`
}

// FleetStatus is the state of this daemon's NATS link, for /healthz and
// mpm-verify.
type FleetStatus struct {
	// Mode is "edge" or "hub".
	Mode string `json:"mode"`
	// URL is the NATS URL, passwords redacted.
	URL string `json:"url"`
	// Stream is the JetStream stream name.
	Stream string `json:"stream"`
	// Origin is the edge's origin name (or the hub's name).
	Origin string `json:"origin"`
	// Connected is whether the NATS connection is up.
	Connected bool `json:"connected"`
	// StreamOK is whether the stream was found (or created).
	StreamOK bool `json:"stream_ok"`
	// Cursor is, on an edge, the highest local seq JetStream acknowledged.
	Cursor uint64 `json:"cursor,omitempty"`
	// Lag is, on an edge, how many stored events are not yet acknowledged
	// (local last seq - Cursor).
	Lag uint64 `json:"lag"`
	// Published counts events acknowledged by JetStream (edge), Consumed
	// events ingested from it (hub), since start.
	Published uint64 `json:"published,omitempty"`
	Consumed  uint64 `json:"consumed,omitempty"`
	// LastOK is when the last batch was published or consumed.
	LastOK time.Time `json:"last_ok,omitzero"`
	// LastError is the last failure, "" after a success.
	LastError string `json:"last_error,omitempty"`
}

// Healthy reports whether the link works: connected, stream present.
func (s FleetStatus) Healthy() bool { return s.Connected && s.StreamOK }
