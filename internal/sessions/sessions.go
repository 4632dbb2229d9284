// Package sessions keeps the summary of every Claude Code session the daemon
// has seen: first and last activity, counts by event, cwd, its state (working,
// needs_permission, waiting_input, idle, compacting, ended), the running tool
// calls and the subagents. The in-memory Tracker and the journal share one
// rule for folding an event into a summary, Info.Apply, which reads the
// events and nothing else: a journal replay and a fleet hub rebuild the very
// same state.
package sessions

import (
	"bytes"
	"encoding/json"
	"sort"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/mpm-dev/mpm/internal/event"
	"github.com/mpm-dev/mpm/internal/gist"
	"github.com/mpm-dev/mpm/internal/protocol"
)

// MaxOpenTools bounds the running tool calls remembered per session, so a
// session whose PostToolUse events never come cannot grow without limit.
const MaxOpenTools = 64

// MaxAgents bounds the subagents remembered per session; the oldest
// finished one goes first.
const MaxAgents = 64

// PromptChars is how much of the last prompt a summary keeps.
const PromptChars = 200

// SummaryWidth bounds a running tool call's one-line summary.
const SummaryWidth = 160

// DefaultStaleAfter is how long a working session may go without an event
// before it is flagged stale (mpm-wsd --stale-after).
const DefaultStaleAfter = 10 * time.Minute

// Notification types (the Notification payload's notification_type) that
// change the state.
const (
	NotifyPermission  = "permission_prompt"
	NotifyIdle        = "idle_prompt"
	NotifyElicitation = "elicitation_dialog"
)

// OpenTool is a PreToolUse not yet paired with its PostToolUse or
// PostToolUseFailure.
type OpenTool struct {
	ToolUseID string
	Tool      string
	// Summary is the call's gist, one line.
	Summary string
	Seq     uint64
	Since   time.Time
	// AgentID is the subagent that made the call; empty: the main agent.
	AgentID string
}

// Agent is a subagent of the session.
type Agent struct {
	AgentID   string
	AgentType string
	// Done is set by its SubagentStop.
	Done      bool
	Started   time.Time
	Ended     time.Time
	ToolCalls uint64
}

// Info is one session's summary: the fold of its events. Its wire form is
// protocol.Session (Wire); the journal stores it in a form of its own.
type Info struct {
	SessionID      string
	Origin         string
	Cwd            string
	TranscriptPath string
	FirstSeen      time.Time
	LastSeen       time.Time
	FirstSeq       uint64
	LastSeq        uint64
	Total          uint64
	Events         map[string]uint64
	Ended          bool
	EndReason      string
	OpenTools      []OpenTool

	// State is one of the protocol.State constants.
	State string
	// StateSince is the receive time of the event that entered State.
	StateSince time.Time
	// StateMessage is the notification's message, the permission request's
	// tool, or SessionEnd's reason.
	StateMessage string
	// NotificationType is the latest Notification's type, while no event
	// changed the state since.
	NotificationType string
	// LastPrompt is the start of the last prompt (PromptChars runes).
	LastPrompt     string
	Model          string
	PermissionMode string
	// Agents are the subagents in order of start.
	Agents []Agent
	// Usage is the payload of the session's latest protocol.EventUsage
	// event (a protocol.UsageSnapshot, as a fleet edge journaled it), and
	// UsageSeq that event's seq: on a fleet hub the usage of another
	// origin's session, on an edge the figures it last forwarded.
	Usage    []byte
	UsageSeq uint64
}

// extra are the payload fields the fold reads beyond what event.Parse
// keeps.
type extra struct {
	Prompt           string
	Message          string
	NotificationType string
	Model            string
	PermissionMode   string
	ToolInput        json.RawMessage
}

// extraNames are the payload members extra reads.
var extraNames = []string{"prompt", "message", "notification_type", "model", "permission_mode", "tool_input"}

// readExtra reads extra from a payload. Only those members are decoded
// (gist.Fields skips the others), so a large Write or Edit costs a byte
// scan, not a decode.
func readExtra(payload []byte) extra {
	f := gist.Fields(payload, extraNames...)
	var x extra
	str := func(name string, dst *string) {
		if raw, ok := f[name]; ok {
			_ = json.Unmarshal(raw, dst) // a value of another type stays empty
		}
	}
	str("prompt", &x.Prompt)
	str("message", &x.Message)
	str("notification_type", &x.NotificationType)
	str("permission_mode", &x.PermissionMode)
	x.Model = modelName(f["model"])
	x.ToolInput = f["tool_input"]
	return x
}

