package wsd

import "sync"

// wake tells waiters that events were committed: each wait returns a
// channel that the next commit closes. A commit costs one lock and, only
// when someone waits, one close.
type wake struct {
	mu sync.Mutex
	// ch is closed by the next signal; nil when nobody waits.
	ch chan struct{}
}

// wait returns a channel closed at the next signal. Take it before reading
// what it guards (the last seq), so a commit in between is not missed.
func (w *wake) wait() <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ch == nil {
		w.ch = make(chan struct{})
	}
	return w.ch
}

// signal wakes every waiter.
func (w *wake) signal() {
	w.mu.Lock()
	if w.ch != nil {
		close(w.ch)
		w.ch = nil
	}
	w.mu.Unlock()
}

// Appended returns a channel closed when the next batch of events has been
// stored and published: a background loop (the fleet edge's outbox) waits
// on it instead of polling. Take it before reading LastSeq.
func (s *Server) Appended() <-chan struct{} { return s.ingest.appended.wait() }
