package sessions

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mpm-dev/mpm/internal/event"
	"github.com/mpm-dev/mpm/internal/protocol"
)

// base is the fixtures' first receive time.
var base = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

// loadFixture parses testdata/claudecode/<name> (one payload a line, as
// captured from the real Claude Code by TestRealClaudeCode -update) into
// events with seqs from 1 and receive times a second apart.
func loadFixture(t *testing.T, name string) []*event.Event {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "claudecode", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var evs []*event.Event
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		ev, err := event.Parse(append([]byte(nil), sc.Bytes()...), 0)
		if err != nil {
			t.Fatalf("%s line %d: %v", name, len(evs)+1, err)
		}
		ev.Seq = uint64(len(evs) + 1)
		ev.Received = base.Add(time.Duration(len(evs)) * time.Second)
		evs = append(evs, ev)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return evs
}

// at is the receive time of seq in a fixture.
func at(seq int) time.Time { return base.Add(time.Duration(seq-1) * time.Second) }

// want is what a summary must show after an event.
type want struct {
	state   string
	since   int // seq whose receive time is state_since
	msg     string
	tools   []string
	agents  string // "type:state:calls" of each agent, space separated
	notType string
}

func check(t *testing.T, step string, in *Info, w want) {
	t.Helper()
	s := in.Wire(in.LastSeen, DefaultStaleAfter)
	var tools []string
	for _, c := range s.CurrentTools {
		tool := c.Tool + ":" + c.Summary
		if c.AgentID != "" {
			tool += "@agent"
		}
		tools = append(tools, tool)
	}
	var agents []string
	for _, a := range s.Agents {
		agents = append(agents, a.AgentType+":"+a.State+":"+string(rune('0'+a.ToolCalls)))
	}
	if s.State != w.state || (w.since > 0 && !s.StateSince.Equal(at(w.since))) || s.StateMessage != w.msg ||
		strings.Join(tools, "|") != strings.Join(w.tools, "|") || strings.Join(agents, " ") != w.agents ||
		s.NotificationType != w.notType || s.Attention != protocol.Attention(w.state) {
		t.Errorf("after %s: state %q since %v msg %q tools %q agents %q notification %q attention %v; want %+v",
			step, s.State, s.StateSince.Sub(base), s.StateMessage, tools, agents, s.NotificationType, s.Attention, w)
	}
}

// TestStateRealSession folds the real Claude Code session (captured
// fixture) event by event: prompt, an allowed Read, a Bash call that asks
// permission and is allowed, an Explore subagent, a Bash call whose
// permission is denied (no PostToolUse follows: Stop ends the turn), end.
func TestStateRealSession(t *testing.T) {
	evs := loadFixture(t, "session.jsonl")
	steps := []want{
		1:  {state: "idle", since: 1},
		2:  {state: "working", since: 2},
		3:  {state: "working", since: 2, tools: []string{"Read:/home/dev/proj/x.txt"}},
		4:  {state: "working", since: 2},
		5:  {state: "working", since: 2, tools: []string{`Bash:python3 -c "print(42)"`}},
		6:  {state: "needs_permission", since: 6, msg: `Bash: python3 -c "print(42)"`, tools: []string{`Bash:python3 -c "print(42)"`}},
		7:  {state: "working", since: 7},
		8:  {state: "working", since: 7, tools: []string{"Agent:List the project Explore"}},
		9:  {state: "working", since: 7, tools: []string{"Agent:List the project Explore"}, agents: "Explore:running:0"},
		10: {state: "working", since: 7, tools: []string{"Agent:List the project Explore", "Read:/home/dev/proj/x.txt@agent"}, agents: "Explore:running:1"},
		11: {state: "working", since: 7, tools: []string{"Agent:List the project Explore"}, agents: "Explore:running:1"},
		12: {state: "working", since: 7, tools: []string{"Agent:List the project Explore"}, agents: "Explore:done:1"},
		13: {state: "working", since: 7, agents: "Explore:done:1"},
		14: {state: "working", since: 7, tools: []string{"Bash:rm -rf build"}, agents: "Explore:done:1"},
		15: {state: "needs_permission", since: 15, msg: "Bash: rm -rf build", tools: []string{"Bash:rm -rf build"}, agents: "Explore:done:1"},
		16: {state: "idle", since: 16, agents: "Explore:done:1"},
		17: {state: "ended", since: 17, msg: "other", agents: "Explore:done:1"},
	}
	if len(evs) != len(steps)-1 {
		t.Fatalf("fixture has %d events, the table %d", len(evs), len(steps)-1)
	}
	var in Info
	for k, ev := range evs {
		in.Apply(ev)
		check(t, ev.Name+" #"+string(rune('0'+(k+1)/10))+string(rune('0'+(k+1)%10)), &in, steps[k+1])
	}
	if in.LastPrompt != "Read x.txt, print 42, explore, then clean the build" || in.PermissionMode != "default" || !in.Ended || in.EndReason != "other" {
		t.Errorf("summary %+v", in)
	}
}

