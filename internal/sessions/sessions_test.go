package sessions

import (
	"testing"
	"time"

	"github.com/mpm-dev/mpm/internal/event"
)

func ev(seq uint64, name, tool, id string) *event.Event {
	return &event.Event{Seq: seq, SessionID: "s", Name: name, Tool: tool, ToolUseID: id, Received: time.Unix(int64(seq), 0), Cwd: "/p"}
}

func TestApplyPairsToolCallsAndEnds(t *testing.T) {
	tr := NewTracker(nil)
	tr.Observe([]*event.Event{
		ev(1, "SessionStart", "", ""),
		ev(2, "PreToolUse", "Bash", "a"),
		ev(3, "PreToolUse", "Read", "b"),
		ev(4, "PostToolUse", "Bash", "a"),
		ev(5, "PostToolUseFailure", "Read", "zzz"), // unknown id: nothing to pair
	})
	got := tr.List()
	if len(got) != 1 {
		t.Fatalf("%d sessions, want 1", len(got))
	}
	in := got[0]
	if in.FirstSeq != 1 || in.LastSeq != 5 || in.Total != 5 || in.Events["PreToolUse"] != 2 || in.Cwd != "/p" || in.Ended {
		t.Fatalf("summary %+v", in)
	}
	if len(in.OpenTools) != 1 || in.OpenTools[0].ToolUseID != "b" || in.OpenTools[0].Tool != "Read" {
		t.Fatalf("open tools %+v, want only b", in.OpenTools)
	}
	end := ev(6, "SessionEnd", "", "")
	end.Reason = "logout"
	tr.Observe([]*event.Event{end})
	in = tr.List()[0]
	if !in.Ended || in.EndReason != "logout" || len(in.OpenTools) != 0 {
		t.Fatalf("after SessionEnd: %+v", in)
	}
	tr.Observe([]*event.Event{ev(7, "UserPromptSubmit", "", "")})
	if in = tr.List()[0]; in.Ended {
		t.Fatal("a prompt after SessionEnd (resumed session) must mark it live again")
	}
}

func TestOpenToolsBounded(t *testing.T) {
	var in Info
	for i := 0; i < MaxOpenTools+10; i++ {
		in.Apply(ev(uint64(i+1), "PreToolUse", "Bash", string(rune('A'+i))))
	}
	if len(in.OpenTools) != MaxOpenTools {
		t.Fatalf("%d open tools, want the bound %d", len(in.OpenTools), MaxOpenTools)
	}
	if in.OpenTools[0].Seq != 11 {
		t.Fatalf("oldest kept is seq %d, want 11 (the oldest dropped first)", in.OpenTools[0].Seq)
	}
}

func TestListIsACopyNewestFirst(t *testing.T) {
	tr := NewTracker([]Info{{SessionID: "old", LastSeq: 1, Events: map[string]uint64{"Stop": 1}}})
	e := ev(2, "Stop", "", "")
	e.SessionID = "new"
	tr.Observe([]*event.Event{e})
	l := tr.List()
	if len(l) != 2 || l[0].SessionID != "new" || l[1].SessionID != "old" {
		t.Fatalf("order %+v", l)
	}
	l[1].Events["Stop"] = 99
	if tr.List()[1].Events["Stop"] != 1 {
		t.Fatal("List shares its maps with the tracker")
	}
}
