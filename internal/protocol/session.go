package protocol

import "time"

// TypeSession is the type of a SessionFrame.
const TypeSession = "session"

// Session states (Session.State), derived by the daemon from the session's
// events alone (docs/protocol.md, "Session state").
const (
	// StateWorking: Claude is working on a turn.
	StateWorking = "working"
	// StateNeedsPermission: Claude waits for the person to allow a tool call.
	StateNeedsPermission = "needs_permission"
	// StateWaitingInput: Claude asked the person something, or has waited
	// for the next prompt long enough to say so (idle_prompt).
	StateWaitingInput = "waiting_input"
	// StateIdle: the turn is over; the person's move.
	StateIdle = "idle"
	// StateCompacting: the context is being compacted.
	StateCompacting = "compacting"
	// StateEnded: the session ended (SessionEnd).
	StateEnded = "ended"
)

// Agent states (SessionAgent.State).
const (
	AgentRunning = "running"
	AgentDone    = "done"
)

// Attention reports whether a session in state needs the person.
func Attention(state string) bool {
	return state == StateNeedsPermission || state == StateWaitingInput
}

// ReasonOverBudget is Session.AttentionReason when the session needs the
// person because it passed a budget (Session.OverBudget); the other
// reasons are the attention states themselves.
const ReasonOverBudget = "over_budget"

// Budgets (OverBudget.Budget).
const (
	// BudgetSession: the session's own cost passed mpm-wsd's
	// --budget-session-usd.
	BudgetSession = "session"
	// BudgetDay: the day's cost across sessions (the daemon machine's local
	// calendar day) passed --budget-day-usd while this session spent.
	BudgetDay = "day"
)

// OverBudget says that a session passed a budget.
type OverBudget struct {
	// Budget is BudgetSession or BudgetDay (the session budget first
	// when both are passed).
	Budget string `json:"budget"`
	// LimitUSD is the budget; SpentUSD what passed it when it was passed:
	// the session's cost, or the day's total.
	LimitUSD float64 `json:"limit_usd"`
	SpentUSD float64 `json:"spent_usd"`
	// Since is when the daemon saw the budget passed.
	Since time.Time `json:"since"`
	// Day is the local calendar day (YYYY-MM-DD) of a day budget.
	Day string `json:"day,omitempty"`
	// Attention is true from the crossing until the session's next prompt
	// (the person has seen to it) or its end.
	Attention bool `json:"attention"`
}

// AttentionReason is why s needs its person: its state when that is an
// attention state, else ReasonOverBudget when its budget crossing waits
// for the person, else "".
func AttentionReason(s *Session) string {
	switch {
	case Attention(s.State):
		return s.State
	case s.OverBudget != nil && s.OverBudget.Attention:
		return ReasonOverBudget
	}
	return ""
}

// MarkAttention sets s.Attention and s.AttentionReason from its state and
// OverBudget.
func (s *Session) MarkAttention() {
	s.AttentionReason = AttentionReason(s)
	s.Attention = s.AttentionReason != ""
}

// Session is one session's summary: an entry of GET /v1/sessions and the
// "session" of a SessionFrame.
type Session struct {
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
	// OpenTools is the older form of CurrentTools, kept for old clients.
	OpenTools []OpenTool `json:"open_tools,omitempty"`

	// State is one of the State constants.
	State string `json:"state"`
	// StateSince is when the session entered State (the event's receive time).
	StateSince time.Time `json:"state_since"`
	// Attention is true in needs_permission and waiting_input, and while
	// a budget crossing waits for the person (OverBudget.Attention).
	Attention bool `json:"attention"`
	// AttentionReason is AttentionReason(s): needs_permission,
	// waiting_input or over_budget; omitted without attention.
	AttentionReason string `json:"attention_reason,omitempty"`
	// Stale is true for a working session with no event for the daemon's
	// --stale-after (an interrupted turn fires no hook).
	Stale bool `json:"stale"`
	// StateMessage is the notification's message (or the permission
	// request's tool), or SessionEnd's reason.
	StateMessage string `json:"state_message,omitempty"`
	// NotificationType is the last Notification's notification_type while
	// it is the latest word on the state.
	NotificationType string `json:"notification_type,omitempty"`
	// CurrentTools are the running tool calls, oldest first.
	CurrentTools []SessionTool `json:"current_tools"`
	// LastPrompt is the first 200 characters of the last prompt.
	LastPrompt string `json:"last_prompt"`
	// Model and PermissionMode are the latest the payloads carried.
	Model          string `json:"model,omitempty"`
	PermissionMode string `json:"permission_mode,omitempty"`
	// Agents are the session's subagents, in order of start.
	Agents []SessionAgent `json:"agents"`
	// Usage is the session's tokens, cost and context, read from its
	// transcript; absent until the daemon has read any (and always for
	// sessions of other origins).
	Usage *Usage `json:"usage,omitempty"`
	// OverBudget is set once the session passed a budget (mpm-wsd
	// --budget-session-usd, --budget-day-usd); omitted otherwise.
	OverBudget *OverBudget `json:"over_budget,omitempty"`
}

