package store

import "time"

// SearchQuery is a full-text search over stored history (GET /v1/search).
type SearchQuery struct {
	// Query is the user's query (docs/protocol.md, "Searching history").
	Query string
	// Session and Origin restrict the hits when not empty.
	Session, Origin string
	// Since and Until bound the hits' received time when not zero.
	Since, Until time.Time
	// Limit is the most hits returned.
	Limit int
}

// SearchHit is one event that matches a SearchQuery.
type SearchHit struct {
	Seq       uint64
	SessionID string
	Event     string
	Tool      string
	Received  time.Time
	// Snippet is the matching text around the first match, HTML-escaped,
	// the matched words in <mark>…</mark>.
	Snippet string
}

// Searcher is a store that answers full-text searches over its history
// (the journal; the in-memory store does not).
type Searcher interface {
	// Search returns the hits of q, newest first. A query that cannot be
	// understood returns a *QueryError.
	Search(q SearchQuery) ([]SearchHit, error)
}

// QueryError is a search query that cannot be understood; its message
// says what to change.
type QueryError struct{ Msg string }

func (e *QueryError) Error() string { return e.Msg }
