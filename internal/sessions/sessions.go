// Package sessions keeps the summary of every Claude Code session the daemon
// has seen: first and last activity, counts by event, cwd, whether it ended,
// and which tool calls are still running. The in-memory Tracker and the
// journal share one rule for folding an event into a summary: Info.Apply.
package sessions

import (
	"sort"
	"sync"
	"time"

	"github.com/mpm-dev/mpm/internal/event"
)

// MaxOpenTools bounds the running tool calls remembered per session, so a
// session whose PostToolUse events never come cannot grow without limit.
const MaxOpenTools = 64

// OpenTool is a PreToolUse not yet paired with its PostToolUse or
// PostToolUseFailure.
type OpenTool struct {
	ToolUseID string    `json:"tool_use_id"`
	Tool      string    `json:"tool"`
	Seq       uint64    `json:"seq"`
	Since     time.Time `json:"since"`
}

// Info is one session's summary, as served by GET /v1/sessions.
type Info struct {
	SessionID      string            `json:"session_id"`
	Origin         string            `json:"origin,omitempty"`
	Cwd            string            `json:"cwd,omitempty"`
	TranscriptPath string            `json:"transcript_path,omitempty"`
	FirstSeen      time.Time         `json:"first_seen"`
	LastSeen       time.Time         `json:"last_seen"`
	FirstSeq       uint64            `json:"first_seq"`
	LastSeq        uint64            `json:"last_seq"`
	Total          uint64            `json:"total"`
	Events         map[string]uint64 `json:"events"`
	Ended          bool              `json:"ended"`
	EndReason      string            `json:"end_reason,omitempty"`
	OpenTools      []OpenTool        `json:"open_tools,omitempty"`
}

// Apply folds ev into the summary.
func (i *Info) Apply(ev *event.Event) {
	if i.SessionID == "" {
		i.SessionID = ev.SessionID
		i.FirstSeen = ev.Received
		i.FirstSeq = ev.Seq
	}
	if ev.Origin != "" {
		i.Origin = ev.Origin
	}
	if ev.Cwd != "" {
		i.Cwd = ev.Cwd
	}
	if ev.TranscriptPath != "" {
		i.TranscriptPath = ev.TranscriptPath
	}
	i.LastSeen = ev.Received
	i.LastSeq = ev.Seq
	i.Total++
	if i.Events == nil {
		i.Events = map[string]uint64{}
	}
	i.Events[ev.Name]++
	switch ev.Name {
	case "SessionEnd":
		i.Ended = true
		i.EndReason = ev.Reason
		i.OpenTools = nil
	case "SessionStart", "UserPromptSubmit":
		i.Ended = false
		i.EndReason = ""
	case "PreToolUse":
		i.Ended = false
		if ev.ToolUseID != "" {
			if len(i.OpenTools) >= MaxOpenTools {
				i.OpenTools = append(i.OpenTools[:0], i.OpenTools[1:]...)
			}
			i.OpenTools = append(i.OpenTools, OpenTool{ToolUseID: ev.ToolUseID, Tool: ev.Tool, Seq: ev.Seq, Since: ev.Received})
		}
	case "PostToolUse", "PostToolUseFailure":
		for k, o := range i.OpenTools {
			if o.ToolUseID == ev.ToolUseID {
				i.OpenTools = append(i.OpenTools[:k], i.OpenTools[k+1:]...)
				break
			}
		}
	}
}

// clone returns a deep copy of i.
func (i *Info) clone() Info {
	c := *i
	c.Events = make(map[string]uint64, len(i.Events))
	for k, v := range i.Events {
		c.Events[k] = v
	}
	c.OpenTools = append([]OpenTool(nil), i.OpenTools...)
	return c
}

// Tracker holds every session's Info in memory. Safe for concurrent use.
type Tracker struct {
	// mu guards byID.
	mu sync.RWMutex
	// byID maps session id to its summary.
	byID map[string]*Info
}

// NewTracker returns a tracker seeded with infos (e.g. from the journal).
func NewTracker(infos []Info) *Tracker {
	t := &Tracker{byID: make(map[string]*Info, len(infos))}
	for _, in := range infos {
		c := in.clone()
		t.byID[in.SessionID] = &c
	}
	return t
}

// Observe folds each stored event into its session's summary.
func (t *Tracker) Observe(evs []*event.Event) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, ev := range evs {
		in := t.byID[ev.SessionID]
		if in == nil {
			in = &Info{}
			t.byID[ev.SessionID] = in
		}
		in.Apply(ev)
	}
}

// List returns a copy of every session, most recent activity first.
func (t *Tracker) List() []Info {
	t.mu.RLock()
	out := make([]Info, 0, len(t.byID))
	for _, in := range t.byID {
		out = append(out, in.clone())
	}
	t.mu.RUnlock()
	sort.Slice(out, func(a, b int) bool { return out[a].LastSeq > out[b].LastSeq })
	return out
}

// Len is the number of sessions seen.
func (t *Tracker) Len() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return len(t.byID)
}
