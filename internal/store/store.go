// Package store defines where the daemon keeps accepted events for replay,
// and its in-memory implementation. The durable journal implements the same
// interface.
package store

import (
	"github.com/mpm-dev/mpm/internal/event"
	"github.com/mpm-dev/mpm/internal/sessions"
)

// Filter selects events by session. The zero Filter matches every event.
type Filter struct {
	// Sessions lists the session ids to match; empty matches all.
	Sessions []string
}

// All reports whether f matches every session.
func (f Filter) All() bool { return len(f.Sessions) == 0 }

// Match reports whether ev passes the filter.
func (f Filter) Match(ev *event.Event) bool { return f.MatchSession(ev.SessionID) }

// MatchSession reports whether the session id passes the filter.
func (f Filter) MatchSession(id string) bool {
	if len(f.Sessions) == 0 {
		return true
	}
	for _, s := range f.Sessions {
		if s == id {
			return true
		}
	}
	return false
}

// EventBytes is what an event counts against a Page's byte bound: its
// payload and about what the record around it adds on the wire.
func EventBytes(ev *event.Event) int { return len(ev.Payload) + 256 }

// Reader reads stored events: the hub's replays, GET /v1/events and
// fleet mode's outbox. Reads may run concurrently with Append.
type Reader interface {
	// Read returns up to limit events with after < Seq <= upto that match f,
	// in ascending Seq order.
	Read(after, upto uint64, f Filter, limit int) ([]*event.Event, error)
	// Page is Read bounded by bytes too: it stops after the event that
	// brings the page's EventBytes to maxBytes (so a matching event is
	// returned however large); maxBytes <= 0: no byte bound. A reader that
	// pages through history holds at most a page in memory.
	Page(after, upto uint64, f Filter, limit, maxBytes int) ([]*event.Event, error)
	// Tail returns the last n events with after < Seq <= upto that match f,
	// in ascending Seq order.
	Tail(after, upto uint64, f Filter, n int) ([]*event.Event, error)
	// TailStart returns where the last n events with after < Seq <= upto
	// that match f begin, as a seq to page from: Page(TailStart(…), upto, …)
	// reads exactly those events. It is after when n <= 0 or at most n
	// events match. It reads no event, so a tail of any length is
	// replayed in bounded pages.
	TailStart(after, upto uint64, f Filter, n int) (uint64, error)
	// LastSeq is the highest Seq ever stored (0 if none), including events
	// since dropped by retention.
	LastSeq() uint64
	// OldestSeq is the lowest Seq still retained, or LastSeq()+1 when none is.
	OldestSeq() uint64
}

// Appender stores sequenced events: the daemon's ingest loop, the one
// goroutine that calls Append.
type Appender interface {
	// Append stores evs, whose Seq values are already assigned, ascending and
	// directly following LastSeq. When it returns nil the events are as
	// durable as the store promises, and readable.
	Append(evs []*event.Event) error
	// LookupKeys returns the Seq of every key in keys that is still
	// remembered (the ingest loop asks once per batch).
	LookupKeys(keys []string) (map[string]uint64, error)
	// LastSeq is the highest Seq ever stored: the next Append follows it.
	LastSeq() uint64
}

// Store is everything the daemon does with its store; each part of it
// takes only the small interface it needs (Reader, Appender).
type Store interface {
	Reader
	Appender
	// LookupKey returns the Seq stored with an idempotency key, if the key
	// is still remembered.
	LookupKey(key string) (uint64, bool)
	// Sessions returns the stored session summaries (used to seed the
	// in-memory tracker at start-up).
	Sessions() ([]sessions.Info, error)
	// Durable reports whether stored events outlive the process (the
	// journal) or not (memory): seqs then start again at 1 after a restart.
	Durable() bool
	// Kind names the store for /healthz and the logs ("memory", "journal").
	Kind() string
	// Note is a human note for /healthz, e.g. that a corrupt file was moved
	// aside at start-up; empty when there is nothing to say.
	Note() string
	// Close releases the store.
	Close() error
}
