package approvals_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/mpm-dev/mpm/internal/client"
	"github.com/mpm-dev/mpm/internal/protocol"
	"github.com/mpm-dev/mpm/internal/protocol/codec"
	"github.com/mpm-dev/mpm/internal/testutil"
)

// permissionRequest is a PermissionRequest payload as Claude Code 2.1.197
// sends it (captured in TestClaudeCodePermissionHookContract).
func permissionRequest(session, command string) []byte {
	b, _ := json.Marshal(map[string]any{
		"session_id": session, "transcript_path": "/tmp/t.jsonl", "cwd": "/home/dev/proj",
		"permission_mode": "default", "hook_event_name": "PermissionRequest", "tool_name": "Bash",
		"tool_input": map[string]any{"command": command, "description": "run it"},
		"permission_suggestions": []any{
			map[string]any{"type": "addRules", "rules": []any{map[string]any{"toolName": "Bash", "ruleContent": command}}, "behavior": "allow", "destination": "localSettings"},
			map[string]any{"type": "setMode", "mode": "acceptEdits", "destination": "session"},
		},
	})
	return b
}

func toolEvent(session, name, command string) []byte {
	b, _ := json.Marshal(map[string]any{
		"session_id": session, "cwd": "/home/dev/proj", "hook_event_name": name, "tool_name": "Bash",
		"tool_input": map[string]any{"command": command, "description": "run it"}, "tool_use_id": "toolu_1",
	})
	return b
}

// api talks to a test daemon with net/http.
type api struct {
	t   *testing.T
	d   *testutil.Daemon
	tok string
}

func newAPI(t *testing.T, args ...string) *api {
	d := testutil.StartDaemon(t, args...)
	return &api{t: t, d: d, tok: d.Token()}
}

func (a *api) do(method, path string, body []byte, hdr map[string]string) (*http.Response, []byte) {
	a.t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, a.d.URL(path), rd)
	if err != nil {
		a.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+a.tok)
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// request posts a PermissionRequest whose hook waits wait seconds and
// returns the pending id.
func (a *api) request(session, command, wait string) string {
	a.t.Helper()
	resp, body := a.do("POST", "/v1/events", permissionRequest(session, command), map[string]string{protocol.HeaderApprovalWait: wait})
	if resp.StatusCode != http.StatusAccepted {
		a.t.Fatalf("post PermissionRequest: %d %s", resp.StatusCode, body)
	}
	return resp.Header.Get(protocol.HeaderApprovalID)
}

func (a *api) pending() []protocol.Approval {
	a.t.Helper()
	resp, body := a.do("GET", "/v1/approvals", nil, nil)
	var out protocol.Approvals
	if resp.StatusCode != 200 || json.Unmarshal(body, &out) != nil {
		a.t.Fatalf("GET /v1/approvals: %d %s", resp.StatusCode, body)
	}
	return out.Approvals
}

