package export

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/mpm-dev/mpm/internal/event"
	"github.com/mpm-dev/mpm/internal/protocol"
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

// TestMarkdownUsage: the usage section says where the cost comes from,
// keeps a model name that holds a pipe or backticks in its cell, shows an
// unknown window as such and an estimated subagent cost with "~"; without
// usage it says why.
func TestMarkdownUsage(t *testing.T) {
	t0 := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	render := func(s protocol.Session) string {
		var out bytes.Buffer
		m := NewMarkdown(&out, "s")
		if err := m.Event(mk(t, 1, t0, `{"session_id":"s","hook_event_name":"UserPromptSubmit","prompt":"hi"}`)); err != nil {
			t.Fatal(err)
		}
		m.Session(s)
		if err := m.Close(); err != nil {
			t.Fatal(err)
		}
		_, u, ok := strings.Cut(out.String(), "\n## Usage\n")
		if !ok {
			t.Fatalf("no usage section:\n%s", out.String())
		}
		return u
	}
	u := render(protocol.Session{
		Usage: &protocol.Usage{InputTokens: 1234567, OutputTokens: 1, CostUSD: 12.345, CostSource: protocol.CostEstimate, ContextTokens: 5000,
			Models: map[string]protocol.ModelUsage{"evil|model`x": {InputTokens: 1234567, OutputTokens: 1, CostUSD: 12.345}}},
		Agents: []protocol.SessionAgent{
			{AgentID: "0123456789abcdef", AgentType: "general-purpose", Usage: &protocol.Usage{OutputTokens: 5, CostUSD: 0.5, CostSource: protocol.CostEstimate}},
			{AgentID: "no-usage", AgentType: "Plan"},
		},
	})
	for _, want := range []string{
		"- Cost: $12.35 (`cost_source: estimate`: estimated from the token counts with mpm-wsd's price table)\n",
		"- Tokens: 1,234,568: 1,234,567 input, 1 output, 0 cache read, 0 cache write\n",
		"- Context at the last turn: 5,000 tokens (window unknown)\n",
		"| ``evil\\|model`x`` | 1,234,567 | 1 | 0 | 0 | $12.35 |\n",
		"| `01234567` | `general-purpose` | 5 | ~$0.5000 | - |\n",
	} {
		if !strings.Contains(u, want) {
			t.Errorf("lacks %q:\n%s", want, u)
		}
	}
	if strings.Contains(u, "no-usage") || strings.Contains(u, "Budget") {
		t.Errorf("a subagent without usage, or a budget never passed, is listed:\n%s", u)
	}
	if u := render(protocol.Session{}); !strings.Contains(u, "Not known: mpm-wsd has not read this session's transcript") {
		t.Errorf("without usage:\n%s", u)
	}
}
