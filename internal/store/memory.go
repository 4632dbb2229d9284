package store

import (
	"sort"
	"sync"

	"github.com/mpm-dev/mpm/internal/event"
	"github.com/mpm-dev/mpm/internal/sessions"
)

// Memory keeps the last N events in a ring, and the idempotency keys of the
// last KeyCap events. Nothing survives a restart.
type Memory struct {
	// mu guards every field below.
	mu sync.RWMutex
	// ring holds the retained events; ring[(start+i)%len(ring)] is the i-th oldest.
	ring []*event.Event
	// start is the ring index of the oldest retained event.
	start int
	// n is how many events the ring holds.
	n int
	// last is the highest Seq appended.
	last uint64
	// keys maps idempotency key to Seq.
	keys map[string]uint64
	// keyOrder remembers insertion order of keys for eviction (a ring).
	keyOrder []string
	// keyNext is the next keyOrder slot to overwrite.
	keyNext int
}

// NewMemory returns a store that retains the last history events (at least 1)
// and remembers idempotency keys for the last max(history, 100000) events.
func NewMemory(history int) *Memory {
	if history < 1 {
		history = 1
	}
	keyCap := history
	if keyCap < 100000 {
		keyCap = 100000
	}
	return &Memory{
		ring:     make([]*event.Event, history),
		keys:     make(map[string]uint64),
		keyOrder: make([]string, keyCap),
	}
}

// Append implements Store.
func (m *Memory) Append(evs []*event.Event) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, ev := range evs {
		if m.n < len(m.ring) {
			m.ring[(m.start+m.n)%len(m.ring)] = ev
			m.n++
		} else {
			m.ring[m.start] = ev
			m.start = (m.start + 1) % len(m.ring)
		}
		m.last = ev.Seq
		if ev.Key != "" {
			if old := m.keyOrder[m.keyNext]; old != "" {
				delete(m.keys, old)
			}
			m.keyOrder[m.keyNext] = ev.Key
			m.keyNext = (m.keyNext + 1) % len(m.keyOrder)
			m.keys[ev.Key] = ev.Seq
		}
	}
	return nil
}

// at returns the i-th oldest retained event. Callers hold mu.
func (m *Memory) at(i int) *event.Event { return m.ring[(m.start+i)%len(m.ring)] }

// firstAfter returns the index of the first retained event with Seq > after.
func (m *Memory) firstAfter(after uint64) int {
	return sort.Search(m.n, func(i int) bool { return m.at(i).Seq > after })
}

// Read implements Store.
func (m *Memory) Read(after, upto uint64, f Filter, limit int) ([]*event.Event, error) {
	return m.Page(after, upto, f, limit, 0)
}

// Page implements Store.
func (m *Memory) Page(after, upto uint64, f Filter, limit, maxBytes int) ([]*event.Event, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []*event.Event
	size := 0
	for i := m.firstAfter(after); i < m.n && (limit <= 0 || len(out) < limit) && (maxBytes <= 0 || size < maxBytes); i++ {
		ev := m.at(i)
		if ev.Seq > upto {
			break
		}
		if f.Match(ev) {
			out = append(out, ev)
			size += EventBytes(ev)
		}
	}
	return out, nil
}

// TailStart implements Store.
func (m *Memory) TailStart(after, upto uint64, f Filter, n int) (uint64, error) {
	if n <= 0 {
		return after, nil
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	lo := m.firstAfter(after)
	for i := m.n - 1; i >= lo; i-- {
		if ev := m.at(i); ev.Seq <= upto && f.Match(ev) {
			if n--; n == 0 {
				return ev.Seq - 1, nil
			}
		}
	}
	return after, nil
}

// Tail implements Store.
func (m *Memory) Tail(after, upto uint64, f Filter, n int) ([]*event.Event, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []*event.Event
	lo := m.firstAfter(after)
	for i := m.n - 1; i >= lo && (n <= 0 || len(out) < n); i-- {
		ev := m.at(i)
		if ev.Seq <= upto && f.Match(ev) {
			out = append(out, ev)
		}
	}
	for a, b := 0, len(out)-1; a < b; a, b = a+1, b-1 {
		out[a], out[b] = out[b], out[a]
	}
	return out, nil
}

// LastSeq implements Store.
func (m *Memory) LastSeq() uint64 {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.last
}

// OldestSeq implements Store.
func (m *Memory) OldestSeq() uint64 {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.n == 0 {
		return m.last + 1
	}
	return m.at(0).Seq
}

// LookupKey implements Store.
func (m *Memory) LookupKey(key string) (uint64, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	s, ok := m.keys[key]
	return s, ok
}

// LookupKeys implements Store.
func (m *Memory) LookupKeys(keys []string) (map[string]uint64, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	found := make(map[string]uint64)
	for _, k := range keys {
		if s, ok := m.keys[k]; ok {
			found[k] = s
		}
	}
	return found, nil
}

// Sessions implements Store: the memory store starts empty.
func (m *Memory) Sessions() ([]sessions.Info, error) { return nil, nil }

// Kind implements Store.
func (m *Memory) Kind() string { return "memory" }

// Durable implements store.Store: events kept in memory die with the process.
func (m *Memory) Durable() bool { return false }

// Note implements Store.
func (m *Memory) Note() string { return "" }

// Close implements Store.
func (m *Memory) Close() error { return nil }
