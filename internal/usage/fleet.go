package usage

import (
	"encoding/json"
	"time"

	"github.com/mpm-dev/mpm/internal/event"
	"github.com/mpm-dev/mpm/internal/protocol"
)

// Fleet mode: an edge reads its own transcripts and journals each
// session's usage, when it changes, as a protocol.EventUsage event
// (Snapshot), which the fleet stream forwards with the session's events; a
// hub shows the latest snapshot of each remote session (FromSnapshot) and
// never opens a path that a remote event names (TouchEvents refuses and
// counts them, RefusedRemote).

// RefusedRemote is the refusal reason of a transcript path named by an
// event of another origin (a fleet hub): never opened, counted once per
// session in mpm_usage_refused_total.
const RefusedRemote = "remote_origin"

// maxRemoteSeen bounds the remote sessions remembered for counting each
// refusal once; past it the set starts again (a session may then be
// counted twice, nothing else).
const maxRemoteSeen = 1 << 16

// Snapshot is the payload of the protocol.EventUsage event of session id:
// its usage and its subagents' (nil: none). Equal figures give equal
// bytes (maps are encoded in key order), so an edge compares a snapshot
// with the last one it journaled byte for byte.
func Snapshot(id string, u *protocol.Usage, agents map[string]*protocol.Usage) []byte {
	b, _ := json.Marshal(protocol.UsageSnapshot{SessionID: id, Event: protocol.EventUsage, Usage: u, Agents: agents})
	return b
}

// FromSnapshot reads a Snapshot payload: the session's usage (nil: none, or
// not a snapshot) and its subagents' by agent id.
func FromSnapshot(raw []byte) (*protocol.Usage, map[string]*protocol.Usage) {
	if len(raw) == 0 {
		return nil, nil
	}
	var s protocol.UsageSnapshot
	if json.Unmarshal(raw, &s) != nil || s.Event != protocol.EventUsage {
		return nil, nil
	}
	return s.Usage, s.Agents
}

// refuseRemote counts (once per session) the events of other origins that
// name a transcript: their paths are on other machines, and the hub never
// opens them. The caller holds mu.
func (m *Manager) refuseRemote(ev *event.Event) {
	if m.remote[ev.SessionID] {
		return
	}
	if len(m.remote) >= maxRemoteSeen {
		clear(m.remote)
	}
	m.remote[ev.SessionID] = true
	m.refused.WithLabelValues(RefusedRemote).Inc()
	if time.Since(m.lastRemoteWarn) < time.Minute {
		return
	}
	m.lastRemoteWarn = time.Now()
	m.log.Debug("transcript of another origin not read: its usage comes from that machine's edge (logged at most once a minute; mpm_usage_refused_total{reason=\"remote_origin\"} counts them)",
		"session_id", ev.SessionID, "origin", ev.Origin, "path", ev.TranscriptPath)
}

// Settled reports whether session id's usage is read to the end of its
// transcripts as far as known: false while a backlog longer than
// ReadBytes is read in turns (the figures are partial then), so that a
// fleet edge forwards no partial figures after a restart.
func (m *Manager) Settled(id string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return !m.backlog[id]
}
