package journal

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/mpm-dev/mpm/internal/event"
	"github.com/mpm-dev/mpm/internal/protocol"
	"github.com/mpm-dev/mpm/internal/sessions"
)

// The journal's derived state — the session summaries, the retained
// events' byte count and last_seq — is kept in memory and saved to the
// sessions and meta tables about once a second (saveState), with the seq it
// reflects as meta state_seq. Append writes only the events and their keys:
// rewriting a session row and two meta rows in every commit made each
// one-event commit write three more pages (and marshal a summary) for
// nothing a crash can lose, because open folds the events stored after
// state_seq back in (replay) and gets the very same state.

// saveState writes the state if it changed since it was last saved.
func (j *Journal) saveState() error {
	j.wmu.Lock()
	defer j.wmu.Unlock()
	return j.saveStateLocked()
}

// saveStateLocked is saveState with wmu held.
func (j *Journal) saveStateLocked() error {
	if j.w == nil || (len(j.dirty) == 0 && j.stateSeq == j.last.Load()) {
		return nil
	}
	err := j.writeTxLocked(func(tx *sql.Tx) error { return j.writeState(tx, j.bytes.Load()) }, j.stateSaved)
	if err != nil {
		return fmt.Errorf("journal: save state: %w", err)
	}
	return nil
}

// writeState writes the dirty session summaries, last_seq, bytes (given:
// retention passes what will be left after its delete) and state_seq in tx.
// The caller holds wmu and calls stateSaved once tx has committed.
func (j *Journal) writeState(tx *sql.Tx, bytes int64) error {
	upsert := tx.Stmt(j.ins.session)
	j.smu.RLock()
	defer j.smu.RUnlock()
	for id := range j.dirty {
		in := j.sess[id]
		if in == nil {
			continue // dropped by retention since
		}
		raw, err := json.Marshal(sessionRowOf(in))
		if err != nil {
			return fmt.Errorf("journal: encode session %s: %w", id, err)
		}
		if _, err := upsert.Exec(id, int64(in.LastSeq), in.LastSeen.UnixNano(), raw); err != nil {
			return fmt.Errorf("journal: store session %s: %w", id, err)
		}
	}
	last := int64(j.last.Load())
	meta := tx.Stmt(j.ins.meta)
	for _, kv := range []struct {
		k string
		v int64
	}{{"last_seq", last}, {"bytes", bytes}, {"state_seq", last}} {
		if _, err := meta.Exec(kv.v, kv.k); err != nil {
			return fmt.Errorf("journal: store %s: %w", kv.k, err)
		}
	}
	return nil
}

// stateSaved records that the state written by writeState is committed.
// The caller holds wmu.
func (j *Journal) stateSaved() {
	clear(j.dirty)
	j.stateSeq = j.last.Load()
}

// replay folds the events stored after state_seq into the loaded session
// summaries and byte count: what Append did in memory before a crash or
// kill -9 cut it off from the next saveState.
func (j *Journal) replay(stateSeq uint64) error {
	rows, err := j.w.Query(`SELECT `+eventCols+`, size FROM events WHERE seq > ? ORDER BY seq`, int64(stateSeq))
	if err != nil {
		return fmt.Errorf("read journal: %w", err)
	}
	defer rows.Close()
	// Folded in chunks, the way Append does, so that memory stays bounded
	// however many events a crash left unsaved.
	n := 0
	var chunk []*event.Event
	flush := func() {
		j.swapIn(j.foldSessions(chunk))
		chunk = chunk[:0]
	}
	for rows.Next() {
		var size int64
		ev, err := j.scanEvent(rows, &size)
		if err != nil {
			return err
		}
		chunk = append(chunk, ev)
		if len(chunk) == 1000 {
			flush()
		}
		j.bytes.Add(size)
		n++
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read journal: %w", err)
	}
	flush()
	if n > 0 {
		j.log.Info("folded in the events stored after the last saved state", "events", n, "after_seq", stateSeq)
	}
	return nil
}

