package usage_test

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mpm-dev/mpm/internal/client"
	"github.com/mpm-dev/mpm/internal/protocol"
	"github.com/mpm-dev/mpm/internal/testutil"
	"github.com/mpm-dev/mpm/internal/testutil/claudecode"
	"github.com/mpm-dev/mpm/internal/usage"
)

// update rewrites testdata/claudecode-transcript.jsonl from a real run.
var update = flag.Bool("update", false, "rewrite testdata/claudecode-transcript.jsonl from a real Claude Code run")

// The API stub reports these figures for every message.
const stubIn, stubOut = 100, 20

// subagentMarker is in the subagent's prompt, so the stub knows its requests.
const subagentMarker = "SUBAGENT-usage: list the project"

// TestRealClaudeCodeUsage runs the real Claude Code (offline, against the
// API stub, which reports 100 input and 20 output tokens per message) with
// mpm-hook wired to a real mpm-wsd whose CLAUDE_CONFIG_DIR is Claude
// Code's: three messages in the session's transcript, the first written on
// two lines (text, tool_use), and two in its Explore subagent's.
// /v1/sessions, the live "session" frame and /metrics must show exactly
// 500 input and 100 output tokens, the subagent 200 and 40 of them.
func TestRealClaudeCodeUsage(t *testing.T) {
	exe := claudecode.Install(t)
	home := t.TempDir()
	t.Setenv("CLAUDE_CONFIG_DIR", filepath.Join(home, ".claude")) // the daemon inherits it
	d := testutil.StartDaemon(t)
	proj := filepath.Join(t.TempDir(), "proj")
	if err := os.MkdirAll(proj, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(proj, "x.txt"), []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	testutil.Binary(t, "mpm-hookctl")
	claudecode.WireHooks(t, testutil.Binary(t, "mpm-hook"), home, d.Addr, d.DataDir)
	stub := claudecode.NewStub(t,
		claudecode.Reply{Blocks: []claudecode.Block{{Text: "Let me read it."}, {Tool: "Read", Input: map[string]any{"file_path": filepath.Join(proj, "x.txt")}}}},
		claudecode.ToolReply("Agent", "", map[string]any{"description": "List the project", "prompt": subagentMarker, "subagent_type": "Explore"}),
		claudecode.TextReply("All done."),
	)
	stub.SubagentScript(subagentMarker,
		claudecode.ToolReply("Read", "", map[string]any{"file_path": filepath.Join(proj, "x.txt")}),
		claudecode.TextReply("The project has x.txt."),
	)
	c, err := client.New(client.Config{Addr: d.Addr, Token: d.Token()})
	if err != nil {
		t.Fatal(err)
	}
	// Live session frames, from before the run.
	var mu sync.Mutex
	var framed *protocol.Usage
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go c.Stream(ctx, client.Subscription{}, client.Handlers{
		Event: func(protocol.Event) error { return nil },
		Session: func(s protocol.Session) error {
			mu.Lock()
			defer mu.Unlock()
			if s.Usage != nil {
				framed = s.Usage
			}
			return nil
		},
	})
	// The Stop hook runs after the last message is written; a run cut off
	// before it would leave that message to the daemon's slow tick.
	waitStop := func() {
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			page, err := c.History(context.Background(), 0, nil, 1000)
			if err != nil {
				t.Fatal(err)
			}
			for _, ev := range page.Events {
				if ev.Event == "Stop" {
					return
				}
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	res := claudecode.RunStream(t, exe, claudecode.Options{Prompt: "read x.txt", Stub: stub, Home: home, Dir: proj,
		AllowedTools: []string{"Read"}, Env: claudecode.HookEnv(d.Addr, d.DataDir), BeforeExit: waitStop},
		func(string, json.RawMessage) bool { return true })
	if res.Err != nil {
		t.Fatalf("claude: %v\nstderr: %s", res.Err, res.Stderr)
	}
	want := func(u *protocol.Usage) bool {
		return u != nil && u.InputTokens == 5*stubIn && u.OutputTokens == 5*stubOut
	}
	var got protocol.Session
	deadline := time.Now().Add(20 * time.Second)
	for {
		list, err := c.Sessions(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(list) == 1 && want(list[0].Usage) {
			got = list[0]
			mu.Lock()
			ok := want(framed)
			mu.Unlock()
			if ok {
				break
			}
		}
		if time.Now().After(deadline) {
			mu.Lock()
			t.Fatalf("no usage of 500/100 tokens: sessions %+v, last frame's usage %+v\nlog:\n%s", list, framed, d.Log.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	u := got.Usage
	if u.CostSource != protocol.CostEstimate || u.ContextTokens != stubIn || u.ContextWindow != usage.DefaultContextWindow || len(u.Models) != 2 {
		t.Fatalf("usage %+v (want two models: the session's and the Explore subagent's)", u)
	}
	if len(got.Agents) != 1 || got.Agents[0].Usage == nil || got.Agents[0].Usage.InputTokens != 2*stubIn || got.Agents[0].Usage.OutputTokens != 2*stubOut {
		t.Fatalf("agents %+v", got.Agents)
	}
	var agentModel string
	for agentModel = range got.Agents[0].Usage.Models {
	}
	var model string // the session's own
	for m := range u.Models {
		if m != agentModel {
			model = m
		}
	}
	p := usage.DefaultPrices()
	wantCost := p.Cost(model, usage.Tokens{Input: 3 * stubIn, Output: 3 * stubOut}) + p.Cost(agentModel, usage.Tokens{Input: 2 * stubIn, Output: 2 * stubOut})
	if math.Abs(u.CostUSD-wantCost) > 1e-12 || u.Models[model].InputTokens != 3*stubIn || u.Models[agentModel].InputTokens != 2*stubIn {
		t.Fatalf("cost %v, want %v; models %+v", u.CostUSD, wantCost, u.Models)
	}
	// /metrics sums it.
	req, _ := http.NewRequest(http.MethodGet, d.URL("/metrics"), nil)
	req.Header.Set("Authorization", "Bearer "+d.Token())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	line := `mpm_tokens_total{kind="input",model="` + model + `"} 300`
	if !strings.Contains(string(body), line+"\n") {
		t.Fatalf("/metrics lacks %q:\n%s", line, grep(string(body), "mpm_tokens_total", "mpm_cost_usd_total", "mpm_usage"))
	}
	if *update {
		b, err := os.ReadFile(got.TranscriptPath)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join("testdata", "claudecode-transcript.jsonl"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A restarted daemon recomputes the same figures from the transcript.
	d.Stop()
	d.Start()
	deadline = time.Now().Add(20 * time.Second)
	for {
		list, err := c.Sessions(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(list) == 1 && list[0].Usage != nil {
			// The first read after the restart takes the whole file: the
			// figures come back at once, never doubled.
			if fmt.Sprint(list[0].Usage) != fmt.Sprint(u) {
				t.Fatalf("after restart %+v, before %+v", list[0].Usage, u)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no usage after restart: %+v", list)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func grep(s string, words ...string) string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		for _, w := range words {
			if strings.Contains(sc.Text(), w) {
				out = append(out, sc.Text())
				break
			}
		}
	}
	return strings.Join(out, "\n")
}
