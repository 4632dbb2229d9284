package hook_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mpm-dev/mpm/internal/protocol"
	"github.com/mpm-dev/mpm/internal/testutil"
)

func permissionPayload(session string) []byte {
	b, _ := json.Marshal(map[string]any{
		"session_id": session, "cwd": "/home/dev/proj", "hook_event_name": "PermissionRequest", "tool_name": "Bash",
		"tool_input":             map[string]any{"command": "rm -rf build"},
		"permission_suggestions": []any{map[string]any{"type": "addRules", "rules": []any{map[string]any{"toolName": "Bash", "ruleContent": "rm -rf build"}}, "behavior": "allow", "destination": "localSettings"}},
	})
	return b
}

// apiCall sends one request to the daemon with its token.
func apiCall(t *testing.T, d *testutil.Daemon, method, path, body string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, d.URL(path), strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+d.Token())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// pendingID waits until the daemon lists a pending request of session.
func pendingID(t *testing.T, d *testutil.Daemon, session string) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		_, b := apiCall(t, d, "GET", "/v1/approvals", "")
		var out protocol.Approvals
		json.Unmarshal(b, &out)
		for _, a := range out.Approvals {
			if a.SessionID == session {
				return a.ID
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("the hook's request never became pending")
	return ""
}

// TestHookApprovalDecisions runs the real mpm-hook against a real daemon:
// a person's decision is printed exactly; no decision prints nothing.
func TestHookApprovalDecisions(t *testing.T) {
	d := testutil.StartDaemon(t)
	for _, c := range []struct {
		name, decision, want, debug string
	}{
		{"allow", `{"decision":"allow"}`, `{"hookSpecificOutput":{"hookEventName":"PermissionRequest","decision":{"behavior":"allow"}}}` + "\n", "approval=decided"},
		{"always", `{"decision":"allow","suggestion":0}`, `{"hookSpecificOutput":{"hookEventName":"PermissionRequest","decision":{"behavior":"allow","updatedPermissions":[{"behavior":"allow","destination":"localSettings","rules":[{"ruleContent":"rm -rf build","toolName":"Bash"}],"type":"addRules"}]}}}` + "\n", "approval=decided"},
		{"deny", `{"decision":"deny","message":"not now"}`, `{"hookSpecificOutput":{"hookEventName":"PermissionRequest","decision":{"behavior":"deny","message":"not now"}}}` + "\n", "approval=decided"},
		{"timeout", ``, ``, "approval=none"},
	} {
		t.Run(c.name, func(t *testing.T) {
			session := "hook-" + c.name
			wait := "2m"
			if c.decision == "" {
				wait = "1s"
			}
			done := make(chan hookRun, 1)
			go func() {
				done <- runHook(t, d.Addr, d.DataDir, permissionPayload(session), "MPM_HOOK_APPROVAL_WAIT="+wait)
			}()
			if c.decision != "" {
				id := pendingID(t, d, session)
				if code, b := apiCall(t, d, "POST", "/v1/approvals/"+id, c.decision); code != 200 {
					t.Fatalf("decide: %d %s", code, b)
				}
			}
			r := <-done
			if r.exitCode != 0 || r.stdout != c.want || !strings.Contains(r.stderr, c.debug) {
				t.Fatalf("exit %d stdout %q stderr %q\nwant stdout %q and %q", r.exitCode, r.stdout, r.stderr, c.want, c.debug)
			}
		})
	}
	// Any other event with the variable set goes as it always did.
	r := runHook(t, d.Addr, d.DataDir, []byte(`{"session_id":"x","hook_event_name":"PreToolUse","tool_name":"Bash"}`), "MPM_HOOK_APPROVAL_WAIT=1h")
	wantNeutral(t, r)
	if strings.Contains(r.stderr, "approval=") {
		t.Errorf("a PreToolUse waited: %s", r.stderr)
	}
}

// TestHookApprovalNoDecisionWithoutDaemon: the daemon down, hung, switched
// off or hung in the middle of the wait — the hook prints nothing and
// exits 0, without waiting out a one-hour approval wait (a generous bound
// that only a hook stuck on the wait would pass).
func TestHookApprovalNoDecisionWithoutDaemon(t *testing.T) {
	tokDir := func() string {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "token"), []byte(strings.Repeat("a", 43)+"\n"), 0o600)
		return dir
	}
	// Down: nothing listens.
	down := testutil.FreeAddr(t)
	// Hung: accepts and never answers.
	hungLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer hungLn.Close()
	go func() {
		for {
			c, err := hungLn.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	// Hangs in the wait: registers the request, then never answers the poll.
	waitLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer waitLn.Close()
	go func() {
		for {
			c, err := waitLn.Accept()
			if err != nil {
				return
			}
			go func(c net.Conn) {
				defer c.Close()
				line, _ := bufio.NewReader(c).ReadString('\n')
				if strings.HasPrefix(line, "POST") {
					io.WriteString(c, "HTTP/1.1 202 Accepted\r\nMpm-Seq: 1\r\nMpm-Approval: pending\r\nMpm-Approval-Id: ab12-1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
					return
				}
				io.Copy(io.Discard, c) // the wait: hang until the hook gives up
			}(c)
		}
	}()
	off := testutil.StartDaemon(t)
	if code, b := apiCall(t, off, "PUT", "/v1/approvals/mode", `{"enabled":false}`); code != 200 {
		t.Fatalf("switch off: %d %s", code, b)
	}
	for _, c := range []struct {
		name, addr, dataDir, wait, debug string
	}{
		{"down", down, tokDir(), "1h", "approval=not-sent"},
		{"hung", hungLn.Addr().String(), tokDir(), "1h", "approval=not-sent"},
		{"switched off", off.Addr, off.DataDir, "1h", "approval=off"},
		{"hung in the wait", waitLn.Addr().String(), tokDir(), "1s", "approval=failed"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := runHook(t, c.addr, c.dataDir, permissionPayload("s-"+c.name), "MPM_HOOK_APPROVAL_WAIT="+c.wait)
			wantNeutral(t, r)
			if !strings.Contains(r.stderr, c.debug) {
				t.Errorf("stderr %q, want %q", r.stderr, c.debug)
			}
			if r.took > 30*time.Second {
				t.Errorf("the hook took %v: it waited on a daemon that could not answer", r.took)
			}
		})
	}
	// The request the switched-off daemon got is shown, not pending.
	_, b := apiCall(t, off, "GET", "/v1/approvals", "")
	if !bytes.Contains(b, []byte(`"approvals":[]`)) {
		t.Errorf("switched off, yet pending: %s", b)
	}
}
