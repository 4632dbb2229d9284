//go:build unix

package approvals_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mpm-dev/mpm/internal/protocol"
	"github.com/mpm-dev/mpm/internal/testutil"
	"github.com/mpm-dev/mpm/internal/testutil/claudecode"
)

// TestRealClaudeCodeApprovals runs the real Claude Code (offline, against
// the API stub, driven like the Agent SDK so that PermissionRequest fires)
// with `mpm-hook install --approvals` and a real daemon: a Bash call
// outside --allowedTools waits in GET /v1/approvals; allowed from mpm it
// runs; denied, it does not and Claude gets the message. The SDK's own
// prompt (the terminal's dialog) is answered "deny" only after mpm's answer
// took effect, as a person who did not touch the terminal.
func TestRealClaudeCodeApprovals(t *testing.T) {
	exe := claudecode.Install(t)
	testutil.Binary(t, "mpm-hookctl")
	hookBin := testutil.Binary(t, "mpm-hook")
	for _, c := range []struct {
		name, decision string
		wantRan        bool
		wantResult     string
	}{
		{"allow", `{"decision":"allow"}`, true, "completed"},
		{"deny", `{"decision":"deny","message":"MPM-SAYS-NO: use make clean"}`, false, "MPM-SAYS-NO: use make clean"},
		// Nobody answers from mpm: the request expires, the hook prints
		// nothing, and the prompt's answer (here "deny") is the one that
		// counts. Had the hook printed an allow, the command would run.
		{"timeout", ``, false, "denied by the test"},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := newAPI(t)
			home, proj := t.TempDir(), t.TempDir()
			timeout := "60s"
			if c.decision == "" {
				timeout = "2s"
			}
			claudecode.WireHooks(t, hookBin, home, a.d.Addr, a.d.DataDir, "--approvals", "--approval-timeout", timeout)
			stub, marker, toolResult := touchStub(t, proj)
			var id string
			res := claudecode.RunStream(t, exe, claudecode.Options{
				Prompt: "touch it", Stub: stub, Home: home, Dir: proj, AllowedTools: []string{"Read"},
				Env: claudecode.HookEnv(a.d.Addr, a.d.DataDir),
			}, func(tool string, input json.RawMessage) bool {
				deadline := time.Now().Add(30 * time.Second)
				for id == "" && time.Now().Before(deadline) {
					if p := a.pending(); len(p) > 0 {
						id = p[0].ID
						if p[0].ToolName != "Bash" || !strings.Contains(string(p[0].ToolInput), marker) {
							t.Errorf("pending %+v", p[0])
						}
						break
					}
					time.Sleep(50 * time.Millisecond)
				}
				if id == "" {
					t.Error("the request never became pending")
					return false
				}
				if c.decision == "" {
					// Answer the prompt only once the request expired.
					if d := a.decisions(1); len(d) != 1 || d[0]["outcome"] != "expired" {
						t.Errorf("journaled %v, want expired", d)
					}
					return false
				}
				if resp, body := a.do("POST", "/v1/approvals/"+id, []byte(c.decision), map[string]string{protocol.HeaderClient: "dashboard"}); resp.StatusCode != 200 {
					t.Errorf("decide: %d %s", resp.StatusCode, body)
				}
				for time.Now().Before(deadline) {
					if _, err := os.Stat(marker); err == nil || strings.Contains(toolResult(), c.wantResult) {
						break
					}
					time.Sleep(50 * time.Millisecond)
				}
				return false
			})
			if res.Err != nil {
				t.Fatalf("claude: %v\n%s", res.Err, res.Stderr)
			}
			_, err := os.Stat(marker)
			if ran := err == nil; ran != c.wantRan {
				t.Errorf("command ran %v, want %v", ran, c.wantRan)
			}
			if tr := toolResult(); !strings.Contains(tr, c.wantResult) {
				t.Errorf("tool_result %q, want %q", tr, c.wantResult)
			}
			if c.decision != "" {
				d := a.decisions(1)
				if len(d) == 0 || d[0]["outcome"] != strings.Split(strings.Split(c.decision, `"decision":"`)[1], `"`)[0] || !strings.HasPrefix(d[0]["by"].(string), "dashboard ") {
					t.Errorf("journaled %v", d)
				}
			}
		})
	}
}
