//go:build unix

package approvals_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mpm-dev/mpm/internal/testutil/claudecode"
)

// touchStub is a Messages API stub whose model asks Bash to create the
// file marker in proj, then ends the turn; toolResult returns the start of
// the tool_result Claude Code sent back (what the model was told), or "".
func touchStub(t *testing.T, proj string) (stub *claudecode.Stub, marker string, toolResult func() string) {
	t.Helper()
	marker = filepath.Join(proj, "ran")
	stub = claudecode.NewStub(t,
		claudecode.ToolReply("Bash", "", map[string]any{"command": "python3 -c \"open('" + marker + "','w')\"", "description": "touch"}),
		claudecode.TextReply("All done."),
	)
	toolResult = func() string {
		for _, r := range stub.Requests() {
			if i := strings.Index(string(r.Body), `"tool_result"`); i >= 0 {
				return string(r.Body[i:min(len(r.Body), i+300)])
			}
		}
		return ""
	}
	return stub, marker, toolResult
}

// writeHookSettings wires a shell-script PermissionRequest hook that saves
// its stdin to home/in.json and prints out (may be empty).
func writeHookSettings(t *testing.T, home, out string) {
	t.Helper()
	script := filepath.Join(home, "perm-hook.sh")
	outFile := filepath.Join(home, "out.json")
	if err := os.WriteFile(outFile, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	body := "#!/bin/sh\ncat > " + filepath.Join(home, "in.json") + "\ncat " + outFile + "\n"
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	h := map[string]any{"type": "command", "command": script, "timeout": 30}
	settings := map[string]any{"hooks": map[string]any{
		"PermissionRequest": []any{map[string]any{"matcher": "", "hooks": []any{h}}},
	}}
	b, _ := json.Marshal(settings)
	os.MkdirAll(filepath.Join(home, ".claude"), 0o700)
	if err := os.WriteFile(filepath.Join(home, ".claude", "settings.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestClaudeCodePermissionHookContract pins what docs/protocol.md says
// about PermissionRequest hooks, against the real Claude Code with a
// shell-script hook that prints a fixed answer: the output format that
// allows, denies (the message reaches Claude as the tool result) and
// "always" allows (updatedPermissions from permission_suggestions); that
// `claude -p` without a permission prompt tool never fires the hook; and
// that the prompt (here the SDK's can_use_tool, in the terminal the dialog)
// does not wait for the hook: both run at once and the first answer wins.
// The SDK side answers "deny" only after the hook's answer took effect
// (or after 20 s), so an allow that wins shows the hook decided.
func TestClaudeCodePermissionHookContract(t *testing.T) {
	exe := claudecode.Install(t)
	const allow = `{"hookSpecificOutput":{"hookEventName":"PermissionRequest","decision":{"behavior":"allow"}}}`
	cases := []struct {
		name, out   string
		stream      bool
		wantRan     bool
		wantResult  string // in the tool_result Claude gets
		wantHook    bool
		wantSetting string // in .claude/settings.local.json
	}{
		{"p-mode-no-hook", allow, false, false, "This command requires approval", false, ""},
		{"allow", allow, true, true, "completed", true, ""},
		{"deny", `{"hookSpecificOutput":{"hookEventName":"PermissionRequest","decision":{"behavior":"deny","message":"NOPE-from-mpm"}}}`, true, false, "NOPE-from-mpm", true, ""},
		{"always", `{"hookSpecificOutput":{"hookEventName":"PermissionRequest","decision":{"behavior":"allow","updatedPermissions":[{"type":"addRules","rules":[{"toolName":"Bash","ruleContent":"python3:*"}],"behavior":"allow","destination":"localSettings"}]}}}`, true, true, "completed", true, "python3:*"},
		{"no-answer-asks", ``, true, false, "denied by the test", true, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			home := t.TempDir()
			proj := t.TempDir()
			writeHookSettings(t, home, c.out)
			stub, marker, toolResult := touchStub(t, proj)
			o := claudecode.Options{Prompt: "touch it", Stub: stub, Home: home, Dir: proj, AllowedTools: []string{"Read"}}
			var res claudecode.Result
			if c.stream {
				res = claudecode.RunStream(t, exe, o, func(string, json.RawMessage) bool {
					// Answer after the hook's answer took effect: the file
					// exists, or the deny message went to the API.
					deadline := time.Now().Add(20 * time.Second)
					for time.Now().Before(deadline) {
						if _, err := os.Stat(marker); err == nil {
							break
						}
						if strings.Contains(toolResult(), "NOPE-from-mpm") {
							break
						}
						if c.out == "" {
							if _, err := os.Stat(filepath.Join(home, "in.json")); err == nil {
								break
							}
						}
						time.Sleep(50 * time.Millisecond)
					}
					return false
				})
			} else {
				res = claudecode.Run(t, exe, o)
			}
			if res.Err != nil {
				t.Fatalf("claude: %v\n%s", res.Err, res.Stderr)
			}
			in, _ := os.ReadFile(filepath.Join(home, "in.json"))
			if got := len(in) > 0; got != c.wantHook {
				t.Errorf("hook fired %v, want %v (stdin %s)", got, c.wantHook, in)
			}
			if c.wantHook && !strings.Contains(string(in), `"permission_suggestions":[{"type":"addRules"`) {
				t.Errorf("hook stdin lacks permission_suggestions: %s", in)
			}
			_, err := os.Stat(marker)
			if ran := err == nil; ran != c.wantRan {
				t.Errorf("command ran %v, want %v", ran, c.wantRan)
			}
			if tr := toolResult(); !strings.Contains(tr, c.wantResult) {
				t.Errorf("tool_result %q, want it to hold %q", tr, c.wantResult)
			}
			if c.wantSetting != "" {
				sl, _ := os.ReadFile(filepath.Join(proj, ".claude", "settings.local.json"))
				if !strings.Contains(string(sl), c.wantSetting) {
					t.Errorf("settings.local.json %s, want %q", sl, c.wantSetting)
				}
			}
		})
	}
}
