package protocol

import "time"

// SearchHit is one hit of GET /v1/search (docs/protocol.md, "Searching
// history").
type SearchHit struct {
	Seq       uint64    `json:"seq"`
	SessionID string    `json:"session_id"`
	Event     string    `json:"event"`
	Tool      string    `json:"tool,omitempty"`
	Received  time.Time `json:"received"`
	// Snippet is the text around the first match, HTML-escaped, with the
	// matched words in <mark>…</mark>.
	Snippet string `json:"snippet"`
}

// SearchResult is the answer of GET /v1/search: hits newest first.
type SearchResult struct {
	Hits []SearchHit `json:"hits"`
}
