package journal

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/mpm-dev/mpm/internal/protocol"
	"github.com/mpm-dev/mpm/internal/sessions"
)

// TestSessionRowOlderForm: a row stored before session state (no state
// fields) decodes, with the state derived from what it has.
func TestSessionRowOlderForm(t *testing.T) {
	for _, tc := range []struct {
		raw  string
		want string
	}{
		{`{"session_id":"s","first_seen":"2026-11-01T00:00:00Z","last_seen":"2026-11-01T00:01:00Z","first_seq":1,"last_seq":3,"total":3,"events":{"Stop":1},"ended":false}`, protocol.StateIdle},
		{`{"session_id":"s","last_seen":"2026-11-01T00:01:00Z","events":{},"ended":false,"open_tools":[{"tool_use_id":"t","tool":"Bash","seq":3,"since":"2026-11-01T00:01:00Z"}]}`, protocol.StateWorking},
		{`{"session_id":"s","last_seen":"2026-11-01T00:01:00Z","events":{},"ended":true,"end_reason":"logout"}`, protocol.StateEnded},
	} {
		var row sessionRow
		if err := json.Unmarshal([]byte(tc.raw), &row); err != nil {
			t.Fatal(err)
		}
		in := row.info()
		if in.State != tc.want || !in.StateSince.Equal(time.Date(2026, 11, 1, 0, 1, 0, 0, time.UTC)) {
			t.Errorf("%s: state %q since %v, want %q", tc.raw, in.State, in.StateSince, tc.want)
		}
	}
}

// TestSessionRowRoundTrip: every field of the fold survives the stored form.
func TestSessionRowRoundTrip(t *testing.T) {
	t0 := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	in := &sessions.Info{
		SessionID: "s", Origin: "o", Cwd: "/p", TranscriptPath: "/t", FirstSeen: t0, LastSeen: t0.Add(time.Minute),
		FirstSeq: 1, LastSeq: 9, Total: 9, Events: map[string]uint64{"PreToolUse": 2}, Ended: false,
		OpenTools: []sessions.OpenTool{{ToolUseID: "t", Tool: "Grep", Summary: "TODO", Seq: 8, Since: t0, AgentID: "a"}},
		State:     protocol.StateNeedsPermission, StateSince: t0.Add(30 * time.Second), StateMessage: "m", NotificationType: "permission_prompt",
		LastPrompt: "p", Model: "claude", PermissionMode: "plan",
		Agents: []sessions.Agent{{AgentID: "a", AgentType: "Explore", Done: true, Started: t0, Ended: t0.Add(time.Second), ToolCalls: 3}},
	}
	raw, err := json.Marshal(sessionRowOf(in))
	if err != nil {
		t.Fatal(err)
	}
	var row sessionRow
	if err := json.Unmarshal(raw, &row); err != nil {
		t.Fatal(err)
	}
	if got := row.info(); !reflect.DeepEqual(got, in) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, in)
	}
}