// decodes reports whether the fold reads ev's payload: not for the
// PostToolUse events, whose tool_response can be large and says nothing
// about the state.
func decodes(name string) bool {
	switch name {
	case "PostToolUse", "PostToolUseFailure":
		return false
	}
	return true
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
	if ev.Name == protocol.EventUsage {
		// A fleet edge's usage snapshot: it replaces the previous one and
		// is bookkeeping, not activity (the session's times, counts and
		// state stay).
		i.Usage, i.UsageSeq, i.LastSeq = bytes.Clone(ev.Payload), ev.Seq, ev.Seq
		if i.State == "" {
			i.setState(protocol.StateIdle, ev, "")
		}
		return
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
	var x extra
	if decodes(ev.Name) {
		x = readExtra(ev.Payload)
		if x.PermissionMode != "" {
			i.PermissionMode = x.PermissionMode
		}
		if x.Model != "" {
			i.Model = x.Model
		}
	}
	if ev.AgentID != "" {
		i.agent(ev)
	}
	switch ev.Name {
	case "SessionStart":
		i.Ended, i.EndReason = false, ""
		i.setState(protocol.StateIdle, ev, "")
	case "UserPromptSubmit":
		i.Ended, i.EndReason = false, ""
		i.LastPrompt = cut(x.Prompt, PromptChars)
		i.setState(protocol.StateWorking, ev, "")
	case "PreToolUse":
		i.Ended, i.EndReason = false, ""
		if ev.ToolUseID != "" {
			if len(i.OpenTools) >= MaxOpenTools {
				i.OpenTools = append(i.OpenTools[:0], i.OpenTools[1:]...)
			}
			i.OpenTools = append(i.OpenTools, OpenTool{
				ToolUseID: ev.ToolUseID, Tool: ev.Tool, Seq: ev.Seq, Since: ev.Received, AgentID: ev.AgentID,
				Summary: gist.ToolInput(ev.Tool, x.ToolInput, SummaryWidth),
			})
		}
		if a := i.findAgent(ev.AgentID); a != nil {
			a.ToolCalls++
		}
		i.setState(protocol.StateWorking, ev, "")
	case "PostToolUse", "PostToolUseFailure":
		for k, o := range i.OpenTools {
			if o.ToolUseID == ev.ToolUseID {
				i.OpenTools = append(i.OpenTools[:k], i.OpenTools[k+1:]...)
				break
			}
		}
		i.working(ev)
	case "PermissionRequest":
		if !i.Ended {
			msg := ev.Tool
			if s := gist.ToolInput(ev.Tool, x.ToolInput, SummaryWidth); s != "" {
				msg = gist.Clean(ev.Tool+": "+s, SummaryWidth)
			}
			i.setState(protocol.StateNeedsPermission, ev, msg)
		}
	case "Notification":
		if i.Ended {
			break
		}
		msg := gist.Clean(x.Message, SummaryWidth)
		switch x.NotificationType {
		case NotifyPermission:
			i.setState(protocol.StateNeedsPermission, ev, msg)
		case NotifyIdle, NotifyElicitation:
			i.setState(protocol.StateWaitingInput, ev, msg)
		default:
			// Unknown types are kept and shown as they are; the state
			// stays (a compacting session moves on).
			if i.State == protocol.StateCompacting {
				i.setState(protocol.StateWorking, ev, "")
			}
			i.StateMessage = msg
		}
		i.NotificationType = x.NotificationType
	case "Stop", "StopFailure":
		if i.Ended {
			break
		}
		// The turn is over. Calls that never got their PostToolUse were
		// interrupted; a background subagent's may still run.
		kept := i.OpenTools[:0]
		for _, o := range i.OpenTools {
			if o.AgentID != "" {
				kept = append(kept, o)
			}
		}
		i.OpenTools = kept
		i.setState(protocol.StateIdle, ev, "")
	case "SubagentStart", "SubagentStop", "PostCompact":
		i.working(ev)
	case protocol.EventApprovalRequest:
		// A fleet edge's note that a request is pending: the
		// PermissionRequest before it set the state.
	case "PreCompact":
		if !i.Ended {
			i.setState(protocol.StateCompacting, ev, "")
		}
	case "SessionEnd":
		i.Ended = true
		i.EndReason = ev.Reason
		i.OpenTools = nil
		for k := range i.Agents {
			if !i.Agents[k].Done {
				i.Agents[k].Done, i.Agents[k].Ended = true, ev.Received
			}
		}
		i.setState(protocol.StateEnded, ev, ev.Reason)
	default:
		if i.State == protocol.StateCompacting {
			i.setState(protocol.StateWorking, ev, "")
		}
	}
	if i.State == "" {
		// A session first seen in the middle (retention, a hook installed
		// mid-session) is working until an event says otherwise.
		i.setState(protocol.StateWorking, ev, "")
	}
}

// working moves the session to working on events that mean Claude is at
// work, but not out of a wait for the person that only a tool event, a
// prompt or Stop ends, and never out of ended.
func (i *Info) working(ev *event.Event) {
	switch i.State {
	case protocol.StateEnded:
		return
	case protocol.StateNeedsPermission, protocol.StateWaitingInput:
		switch ev.Name {
		case "PostToolUse", "PostToolUseFailure":
		default:
			return
		}
	}
	i.setState(protocol.StateWorking, ev, "")
}

// setState enters state at ev (keeping StateSince when it stays the same)
// with msg as its message.
func (i *Info) setState(state string, ev *event.Event, msg string) {
	if state != i.State {
		i.State = state
		i.StateSince = ev.Received
	}
	i.StateMessage = msg
	i.NotificationType = ""
}

// agent records the subagent of ev (SubagentStart, SubagentStop, or any
// event an agent made).
func (i *Info) agent(ev *event.Event) {
	a := i.findAgent(ev.AgentID)
	if a == nil {
		if len(i.Agents) >= MaxAgents {
			drop := 0 // the oldest finished agent, else the oldest
			for k, g := range i.Agents {
				if g.Done {
					drop = k
					break
				}
			}
			i.Agents = append(i.Agents[:drop], i.Agents[drop+1:]...)
		}
		i.Agents = append(i.Agents, Agent{AgentID: ev.AgentID, Started: ev.Received})
		a = &i.Agents[len(i.Agents)-1]
	}
	if ev.AgentType != "" {
		a.AgentType = ev.AgentType
	}
	if ev.Name == "SubagentStop" && !a.Done {
		a.Done, a.Ended = true, ev.Received
	}
}

// findAgent returns the agent with id, or nil.
func (i *Info) findAgent(id string) *Agent {
	if id == "" {
		return nil
	}
	for k := range i.Agents {
		if i.Agents[k].AgentID == id {
			return &i.Agents[k]
		}
	}
	return nil
}

// modelName reads a payload's model: a string, or an object with an id
// or display_name.
func modelName(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var o struct {
		ID          string `json:"id"`
		DisplayName string `json:"display_name"`
	}
	if json.Unmarshal(raw, &o) == nil {
		if o.ID != "" {
			return o.ID
		}
		return o.DisplayName
	}
	return ""
}

// cut returns the first n runes of s.
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	k := 0
	for pos := range s {
		if k == n {
			return s[:pos]
		}
		k++
	}
	return s
}

