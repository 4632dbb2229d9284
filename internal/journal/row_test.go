package journal

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mpm-dev/mpm/internal/event"
)

// TestEventRow: an event stored and read back through its row is the same
// event (but for the key, kept in its own table), and the row's field list
// matches its column list.
func TestEventRow(t *testing.T) {
	received := time.Date(2026, 11, 25, 21, 0, 0, 123456789, time.UTC)
	for name, ev := range map[string]*event.Event{
		"local": {Seq: 1, Received: received, SessionID: "s", Name: "Stop", Payload: []byte(`{}`)},
		"every field": {Seq: 1 << 40, Received: received, Sent: received.Add(-time.Millisecond), SessionID: "s",
			Name: "PreToolUse", Tool: "Bash", ToolUseID: "t", Cwd: "/w", TranscriptPath: "/t.jsonl", Reason: "r",
			Origin: "pc-1", OriginSeq: 9, Payload: []byte(`{"session_id":"s"}`)},
		"fields from the payload": {Seq: 2, Received: received, SessionID: "s", Name: "SessionStart", ToolUseID: "t",
			Cwd: "/w", TranscriptPath: "/t.jsonl", Reason: "startup", AgentID: "a1", AgentType: "Explore",
			Payload: []byte(`{"session_id":"s","hook_event_name":"SessionStart","tool_use_id":"t","cwd":"/w","transcript_path":"/t.jsonl","source":"startup","agent_id":"a1","agent_type":"Explore"}`)},
	} {
		row := rowOf(ev)
		kept := row.ToolUseID + row.Cwd + row.TranscriptPath + row.Reason
		if want := ev.ToolUseID + ev.Cwd + ev.TranscriptPath + ev.Reason; name == "fields from the payload" && kept != "" || name == "every field" && kept != want {
			t.Errorf("%s: row keeps %q, want the fields only where the payload does not have them (layout 5)", name, kept)
		}
		got, err := row.event()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !got.Received.Equal(ev.Received) || !got.Sent.Equal(ev.Sent) {
			t.Errorf("%s: times %v %v, want %v %v", name, got.Received, got.Sent, ev.Received, ev.Sent)
		}
		g, w := *got, *ev
		g.Received, g.Sent, w.Received, w.Sent = time.Time{}, time.Time{}, time.Time{}, time.Time{}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("%s: read back as\n%+v, want\n%+v", name, g, w)
		}
		if n := len(strings.Split(eventCols, ",")); len(row.cols()) != n || len(row.values()) != n {
			t.Errorf("eventRow has %d fields, eventCols %d columns", len(row.cols()), n)
		}
		for i, v := range row.values() {
			if reflect.TypeOf(v).Kind() == reflect.Pointer {
				t.Errorf("value %d of the row is a pointer (%T): values must dereference every field", i, v)
			}
		}
	}
}