// hand builds a hook payload. HAND-WRITTEN fixtures: the harness drives
// Claude Code the Agent SDK's way, where no Notification, PreCompact,
// PostCompact or StopFailure fires; these follow the hooks reference
// (code.claude.com/docs/en/hooks) and the field names seen in the real
// payloads.
func hand(seq int, name string, fields map[string]any) *event.Event {
	p := map[string]any{"session_id": "s1", "cwd": "/home/dev/proj", "hook_event_name": name, "transcript_path": "/home/dev/.claude/projects/p/s1.jsonl"}
	for k, v := range fields {
		p[k] = v
	}
	raw, _ := json.Marshal(p)
	ev, err := event.Parse(raw, 0)
	if err != nil {
		panic(err)
	}
	ev.Seq = uint64(seq)
	ev.Received = at(seq)
	return ev
}

func TestStateTable(t *testing.T) {
	notif := func(typ, msg string) map[string]any {
		return map[string]any{"notification_type": typ, "message": msg}
	}
	pre := func(id, cmd string) map[string]any {
		return map[string]any{"tool_name": "Bash", "tool_use_id": id, "tool_input": map[string]any{"command": cmd}}
	}
	type step struct {
		name   string
		fields map[string]any
		want   want
	}
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"permission prompt notification after PermissionRequest keeps since", []step{
			{"UserPromptSubmit", map[string]any{"prompt": "go"}, want{state: "working", since: 1}},
			{"PreToolUse", pre("t1", "make"), want{state: "working", since: 1, tools: []string{"Bash:make"}}},
			{"PermissionRequest", map[string]any{"tool_name": "Bash", "tool_input": map[string]any{"command": "make"}}, want{state: "needs_permission", since: 3, msg: "Bash: make", tools: []string{"Bash:make"}}},
			{"Notification", notif("permission_prompt", "Claude needs your permission to use Bash"), want{state: "needs_permission", since: 3, msg: "Claude needs your permission to use Bash", notType: "permission_prompt", tools: []string{"Bash:make"}}},
			{"SubagentStop", map[string]any{"agent_id": "a1", "agent_type": "Plan"}, want{state: "needs_permission", since: 3, msg: "Claude needs your permission to use Bash", notType: "permission_prompt", tools: []string{"Bash:make"}, agents: "Plan:done:0"}},
			{"PostToolUse", map[string]any{"tool_name": "Bash", "tool_use_id": "t1"}, want{state: "working", since: 6, agents: "Plan:done:0"}},
		}},
		{"notification alone enters needs_permission; a prompt leaves it", []step{
			{"Notification", notif("permission_prompt", "Claude needs your permission to use Write"), want{state: "needs_permission", since: 1, msg: "Claude needs your permission to use Write", notType: "permission_prompt"}},
			{"UserPromptSubmit", map[string]any{"prompt": "no, do this"}, want{state: "working", since: 2}},
		}},
		{"idle prompt and elicitation wait for input", []step{
			{"SessionStart", map[string]any{"source": "startup"}, want{state: "idle", since: 1}},
			{"UserPromptSubmit", map[string]any{"prompt": "hi"}, want{state: "working", since: 2}},
			{"Stop", nil, want{state: "idle", since: 3}},
			{"Notification", notif("idle_prompt", "Claude is waiting for your input"), want{state: "waiting_input", since: 4, msg: "Claude is waiting for your input", notType: "idle_prompt"}},
			{"UserPromptSubmit", map[string]any{"prompt": "next"}, want{state: "working", since: 5}},
			{"Notification", notif("elicitation_dialog", "Pick one"), want{state: "waiting_input", since: 6, msg: "Pick one", notType: "elicitation_dialog"}},
			{"PreToolUse", pre("t2", "ls"), want{state: "working", since: 7, tools: []string{"Bash:ls"}}},
		}},
		{"unknown notification type is kept, state unchanged", []step{
			{"UserPromptSubmit", map[string]any{"prompt": "hi"}, want{state: "working", since: 1}},
			{"Notification", notif("auth_success", "Signed in"), want{state: "working", since: 1, msg: "Signed in", notType: "auth_success"}},
			{"PreToolUse", pre("t1", "ls"), want{state: "working", since: 1, tools: []string{"Bash:ls"}}},
		}},
		{"compacting until the next event", []step{
			{"UserPromptSubmit", map[string]any{"prompt": "hi"}, want{state: "working", since: 1}},
			{"PreCompact", map[string]any{"trigger": "auto"}, want{state: "compacting", since: 2}},
			{"PostCompact", map[string]any{"trigger": "auto"}, want{state: "working", since: 3}},
			{"PreCompact", map[string]any{"trigger": "manual"}, want{state: "compacting", since: 4}},
			{"SessionStart", map[string]any{"source": "compact"}, want{state: "idle", since: 5}},
		}},
		{"StopFailure ends the turn; Stop keeps a background subagent's calls", []step{
			{"UserPromptSubmit", map[string]any{"prompt": "hi"}, want{state: "working", since: 1}},
			{"PreToolUse", map[string]any{"tool_name": "Grep", "tool_use_id": "t1", "agent_id": "a1", "agent_type": "Explore", "tool_input": map[string]any{"pattern": "TODO"}}, want{state: "working", since: 1, tools: []string{"Grep:TODO@agent"}, agents: "Explore:running:1"}},
			{"PreToolUse", pre("t2", "sleep 100"), want{state: "working", since: 1, tools: []string{"Grep:TODO@agent", "Bash:sleep 100"}, agents: "Explore:running:1"}},
			{"StopFailure", map[string]any{"error": "rate_limit"}, want{state: "idle", since: 4, tools: []string{"Grep:TODO@agent"}, agents: "Explore:running:1"}},
		}},
		{"ended is final for late events, a resume revives", []step{
			{"UserPromptSubmit", map[string]any{"prompt": "hi"}, want{state: "working", since: 1}},
			{"SessionEnd", map[string]any{"reason": "logout"}, want{state: "ended", since: 2, msg: "logout"}},
			{"Stop", nil, want{state: "ended", since: 2, msg: "logout"}},
			{"Notification", notif("idle_prompt", "late"), want{state: "ended", since: 2, msg: "logout"}},
			{"PermissionRequest", map[string]any{"tool_name": "Bash"}, want{state: "ended", since: 2, msg: "logout"}},
			{"SessionStart", map[string]any{"source": "resume"}, want{state: "idle", since: 6}},
		}},
		{"first seen mid-turn is working", []step{
			{"PostToolUse", map[string]any{"tool_name": "Bash", "tool_use_id": "x"}, want{state: "working", since: 1}},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var in Info
			for k, st := range tc.steps {
				in.Apply(hand(k+1, st.name, st.fields))
				check(t, st.name, &in, st.want)
			}
		})
	}
}