// Cost sources (Usage.CostSource).
const (
	// CostClaude: Claude Code's own cost-state record in the transcript.
	CostClaude = "claude"
	// CostEstimate: the tokens priced with mpm-wsd's price table.
	CostEstimate = "estimate"
)

// Usage is what a session has used: tokens, cost, and how full its context
// window was at the last assistant turn.
type Usage struct {
	InputTokens              int64   `json:"input_tokens"`
	OutputTokens             int64   `json:"output_tokens"`
	CacheReadInputTokens     int64   `json:"cache_read_input_tokens"`
	CacheCreationInputTokens int64   `json:"cache_creation_input_tokens"`
	CostUSD                  float64 `json:"cost_usd"`
	// CostSource is CostClaude or CostEstimate.
	CostSource string `json:"cost_source"`
	// ContextTokens is the last assistant turn's input + cache read + cache
	// creation tokens; ContextWindow the model's window (a compaction
	// shows as a drop).
	ContextTokens int64 `json:"context_tokens"`
	ContextWindow int64 `json:"context_window"`
	// Models splits the figures by model.
	Models map[string]ModelUsage `json:"models"`
}

// EventUsage is the hook_event_name of the synthetic event a fleet edge
// journals in a session when its usage changed (UsageSnapshot): forwarded
// with the session's events, it gives the hub the edge's figures, the
// latest snapshot replacing the earlier ones (docs/protocol.md, "Fleet").
const EventUsage = "MpmUsage"

// UsageSnapshot is the payload of an EventUsage event: the session's usage
// and its subagents' as the edge read them from its own transcripts.
type UsageSnapshot struct {
	SessionID string            `json:"session_id"`
	Event     string            `json:"hook_event_name"`
	Usage     *Usage            `json:"usage"`
	Agents    map[string]*Usage `json:"agents,omitempty"`
}

// ModelUsage is one model's share of a Usage.
type ModelUsage struct {
	InputTokens              int64   `json:"input_tokens"`
	OutputTokens             int64   `json:"output_tokens"`
	CacheReadInputTokens     int64   `json:"cache_read_input_tokens"`
	CacheCreationInputTokens int64   `json:"cache_creation_input_tokens"`
	CostUSD                  float64 `json:"cost_usd"`
}

// OpenTool is a PreToolUse not yet paired with its PostToolUse (the older
// form of SessionTool).
type OpenTool struct {
	ToolUseID string    `json:"tool_use_id"`
	Tool      string    `json:"tool"`
	Seq       uint64    `json:"seq"`
	Since     time.Time `json:"since"`
}

// SessionTool is a running tool call.
type SessionTool struct {
	ToolUseID string `json:"tool_use_id"`
	Tool      string `json:"tool"`
	// Summary is the call's gist, one line.
	Summary string    `json:"summary"`
	Started time.Time `json:"started"`
	// Seq is the PreToolUse event's seq.
	Seq uint64 `json:"seq"`
	// AgentID is the subagent that made the call; empty: the main agent.
	AgentID string `json:"agent_id,omitempty"`
}

// SessionAgent is a subagent of a session.
type SessionAgent struct {
	AgentID   string `json:"agent_id"`
	AgentType string `json:"agent_type"`
	// State is AgentRunning or AgentDone.
	State   string    `json:"state"`
	Started time.Time `json:"started"`
	Ended   time.Time `json:"ended,omitzero"`
	// ToolCalls counts the agent's PreToolUse events.
	ToolCalls uint64 `json:"tool_calls"`
	// Usage is the subagent's own, from its transcript (included in the
	// session's); absent until read.
	Usage *Usage `json:"usage,omitempty"`
}

// SessionFrame is the WebSocket message carrying a session's summary when
// its state, attention, current tools or agents change, and before a
// (re)subscription's replay.
type SessionFrame struct {
	// Type is "session".
	Type string `json:"type"`
	// Session is the summary, as GET /v1/sessions serves it.
	Session Session `json:"session"`
}