// Stale reports whether the session is working with no event for
// staleAfter at now (staleAfter <= 0: never).
func (i *Info) Stale(now time.Time, staleAfter time.Duration) bool {
	return staleAfter > 0 && i.State == protocol.StateWorking && now.Sub(i.LastSeen) > staleAfter
}

// Wire returns the summary as the protocol serves it, stale as of now.
func (i *Info) Wire(now time.Time, staleAfter time.Duration) protocol.Session {
	s := protocol.Session{
		SessionID: i.SessionID, Origin: i.Origin, Cwd: i.Cwd, TranscriptPath: i.TranscriptPath,
		FirstSeen: i.FirstSeen, LastSeen: i.LastSeen, FirstSeq: i.FirstSeq, LastSeq: i.LastSeq, Total: i.Total,
		Events: make(map[string]uint64, len(i.Events)), Ended: i.Ended, EndReason: i.EndReason,
		State: i.State, StateSince: i.StateSince,
		Stale: i.Stale(now, staleAfter), StateMessage: i.StateMessage, NotificationType: i.NotificationType,
		CurrentTools: make([]protocol.SessionTool, 0, len(i.OpenTools)),
		LastPrompt:   i.LastPrompt, Model: i.Model, PermissionMode: i.PermissionMode,
		Agents: make([]protocol.SessionAgent, 0, len(i.Agents)),
	}
	for k, v := range i.Events {
		s.Events[k] = v
	}
	for _, o := range i.OpenTools {
		s.OpenTools = append(s.OpenTools, protocol.OpenTool{ToolUseID: o.ToolUseID, Tool: o.Tool, Seq: o.Seq, Since: o.Since})
		s.CurrentTools = append(s.CurrentTools, protocol.SessionTool{
			ToolUseID: o.ToolUseID, Tool: o.Tool, Summary: o.Summary, Started: o.Since, Seq: o.Seq, AgentID: o.AgentID,
		})
	}
	for _, a := range i.Agents {
		st := protocol.AgentRunning
		if a.Done {
			st = protocol.AgentDone
		}
		s.Agents = append(s.Agents, protocol.SessionAgent{
			AgentID: a.AgentID, AgentType: a.AgentType, State: st, Started: a.Started, Ended: a.Ended, ToolCalls: a.ToolCalls,
		})
	}
	s.MarkAttention()
	return s
}

