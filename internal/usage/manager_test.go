package usage

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/mpm-dev/mpm/internal/event"
	"github.com/mpm-dev/mpm/internal/protocol"
)

// TestManagerWorker: events mark sessions, the worker reads them and says
// which changed; events of other origins (a fleet hub's) are never read;
// the tick reads what was appended with no event.
func TestManagerWorker(t *testing.T) {
	root, path := project(t)
	write(t, path, assistantLine("m1", "r1", "claude-sonnet-4-5", 10, 1, 0, 0), os.O_TRUNC)
	changed := make(chan []string, 16)
	m := New(Config{ProjectsDir: root, Tick: 50 * time.Millisecond, OnChange: func(ids []string) { changed <- ids }})
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { m.Run(ctx); close(stopped) }()
	defer func() { cancel(); <-stopped }()
	m.TouchEvents([]*event.Event{
		{SessionID: "remote", TranscriptPath: path, Origin: "other-box"},
		{SessionID: "local", TranscriptPath: path},
	})
	select {
	case ids := <-changed:
		if len(ids) != 1 || ids[0] != "local" {
			t.Fatalf("changed %v, want [local]", ids)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no change reported")
	}
	if m.Get("remote") != nil {
		t.Fatal("a remote origin's transcript path was read")
	}
	write(t, path, assistantLine("m2", "r2", "claude-sonnet-4-5", 5, 1, 0, 0), os.O_APPEND)
	select {
	case ids := <-changed: // from the tick: no event came
		if len(ids) != 1 || ids[0] != "local" || m.Get("local").InputTokens != 15 {
			t.Fatalf("changed %v usage %+v", ids, m.Get("local"))
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the tick did not read the appended line")
	}
}

// TestSubagents: a subagent's transcript (beside the session's, as Claude
// Code 2.1 writes it) is read once its id is known: the session's totals
// include it, the agent has its own; a cost-state record in the session's
// transcript stays authoritative; an agent id that would name another
// path is ignored.
func TestSubagents(t *testing.T) {
	root, path := project(t)
	write(t, path, assistantLine("m1", "r1", "claude-opus-4-5", 10, 1, 0, 0), os.O_TRUNC)
	agentFile := agentPath(path, "a1b2")
	if err := os.MkdirAll(filepath.Dir(agentFile), 0o700); err != nil {
		t.Fatal(err)
	}
	write(t, agentFile, assistantLine("m2", "r2", "claude-haiku-4-5", 7, 2, 0, 0), os.O_TRUNC)
	m := New(Config{ProjectsDir: root})
	m.mu.Lock()
	m.touch("s", path, "a1b2")
	m.touch("s", path, "../../x")
	m.touch("s", path, "a/b")
	k := known{path: path, agents: slices.Clone(m.known["s"].agents)}
	m.mu.Unlock()
	if len(k.agents) != 1 {
		t.Fatalf("agents %v: invalid ids kept", k.agents)
	}
	m.readSession("s", k)
	total, agents := m.Session("s")
	if total.InputTokens != 17 || total.OutputTokens != 3 || len(total.Models) != 2 || total.ContextTokens != 10 {
		t.Fatalf("total %+v", total)
	}
	if a := agents["a1b2"]; a == nil || a.InputTokens != 7 || a.OutputTokens != 2 {
		t.Fatalf("agent %+v", a)
	}
	write(t, path, `{"type":"cost-state","totalCostUSD":0.5,"modelUsage":{"claude-opus-4-5":{"inputTokens":17,"outputTokens":3,"costUSD":0.5}}}`+"\n", os.O_APPEND)
	m.readSession("s", k)
	if total, _ := m.Session("s"); total.CostSource != protocol.CostClaude || total.CostUSD != 0.5 || total.InputTokens != 17 {
		t.Fatalf("with cost-state: %+v", total)
	}
}

// TestSettled: while a transcript longer than ReadBytes is read in turns,
// its session's figures are partial and Settled says so (a fleet edge
// forwards none of them); once read to the end it is settled.
func TestSettled(t *testing.T) {
	root, path := project(t)
	line := assistantLine("m0", "r0", "claude-sonnet-4-5", 1, 1, 0, 0)
	for i := range 20 {
		write(t, path, assistantLine("m"+string(rune('a'+i)), "r", "claude-sonnet-4-5", 1, 1, 0, 0), os.O_APPEND)
	}
	type seen struct {
		settled bool
		in      int64
	}
	var m *Manager
	changed := make(chan seen, 64)
	m = New(Config{ProjectsDir: root, ReadBytes: int64(3 * len(line)), Tick: time.Hour, OnChange: func(ids []string) {
		for _, id := range ids {
			changed <- seen{m.Settled(id), m.Get(id).InputTokens}
		}
	}})
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { m.Run(ctx); close(stopped) }()
	defer func() { cancel(); <-stopped }()
	m.Touch("s", path)
	partial := 0
	for {
		select {
		case s := <-changed:
			if !s.settled {
				partial++
				if s.in >= 20 {
					t.Fatalf("the whole transcript read, still not settled")
				}
				continue
			}
			if s.in != 20 {
				t.Fatalf("settled with %d input tokens, want all 20", s.in)
			}
			if partial == 0 {
				t.Fatal("no partial figures seen: ReadBytes did not split the reading")
			}
			return
		case <-time.After(10 * time.Second):
			t.Fatal("never settled")
		}
	}
}

// TestMessageInTwoFilesCountedOnce: a message written both in the session's
// transcript and in a subagent's (as older Claude Code versions wrote
// sidechains) is counted once in the session's total, whichever file holds
// it and across a truncation of the file that counted it.
func TestMessageInTwoFilesCountedOnce(t *testing.T) {
	root, path := project(t)
	shared := assistantLine("m2", "r2", "claude-haiku-4-5", 7, 2, 0, 0)
	write(t, path, assistantLine("m1", "r1", "claude-opus-4-5", 10, 1, 0, 0)+shared, os.O_TRUNC)
	agentFile := agentPath(path, "a1b2")
	if err := os.MkdirAll(filepath.Dir(agentFile), 0o700); err != nil {
		t.Fatal(err)
	}
	// The agent's file has the message twice (two streamed lines) and one
	// of its own.
	write(t, agentFile, shared+shared+assistantLine("m3", "r3", "claude-haiku-4-5", 5, 1, 0, 0), os.O_TRUNC)
	m := New(Config{ProjectsDir: root})
	k := known{path: path, agents: []string{"a1b2"}}
	m.readSession("s", k)
	total, agents := m.Session("s")
	if total == nil || total.InputTokens != 22 || total.OutputTokens != 4 {
		t.Fatalf("total %+v, want 22 input and 4 output tokens (m2 once)", total)
	}
	if a := agents["a1b2"]; a == nil || a.InputTokens != 5 {
		t.Fatalf("agent %+v, want its own m3 (m2 was counted in the session's file)", a)
	}
	// The session's transcript is truncated and rewritten without m2: the
	// agent's copy is what counts it now, and still once.
	write(t, path, assistantLine("m1", "r1", "claude-opus-4-5", 10, 1, 0, 0), os.O_TRUNC)
	write(t, agentFile, assistantLine("m4", "r4", "claude-haiku-4-5", 1, 1, 0, 0), os.O_APPEND)
	m.readSession("s", k)
	if total, _ := m.Session("s"); total.InputTokens != 23 || total.OutputTokens != 5 {
		t.Fatalf("after truncation %+v, want 23 input and 5 output tokens", total)
	}
}
