package export

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/mpm-dev/mpm/internal/event"
)

func mk(t *testing.T, seq uint64, at time.Time, payload string) *event.Event {
	t.Helper()
	ev, err := event.Parse([]byte(payload), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	ev.Seq, ev.Received = seq, at
	return ev
}

// TestMarkdownBounds: a huge output is folded and cut, a payload that is
// not a hook's JSON object still gets its line, a tool call's timing is
// its Pre→Post interval, and inline code survives backticks.
func TestMarkdownBounds(t *testing.T) {
	t0 := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	var out bytes.Buffer
	m := NewMarkdown(&out, "s")
	huge := strings.Repeat("line of output\\n", 5000)
	for _, ev := range []*event.Event{
		mk(t, 1, t0, `{"session_id":"s","hook_event_name":"PreToolUse","tool_name":"Bash","tool_use_id":"a","tool_input":{"command":"echo `+"`date`"+`"}}`),
		mk(t, 2, t0.Add(1500*time.Millisecond), `{"session_id":"s","hook_event_name":"PostToolUse","tool_name":"Bash","tool_use_id":"a","tool_response":{"stdout":"`+huge+`","stderr":""}}`),
		mk(t, 3, t0.Add(2*time.Second), `{"session_id":"s","hook_event_name":"CustomEvent","x":[1,2]}`),
	} {
		if err := m.Event(ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	md := out.String()
	for _, want := range []string{
		"**Bash** `` echo `date` ``",
		"Bash done in 1.5s",
		"<details><summary>output (5000 lines)</summary>",
		"… 4800 more lines",
		"10:00:02 · CustomEvent",
		"- 3 events from 2026-11-30T10:00:00Z to 2026-11-30T10:00:02Z (2s)",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("lacks %q", want)
		}
	}
	if strings.Count(md, "line of output") != maxOutputLines {
		t.Errorf("%d output lines shown, want %d", strings.Count(md, "line of output"), maxOutputLines)
	}
}