// Clone returns a deep copy of i.
func (i *Info) Clone() *Info {
	c := *i
	c.Events = make(map[string]uint64, len(i.Events))
	for k, v := range i.Events {
		c.Events[k] = v
	}
	c.OpenTools = append([]OpenTool(nil), i.OpenTools...)
	c.Agents = append([]Agent(nil), i.Agents...)
	return &c
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
	for k := range infos {
		t.byID[infos[k].SessionID] = infos[k].Clone()
	}
	return t
}

// Changes is what a batch of events changed, for the daemon's live frames
// and notifications.
type Changes struct {
	// Sessions are the ids of the sessions whose live view changed (state,
	// attention, message, current tools, agents, last prompt), in order of
	// first change.
	Sessions []string
	// Attention holds a copy of a session's summary each time an event put
	// it into an attention state (needs_permission, waiting_input) from
	// another state: one per state change, however many events confirm it.
	Attention []Info
}

// Observe folds each stored event into its session's summary and says
// what changed.
func (t *Tracker) Observe(evs []*event.Event) Changes {
	t.mu.Lock()
	defer t.mu.Unlock()
	var ch Changes
	seen := map[string]bool{}
	for _, ev := range evs {
		in := t.byID[ev.SessionID]
		if in == nil {
			in = &Info{}
			t.byID[ev.SessionID] = in
		}
		before := in.view()
		in.Apply(ev)
		after := in.view()
		if after.state != before.state && protocol.Attention(after.state) {
			ch.Attention = append(ch.Attention, *in.Clone())
		}
		if !seen[ev.SessionID] && after != before {
			seen[ev.SessionID] = true
			ch.Sessions = append(ch.Sessions, ev.SessionID)
		}
	}
	return ch
}

// view is what a session frame is sent for: a change in any of it.
type view struct {
	state, message, notification string
	since                        time.Time
	tools, lastTool              uint64
	agents, running, calls       uint64
	prompt                       string
	usage                        uint64
}

func (i *Info) view() view {
	v := view{state: i.State, message: i.StateMessage, notification: i.NotificationType, since: i.StateSince,
		tools: uint64(len(i.OpenTools)), agents: uint64(len(i.Agents)), prompt: i.LastPrompt,
		usage: i.UsageSeq}
	if n := len(i.OpenTools); n > 0 {
		v.lastTool = i.OpenTools[n-1].Seq
	}
	for _, a := range i.Agents {
		if !a.Done {
			v.running++
		}
		v.calls += a.ToolCalls
	}
	return v
}

// List returns a copy of every session, most recent activity first.
func (t *Tracker) List() []Info {
	t.mu.RLock()
	out := make([]Info, 0, len(t.byID))
	for _, in := range t.byID {
		out = append(out, *in.Clone())
	}
	t.mu.RUnlock()
	sort.Slice(out, func(a, b int) bool { return out[a].LastSeq > out[b].LastSeq })
	return out
}

// Get returns a copy of the session's summary.
func (t *Tracker) Get(id string) (Info, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	in := t.byID[id]
	if in == nil {
		return Info{}, false
	}
	return *in.Clone(), true
}

// Len is the number of sessions seen.
func (t *Tracker) Len() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return len(t.byID)
}
