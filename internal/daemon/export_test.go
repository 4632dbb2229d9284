package daemon_test

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mpm-dev/mpm/internal/protocol"
)

// TestExportUsage: the Markdown export of a session ends with its usage as
// GET /v1/sessions serves it: cost with its source, tokens, context fill,
// a row per model, the budget it passed, and its subagents' own usage.
func TestExportUsage(t *testing.T) {
	r := newBudgetRig(t, "--budget-session-usd", "0.03")
	p := transcript(t, r.configDir, "s1.jsonl")
	// The subagent's transcript, where Claude Code writes it.
	sub := filepath.Join(strings.TrimSuffix(p, ".jsonl"), "subagents", "agent-a1b2c3d4e5.jsonl")
	if err := os.MkdirAll(filepath.Dir(sub), 0o755); err != nil {
		t.Fatal(err)
	}
	line := `{"parentUuid":"x","isSidechain":true,"message":{"content":[{"text":"ok","type":"text"}],"id":"msg_sub","model":"claude-haiku-4-5-20251001","role":"assistant","type":"message","usage":{"input_tokens":1000,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":200}},"type":"assistant","uuid":"s1","requestId":"req_sub","timestamp":"2026-11-30T10:00:02.000Z"}` + "\n"
	if err := os.WriteFile(sub, []byte(line), 0o644); err != nil {
		t.Fatal(err)
	}
	r.post("s1", "UserPromptSubmit", p, map[string]any{"prompt": "hi"})
	r.post("s1", "SubagentStart", p, map[string]any{"agent_id": "a1b2c3d4e5", "agent_type": "Explore"})
	r.post("s1", "SubagentStop", p, map[string]any{"agent_id": "a1b2c3d4e5", "agent_type": "Explore"})
	r.session("s1", "with its subagent's usage and over budget", func(s protocol.Session) bool {
		return s.Usage != nil && s.OverBudget != nil && len(s.Agents) == 1 && s.Agents[0].Usage != nil
	})

	req, _ := http.NewRequest(http.MethodGet, r.d.URL("/v1/sessions/s1/export?format=markdown"), nil)
	req.Header.Set("Authorization", "Bearer "+r.d.Token())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	md := string(body)
	_, usage, ok := strings.Cut(md, "\n## Usage\n")
	if resp.StatusCode != http.StatusOK || !ok {
		t.Fatalf("%d, no usage section:\n%s", resp.StatusCode, md)
	}
	for _, want := range []string{
		"- Cost: $0.0422 (`cost_source: claude`: Claude Code's own figure (its cost-state record))\n",
		"- Tokens: 16,780: 1,600 input, 180 output, 12,000 cache read, 3,000 cache write\n",
		"- Context at the last turn: 2,400 of 200,000 tokens (1%)\n",
		"- Budget: over its session budget: $0.04 of $0.03 (since ",
		"| Model | Input | Output | Cache read | Cache write | Cost |\n",
		"| `claude-haiku-4-5-20251001` | 400 | 30 | 2,000 | 0 | $0.0010 |\n",
		"| `claude-sonnet-4-5-20250929` | 1,200 | 150 | 10,000 | 3,000 | $0.0412 |\n",
		"### Subagents\n",
		"| `a1b2c3d4` | `Explore` | 1,200 | ~$0.0020 | `claude-haiku-4-5-20251001` |\n",
	} {
		if !strings.Contains(usage, want) {
			t.Errorf("the usage section lacks %q:\n%s", want, usage)
		}
	}
}