func TestLastPromptAndModel(t *testing.T) {
	var in Info
	long := strings.Repeat("é", 300)
	in.Apply(hand(1, "SessionStart", map[string]any{"source": "startup", "model": "claude-sonnet-4-5"}))
	in.Apply(hand(2, "UserPromptSubmit", map[string]any{"prompt": long, "permission_mode": "plan"}))
	if in.LastPrompt != strings.Repeat("é", PromptChars) || in.Model != "claude-sonnet-4-5" || in.PermissionMode != "plan" {
		t.Fatalf("prompt %d runes, model %q, mode %q", len([]rune(in.LastPrompt)), in.Model, in.PermissionMode)
	}
	in.Apply(hand(3, "SessionStart", map[string]any{"model": map[string]any{"id": "claude-opus-4-1", "display_name": "Opus"}}))
	if in.Model != "claude-opus-4-1" {
		t.Fatalf("model object: %q", in.Model)
	}
}

func TestStale(t *testing.T) {
	var in Info
	in.Apply(hand(1, "UserPromptSubmit", map[string]any{"prompt": "hi"}))
	if in.Stale(at(1).Add(DefaultStaleAfter), DefaultStaleAfter) || !in.Stale(at(1).Add(DefaultStaleAfter+time.Second), DefaultStaleAfter) {
		t.Fatal("stale must turn true only after staleAfter without an event")
	}
	if in.Stale(at(1).Add(time.Hour), 0) {
		t.Fatal("staleAfter 0 means never")
	}
	in.Apply(hand(2, "Stop", nil))
	if in.Stale(at(2).Add(time.Hour), DefaultStaleAfter) {
		t.Fatal("only a working session is stale")
	}
}

// TestObserveChanges: one attention entry per state change, however many
// events confirm it; changed sessions listed once per batch.
func TestObserveChanges(t *testing.T) {
	tr := NewTracker(nil)
	ch := tr.Observe([]*event.Event{
		hand(1, "UserPromptSubmit", map[string]any{"prompt": "hi"}),
		hand(2, "PermissionRequest", map[string]any{"tool_name": "Bash"}),
		hand(3, "Notification", map[string]any{"notification_type": "permission_prompt", "message": "m"}),
	})
	if len(ch.Sessions) != 1 || ch.Sessions[0] != "s1" || len(ch.Attention) != 1 || ch.Attention[0].State != protocol.StateNeedsPermission {
		t.Fatalf("changes %+v", ch)
	}
	ch = tr.Observe([]*event.Event{hand(4, "Notification", map[string]any{"notification_type": "permission_prompt", "message": "m"})})
	if len(ch.Attention) != 0 {
		t.Fatalf("a repeated notification is no new state change: %+v", ch.Attention)
	}
	ch = tr.Observe([]*event.Event{hand(5, "PostToolUse", map[string]any{"tool_name": "Bash", "tool_use_id": "zz"})})
	if len(ch.Sessions) != 1 || len(ch.Attention) != 0 {
		t.Fatalf("leaving attention: %+v", ch)
	}
}
