package sessions

import (
	"testing"

	"github.com/mpm-dev/mpm/internal/event"
	"github.com/mpm-dev/mpm/internal/protocol"
)

// TestUsageSnapshotEvents: a fleet edge's MpmUsage event replaces the
// session's usage snapshot and changes nothing of its state (a waiting or
// compacting session stays so), times or counts (bookkeeping, not
// activity), but does send a session frame; MpmApprovalRequest changes
// no state either (it counts as an event).
func TestUsageSnapshotEvents(t *testing.T) {
	for _, first := range []string{"PermissionRequest", "PreCompact", "Stop"} {
		tr := NewTracker(nil)
		tr.Observe([]*event.Event{hand(1, "UserPromptSubmit", nil), hand(2, first, map[string]any{"tool_name": "Bash"})})
		before, _ := tr.Get("s1")
		u1 := hand(3, protocol.EventUsage, map[string]any{"usage": map[string]any{"input_tokens": 1}})
		ch := tr.Observe([]*event.Event{u1})
		ch2 := tr.Observe([]*event.Event{hand(4, protocol.EventApprovalRequest, map[string]any{"approval": map[string]any{"id": "x"}})})
		u2 := hand(5, protocol.EventUsage, map[string]any{"usage": map[string]any{"input_tokens": 2}})
		tr.Observe([]*event.Event{u2})
		in, _ := tr.Get("s1")
		if in.Total != before.Total+1 || in.Events[protocol.EventUsage] != 0 || !in.LastSeen.Equal(at(4)) || in.LastSeq != 5 {
			t.Errorf("after %s: total %d (was %d), events %v, last seen %v, last seq %d: a snapshot is not activity", first, in.Total, before.Total, in.Events, in.LastSeen, in.LastSeq)
		}
		if in.State != before.State || in.StateSince != before.StateSince || in.StateMessage != before.StateMessage {
			t.Errorf("after %s: state %q %v %q, was %q %v %q", first, in.State, in.StateSince, in.StateMessage, before.State, before.StateSince, before.StateMessage)
		}
		if string(in.Usage) != string(u2.Payload) || in.UsageSeq != 5 {
			t.Errorf("after %s: usage %s at %d, want the last snapshot", first, in.Usage, in.UsageSeq)
		}
		if len(ch.Sessions) != 1 || len(ch.Attention) != 0 || len(ch2.Sessions) != 0 {
			t.Errorf("after %s: changes %+v, %+v", first, ch, ch2)
		}
	}
}
