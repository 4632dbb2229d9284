package monitor_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mpm-dev/mpm/internal/monitor"
	"github.com/mpm-dev/mpm/internal/protocol"
	"github.com/mpm-dev/mpm/internal/testutil"
)

// TestApprovalCommands drives approvals, approve and deny against a real
// daemon with pending requests.
func TestApprovalCommands(t *testing.T) {
	d := testutil.StartDaemon(t)
	request := func(cmd string) string {
		body, _ := json.Marshal(map[string]any{"session_id": "4f1c2b3a-9", "cwd": "/home/dev/proj", "hook_event_name": "PermissionRequest",
			"tool_name": "Bash", "tool_input": map[string]any{"command": cmd},
			"permission_suggestions": []any{map[string]any{"type": "addRules", "rules": []any{map[string]any{"toolName": "Bash", "ruleContent": cmd}}, "behavior": "allow", "destination": "localSettings"}}})
		req, _ := http.NewRequest("POST", d.URL("/v1/events"), bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+d.Token())
		req.Header.Set(protocol.HeaderApprovalWait, "120")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.Header.Get(protocol.HeaderApprovalID)
	}
	run := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		args = append(args, "--addr", d.Addr, "--data-dir", d.DataDir)
		code := monitor.ApprovalsMain(context.Background(), args[0], args[1:], &out, &errb)
		return code, out.String(), errb.String()
	}
	if code, out, _ := run("approvals"); code != 0 || !strings.Contains(out, "No permission request") {
		t.Fatalf("empty list: %d %q", code, out)
	}
	a, b := request("rm -rf build"), request("git push --force")
	code, out, errs := run("approvals")
	if code != 0 || !strings.Contains(out, a) || !strings.Contains(out, "Bash: rm -rf build") || !strings.Contains(out, "4f1c2b3a ") ||
		!strings.Contains(out, "proj") || !strings.Contains(out, "--always N (0..0)") {
		t.Fatalf("list: %d %q %q", code, out, errs)
	}
	if code, out, _ := run("approvals", "--json"); code != 0 || strings.Count(out, "\n") != 2 || !strings.Contains(out, `"id":"`+b+`"`) {
		t.Errorf("--json: %d %q", code, out)
	}
	for _, c := range []struct {
		args     []string
		code     int
		out, err string
	}{
		{[]string{"approve", a, "--always", "0"}, 0, a + " allowed.", ""},
		{[]string{"approve", a}, 1, "", "already resolved: allow by monitor 127.0.0.1:"},
		{[]string{"deny", "--message", "use --force-with-lease", b}, 0, b + " denied.", ""},
		{[]string{"deny", "nope-1"}, 1, "", "no pending request nope-1"},
		{[]string{"approve"}, 2, "", "give one request ID"},
		{[]string{"approve", a, "--message", "x"}, 2, "", "--message goes with deny"},
		{[]string{"deny", b, "--always", "1"}, 2, "", "--always goes with approve"},
		{[]string{"approvals", "--on", "--off"}, 2, "", "exclude each other"},
		{[]string{"approvals", "--off"}, 0, "Answering from mpm is off", ""},
		{[]string{"approvals"}, 0, "mpm-monitor approvals --on", ""},
		{[]string{"approvals", "--on"}, 0, "Answering from mpm is on.", ""},
	} {
		code, out, errs := run(c.args...)
		if code != c.code || !strings.Contains(out, c.out) || !strings.Contains(errs, c.err) {
			t.Errorf("%v: %d %q %q; want %d, %q, %q", c.args, code, out, errs, c.code, c.out, c.err)
		}
	}
}

// TestApprovalsTableReadOnly: on a fleet hub another machine's request is
// listed with where to answer it, without the "always" hint.
func TestApprovalsTableReadOnly(t *testing.T) {
	now := time.Now()
	out := monitor.ApprovalsTable([]protocol.Approval{{ID: "e1-1", SessionID: "4f1c2b3a-9", Cwd: "/home/dev/proj", ToolName: "Bash",
		ToolInput: protocol.RawJSON(`{"command":"ls"}`), PermissionSuggestions: protocol.RawJSON(`[{"type":"setMode"}]`),
		Origin: "laptop-a", ReadOnly: true, ExpiresAt: now.Add(time.Minute)}}, true, now)
	if !strings.Contains(out, "read-only: from laptop-a, answer it there") || strings.Contains(out, "--always") {
		t.Errorf("table:\n%s", out)
	}
}