// sessionRow is the stored form of a session summary (the sessions
// table's info column, JSON). It is the journal's own: the domain fold
// (sessions.Info) and the wire (protocol.Session) may change without
// making stored rows unreadable. Rows written before the state fields
// existed decode with an empty state, which info derives.
type sessionRow struct {
	SessionID        string            `json:"session_id"`
	Origin           string            `json:"origin,omitempty"`
	Cwd              string            `json:"cwd,omitempty"`
	TranscriptPath   string            `json:"transcript_path,omitempty"`
	FirstSeen        time.Time         `json:"first_seen"`
	LastSeen         time.Time         `json:"last_seen"`
	FirstSeq         uint64            `json:"first_seq"`
	LastSeq          uint64            `json:"last_seq"`
	Total            uint64            `json:"total"`
	Events           map[string]uint64 `json:"events"`
	Ended            bool              `json:"ended"`
	EndReason        string            `json:"end_reason,omitempty"`
	OpenTools        []toolRow         `json:"open_tools,omitempty"`
	State            string            `json:"state,omitempty"`
	StateSince       time.Time         `json:"state_since,omitzero"`
	StateMessage     string            `json:"state_message,omitempty"`
	NotificationType string            `json:"notification_type,omitempty"`
	LastPrompt       string            `json:"last_prompt,omitempty"`
	Model            string            `json:"model,omitempty"`
	PermissionMode   string            `json:"permission_mode,omitempty"`
	Agents           []agentRow        `json:"agents,omitempty"`
	// Usage and UsageSeq: a fleet edge's latest usage snapshot (raw JSON).
	Usage    json.RawMessage `json:"usage,omitempty"`
	UsageSeq uint64          `json:"usage_seq,omitempty"`
}

// toolRow is a stored running tool call.
type toolRow struct {
	ToolUseID string    `json:"tool_use_id"`
	Tool      string    `json:"tool"`
	Summary   string    `json:"summary,omitempty"`
	Seq       uint64    `json:"seq"`
	Since     time.Time `json:"since"`
	AgentID   string    `json:"agent_id,omitempty"`
}

// agentRow is a stored subagent.
type agentRow struct {
	AgentID   string    `json:"agent_id"`
	AgentType string    `json:"agent_type,omitempty"`
	Done      bool      `json:"done,omitempty"`
	Started   time.Time `json:"started"`
	Ended     time.Time `json:"ended,omitzero"`
	ToolCalls uint64    `json:"tool_calls,omitempty"`
}

// sessionRowOf is the stored form of in.
func sessionRowOf(in *sessions.Info) sessionRow {
	r := sessionRow{
		SessionID: in.SessionID, Origin: in.Origin, Cwd: in.Cwd, TranscriptPath: in.TranscriptPath,
		FirstSeen: in.FirstSeen, LastSeen: in.LastSeen, FirstSeq: in.FirstSeq, LastSeq: in.LastSeq, Total: in.Total,
		Events: in.Events, Ended: in.Ended, EndReason: in.EndReason,
		State: in.State, StateSince: in.StateSince, StateMessage: in.StateMessage, NotificationType: in.NotificationType,
		LastPrompt: in.LastPrompt, Model: in.Model, PermissionMode: in.PermissionMode,
		Usage: in.Usage, UsageSeq: in.UsageSeq,
	}
	for _, o := range in.OpenTools {
		r.OpenTools = append(r.OpenTools, toolRow(o))
	}
	for _, a := range in.Agents {
		r.Agents = append(r.Agents, agentRow(a))
	}
	return r
}

// info is the summary r stores.
func (r *sessionRow) info() *sessions.Info {
	in := &sessions.Info{
		SessionID: r.SessionID, Origin: r.Origin, Cwd: r.Cwd, TranscriptPath: r.TranscriptPath,
		FirstSeen: r.FirstSeen, LastSeen: r.LastSeen, FirstSeq: r.FirstSeq, LastSeq: r.LastSeq, Total: r.Total,
		Events: r.Events, Ended: r.Ended, EndReason: r.EndReason,
		State: r.State, StateSince: r.StateSince, StateMessage: r.StateMessage, NotificationType: r.NotificationType,
		LastPrompt: r.LastPrompt, Model: r.Model, PermissionMode: r.PermissionMode,
		Usage: r.Usage, UsageSeq: r.UsageSeq,
	}
	for _, o := range r.OpenTools {
		in.OpenTools = append(in.OpenTools, sessions.OpenTool(o))
	}
	for _, a := range r.Agents {
		in.Agents = append(in.Agents, sessions.Agent(a))
	}
	if in.State == "" { // a row from before session state
		switch {
		case in.Ended:
			in.State = protocol.StateEnded
		case len(in.OpenTools) > 0:
			in.State = protocol.StateWorking
		default:
			in.State = protocol.StateIdle
		}
		in.StateSince = in.LastSeen
	}
	return in
}
