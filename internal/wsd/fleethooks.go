package wsd

import (
	"sync"

	"github.com/mpm-dev/mpm/internal/approvals"
	"github.com/mpm-dev/mpm/internal/protocol"
	"github.com/mpm-dev/mpm/internal/sessions"
)

// What fleet mode (internal/fleet) needs of the daemon beyond the store:
// an edge learns which sessions' usage changed and which permission
// requests turned pending, and journals them for the hub; a hub lists
// other machines' requests read-only in the registry.

// fleetHooks are the watchers registered by fleet mode's loops.
type fleetHooks struct {
	mu        sync.Mutex
	usages    []func(ids []string)
	approvals []func(protocol.Approval)
}

func (h *fleetHooks) usage(ids []string) {
	h.mu.Lock()
	fs := h.usages
	h.mu.Unlock()
	for _, f := range fs {
		f(ids)
	}
}

func (h *fleetHooks) approval(a protocol.Approval) {
	h.mu.Lock()
	fs := h.approvals
	h.mu.Unlock()
	for _, f := range fs {
		f(a)
	}
}

// usageChanged is the usage reader's OnChange: the sessions' frames go out,
// and fleet mode learns of it.
func (s *Server) usageChanged(ids []string) {
	s.caster.usageChanged(ids)
	s.fleetHooks.usage(ids)
}

// WatchUsage calls f with the sessions whose usage changed (from the usage
// reader's goroutine: f must not block).
func (s *Server) WatchUsage(f func(ids []string)) {
	s.fleetHooks.mu.Lock()
	s.fleetHooks.usages = append(s.fleetHooks.usages, f)
	s.fleetHooks.mu.Unlock()
}

// WatchApprovals calls f with each permission request of this machine that
// turns pending (from the request's handler: f must not block).
func (s *Server) WatchApprovals(f func(protocol.Approval)) {
	s.fleetHooks.mu.Lock()
	s.fleetHooks.approvals = append(s.fleetHooks.approvals, f)
	s.fleetHooks.mu.Unlock()
}

// Usage returns copies of a local session's usage, read from its
// transcripts (nil: none read), and of its subagents' by agent id.
func (s *Server) Usage(id string) (*protocol.Usage, map[string]*protocol.Usage) {
	return s.usage.Session(id)
}

// UsageSettled reports whether a local session's usage is read to the end
// of its transcripts (not partial, in the middle of a long backlog).
func (s *Server) UsageSettled(id string) bool { return s.usage.Settled(id) }

// Session returns a copy of a session's summary.
func (s *Server) Session(id string) (sessions.Info, bool) { return s.tracker.Get(id) }

// SessionList returns a copy of every session's summary, most recent first.
func (s *Server) SessionList() []sessions.Info { return s.tracker.List() }

// Approvals is the registry of pending permission requests.
func (s *Server) Approvals() *approvals.Registry { return s.approvals }