// decisions returns the journaled MpmApprovalDecision payloads, waiting
// up to 10 s for want of them (expiries and answers elsewhere are
// journaled in the background).
func (a *api) decisions(want int) []map[string]any {
	a.t.Helper()
	c, err := client.New(client.Config{Addr: a.d.Addr, Token: a.tok})
	if err != nil {
		a.t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		page, err := c.History(context.Background(), 0, nil, 1000)
		if err != nil {
			a.t.Fatal(err)
		}
		var out []map[string]any
		for _, ev := range page.Events {
			if ev.Event == protocol.EventApprovalDecision {
				var m map[string]any
				json.Unmarshal(ev.Payload, &m)
				out = append(out, m)
			}
		}
		if len(out) >= want || time.Now().After(deadline) {
			return out
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestApprovalAPI(t *testing.T) {
	a := newAPI(t)
	id := a.request("s1", "rm -rf build", "60")
	if id == "" {
		t.Fatal("no Mpm-Approval-Id for a waiting PermissionRequest")
	}
	// Without the header it is monitoring only.
	resp, _ := a.do("POST", "/v1/events", permissionRequest("s1", "ls"), nil)
	if resp.Header.Get(protocol.HeaderApprovalID) != "" {
		t.Fatal("a PermissionRequest without Mpm-Approval-Wait was registered")
	}
	p := a.pending()
	if len(p) != 1 || p[0].ID != id || p[0].SessionID != "s1" || p[0].Cwd != "/home/dev/proj" || p[0].ToolName != "Bash" ||
		!strings.Contains(string(p[0].ToolInput), "rm -rf build") || !strings.Contains(string(p[0].PermissionSuggestions), "addRules") ||
		p[0].Seq == 0 || !p[0].ExpiresAt.After(p[0].RequestedAt) {
		t.Fatalf("pending %+v", p)
	}
	for _, c := range []struct {
		name, id, body string
		hdr            map[string]string
		want           int
	}{
		{"not json", id, `allow`, nil, 400},
		{"unknown decision", id, `{"decision":"maybe"}`, nil, 400},
		{"unknown field", id, `{"decision":"allow","always":true}`, nil, 400},
		{"two values", id, `{"decision":"allow"}{}`, nil, 400},
		{"message with allow", id, `{"decision":"allow","message":"x"}`, nil, 400},
		{"suggestion with deny", id, `{"decision":"deny","suggestion":0}`, nil, 400},
		{"suggestion out of range", id, `{"decision":"allow","suggestion":2}`, nil, 400},
		{"negative suggestion", id, `{"decision":"allow","suggestion":-1}`, nil, 400},
		{"unknown id", "nope-1", `{"decision":"allow"}`, nil, 404},
		{"foreign origin", id, `{"decision":"allow"}`, map[string]string{"Origin": "http://evil.example"}, 403},
		{"no token", id, `{"decision":"allow"}`, map[string]string{"Authorization": ""}, 401},
		{"allow always", id, `{"decision":"allow","suggestion":0}`, map[string]string{protocol.HeaderClient: "Dashboard"}, 200},
		{"second answer", id, `{"decision":"deny","message":"no"}`, nil, 409},
	} {
		resp, body := a.do("POST", "/v1/approvals/"+c.id, []byte(c.body), c.hdr)
		if resp.StatusCode != c.want {
			t.Errorf("%s: %d %s, want %d", c.name, resp.StatusCode, body, c.want)
		}
		if c.want == 409 && !strings.Contains(string(body), `"outcome":"allow"`) {
			t.Errorf("%s: 409 body %s does not say it was allowed", c.name, body)
		}
	}
	if p := a.pending(); len(p) != 0 {
		t.Errorf("still pending after the decision: %+v", p)
	}
	// The hook's long poll gets the decision, with the chosen suggestion.
	resp, body := a.do("GET", "/v1/approvals/"+id+"/wait?timeout=5", nil, nil)
	// (the entry as the payload had it: permissionRequest's keys are sorted)
	want := `{"hookSpecificOutput":{"hookEventName":"PermissionRequest","decision":{"behavior":"allow","updatedPermissions":[{"behavior":"allow","destination":"localSettings","rules":[{"ruleContent":"rm -rf build","toolName":"Bash"}],"type":"addRules"}]}}}`
	if resp.StatusCode != 200 || string(body) != want {
		t.Errorf("wait: %d %s\nwant %s", resp.StatusCode, body, want)
	}
	if resp, _ := a.do("GET", "/v1/approvals/nope-1/wait?timeout=1", nil, nil); resp.StatusCode != 404 {
		t.Errorf("wait on an unknown id: %d", resp.StatusCode)
	}
	d := a.decisions(1)
	if len(d) != 1 || d[0]["outcome"] != "allow" || d[0]["session_id"] != "s1" || !strings.HasPrefix(d[0]["by"].(string), "dashboard 127.0.0.1:") ||
		d[0]["approval_id"] != id || d[0]["suggestion"] != 0.0 {
		t.Errorf("journaled decisions %v", d)
	}
}

func TestApprovalExpiresAndDeny(t *testing.T) {
	a := newAPI(t)
	id := a.request("s1", "make deploy", "1")
	// The hook's poll ends at the expiry with nothing to print.
	resp, body := a.do("GET", "/v1/approvals/"+id+"/wait?timeout=30", nil, nil)
	if resp.StatusCode != http.StatusNoContent || len(body) != 0 {
		t.Fatalf("wait past expiry: %d %q, want 204", resp.StatusCode, body)
	}
	resp, body = a.do("POST", "/v1/approvals/"+id, []byte(`{"decision":"allow"}`), nil)
	if resp.StatusCode != 409 || !strings.Contains(string(body), `"outcome":"expired"`) {
		t.Errorf("allow after expiry: %d %s", resp.StatusCode, body)
	}
	// Deny with a message: the hook gets it.
	id2 := a.request("s1", "make deploy", "60")
	resp, body = a.do("POST", "/v1/approvals/"+id2, []byte(`{"decision":"deny","message":"not on Friday"}`), nil)
	if resp.StatusCode != 200 {
		t.Fatalf("deny: %d %s", resp.StatusCode, body)
	}
	_, body = a.do("GET", "/v1/approvals/"+id2+"/wait?timeout=5", nil, nil)
	if want := `{"hookSpecificOutput":{"hookEventName":"PermissionRequest","decision":{"behavior":"deny","message":"not on Friday"}}}`; string(body) != want {
		t.Errorf("wait after deny: %s", body)
	}
	d := a.decisions(2)
	if len(d) != 2 || d[0]["outcome"] != "expired" || d[1]["outcome"] != "deny" || d[1]["message"] != "not on Friday" {
		t.Errorf("journaled %v", d)
	}
}

func TestApprovalAnsweredElsewhere(t *testing.T) {
	a := newAPI(t)
	id := a.request("s1", "rm -rf build", "60")
	other := a.request("s2", "rm -rf build", "60")
	// Another call of the session ends: not this one's answer.
	a.do("POST", "/v1/events", toolEvent("s1", "PostToolUse", "ls"), nil)
	if len(a.pending()) != 2 {
		t.Fatalf("a PostToolUse of another call resolved the request: %+v", a.pending())
	}
	// The call's own PostToolUse: the person allowed it in the terminal.
	a.do("POST", "/v1/events", toolEvent("s1", "PostToolUse", "rm -rf build"), nil)
	p := a.pending()
	if len(p) != 1 || p[0].ID != other {
		t.Fatalf("pending %+v, want only %s", p, other)
	}
	resp, body := a.do("POST", "/v1/approvals/"+id, []byte(`{"decision":"allow"}`), nil)
	if resp.StatusCode != 409 || !strings.Contains(string(body), "answered_elsewhere") {
		t.Errorf("allow after the terminal answered: %d %s", resp.StatusCode, body)
	}
	// Stop ends whatever the session still waits for (a denied call has no
	// PostToolUse).
	stop, _ := json.Marshal(map[string]any{"session_id": "s2", "hook_event_name": "Stop"})
	a.do("POST", "/v1/events", stop, nil)
	if p := a.pending(); len(p) != 0 {
		t.Errorf("pending after Stop: %+v", p)
	}
	if d := a.decisions(2); len(d) != 2 || d[0]["outcome"] != "answered_elsewhere" || d[1]["outcome"] != "answered_elsewhere" {
		t.Errorf("journaled %v", d)
	}
}

func TestApprovalModeAndRestart(t *testing.T) {
	a := newAPI(t)
	resp, body := a.do("GET", "/v1/approvals/mode", nil, nil)
	if string(bytes.TrimSpace(body)) != `{"enabled":true}` {
		t.Fatalf("default mode: %d %s", resp.StatusCode, body)
	}
	id := a.request("s1", "rm -rf build", "60")
	if resp, body := a.do("POST", "/v1/approvals/"+id, []byte(`{"decision":"deny","message":"no"}`), map[string]string{protocol.HeaderClient: "monitor"}); resp.StatusCode != 200 {
		t.Fatalf("deny: %d %s", resp.StatusCode, body)
	}
	pendingID := a.request("s1", "rm -rf dist", "60")
	for _, bad := range []string{``, `{}`, `{"enabled":"no"}`, `[true]`} {
		if resp, _ := a.do("PUT", "/v1/approvals/mode", []byte(bad), nil); resp.StatusCode != 400 {
			t.Errorf("PUT mode %q: %d, want 400", bad, resp.StatusCode)
		}
	}
	if resp, _ := a.do("PUT", "/v1/approvals/mode", []byte(`{"enabled":false}`), map[string]string{"Origin": "http://evil.example"}); resp.StatusCode != 403 {
		t.Errorf("PUT mode from a foreign origin: %d", resp.StatusCode)
	}
	if resp, body := a.do("PUT", "/v1/approvals/mode", []byte(`{"enabled":false}`), nil); resp.StatusCode != 200 || !strings.Contains(string(body), "false") {
		t.Fatalf("PUT mode off: %d %s", resp.StatusCode, body)
	}
	// Switching off releases the waiting hooks at once.
	resp, _ = a.do("GET", "/v1/approvals/"+pendingID+"/wait?timeout=30", nil, nil)
	if resp.StatusCode != 204 || len(a.pending()) != 0 {
		t.Errorf("after switching off: wait %d, pending %+v", resp.StatusCode, a.pending())
	}
	// Off: the daemon tells the hook at once not to wait.
	resp, _ = a.do("POST", "/v1/events", permissionRequest("s1", "ls"), map[string]string{protocol.HeaderApprovalWait: "60"})
	if resp.Header.Get(protocol.HeaderApproval) != "off" || resp.Header.Get(protocol.HeaderApprovalID) != "" {
		t.Errorf("off: headers %v", resp.Header)
	}

	// A restart keeps the switch and the journaled decision.
	a.d.Stop()
	a.d.Start()
	if _, body := a.do("GET", "/v1/approvals/mode", nil, nil); string(bytes.TrimSpace(body)) != `{"enabled":false}` {
		t.Errorf("mode after restart: %s", body)
	}
	d := a.decisions(2)
	if len(d) < 2 || d[0]["outcome"] != "deny" || d[0]["message"] != "no" || !strings.HasPrefix(d[0]["by"].(string), "monitor ") || d[0]["tool_name"] != "Bash" {
		t.Errorf("journaled after restart %v", d)
	}
}

func TestApprovalFrames(t *testing.T) {
	a := newAPI(t)
	early := a.request("s1", "echo early", "60") // pending before the client subscribes
	hdr := http.Header{"Authorization": {"Bearer " + a.tok}}
	conn, _, err := websocket.DefaultDialer.Dial("ws://"+a.d.Addr+"/v1/ws?since=0", hdr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	frames := make(chan any, 100)
	go func() {
		for {
			_, data, err := conn.ReadMessage()
			if err != nil {
				close(frames)
				return
			}
			if _, m, err := codec.DecodeServerMsg(data); err == nil && m != nil {
				frames <- m
			}
		}
	}()
	next := func(match func(any) bool) any {
		t.Helper()
		timeout := time.After(10 * time.Second)
		for {
			select {
			case m, ok := <-frames:
				if !ok {
					t.Fatal("connection closed")
				}
				if match(m) {
					return m
				}
			case <-timeout:
				t.Fatal("frame did not come")
			}
		}
	}
	isApproval := func(id string) func(any) bool {
		return func(m any) bool { f, ok := m.(protocol.ApprovalFrame); return ok && f.Approval.ID == id }
	}
	next(isApproval(early))
	id := a.request("s1", "echo later", "60")
	// The request's event reaches a client before its approval frame (the
	// daemon answers other events before their fan-out, not these).
	var seen []uint64
	f := next(func(m any) bool {
		if evs, ok := m.(protocol.Events); ok {
			for _, raw := range evs.Events {
				var ev struct {
					Seq uint64 `json:"seq"`
				}
				json.Unmarshal(raw, &ev)
				seen = append(seen, ev.Seq)
			}
		}
		return isApproval(id)(m)
	}).(protocol.ApprovalFrame)
	if f.Type != protocol.TypeApproval || f.Approval.ToolName != "Bash" || f.Approval.SessionID != "s1" {
		t.Errorf("approval frame %+v", f)
	}
	if !slices.Contains(seen, f.Approval.Seq) {
		t.Errorf("the approval frame for seq %d came before its event (events seen before it: %v)", f.Approval.Seq, seen)
	}
	a.do("POST", "/v1/approvals/"+id, []byte(`{"decision":"allow"}`), nil)
	r := next(func(m any) bool { f, ok := m.(protocol.ApprovalResolvedFrame); return ok && f.ID == id }).(protocol.ApprovalResolvedFrame)
	if r.Outcome != "allow" || r.SessionID != "s1" || !strings.HasPrefix(r.By, "api 127.0.0.1:") {
		t.Errorf("resolved frame %+v", r)
	}
}
