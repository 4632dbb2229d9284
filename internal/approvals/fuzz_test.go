package approvals

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mpm-dev/mpm/internal/protocol"
)

// FuzzParseDecision: any body either parses to a decision that keeps the
// rules (allow or deny; message only with deny and bounded; suggestion
// only with allow and >= 0) whose hook output is one JSON object starting
// with the prefix mpm-hook checks, or is refused with a message.
func FuzzParseDecision(f *testing.F) {
	for _, s := range []string{
		`{"decision":"allow"}`, `{"decision":"deny","message":"no"}`, `{"decision":"allow","suggestion":1}`,
		`{"decision":"allow","message":"x"}`, `{"decision":"maybe"}`, `{}`, `[]`, `null`, `{"decision":"allow"}{}`,
		`{"decision":"deny","message":"\u2028</script>"}`, `{"decision":"allow","suggestion":-1}`, "\xff",
		`{"decision":"allow","Decision":"deny"}`, `{"decision":"allow","suggestion":1e3}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		d, err := ParseDecision(body)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			if d != (protocol.ApprovalDecision{}) {
				t.Fatalf("refused body gave a decision %+v", d)
			}
			return
		}
		switch d.Decision {
		case protocol.ApprovalAllow:
			if d.Message != "" || (d.Suggestion != nil && *d.Suggestion < 0) {
				t.Fatalf("allow %+v", d)
			}
		case protocol.ApprovalDeny:
			if d.Suggestion != nil || len(d.Message) > MaxMessage {
				t.Fatalf("deny %+v", d)
			}
		default:
			t.Fatalf("decision %q accepted", d.Decision)
		}
		out := HookOutput(d, json.RawMessage(`{"type":"addRules"}`))
		var v map[string]any
		if !strings.HasPrefix(string(out), OutputPrefix+d.Decision+`"`) || json.Unmarshal(out, &v) != nil {
			t.Fatalf("hook output %s", out)
		}
	})
}

// FuzzObserveRemote: whatever an edge's MpmApprovalRequest or
// MpmApprovalDecision payload holds, the hub lists at most a read-only
// request of that origin and session, which can never be answered here.
func FuzzObserveRemote(f *testing.F) {
	now := time.Now()
	f.Add(true, RequestEvent(protocol.Approval{ID: "e-1", SessionID: "s", ToolName: "Bash", ExpiresAt: now.Add(time.Hour)}))
	f.Add(false, Resolution{Approval: protocol.Approval{ID: "e-1", SessionID: "s"}, Outcome: "allow", At: now}.Event())
	for _, s := range []string{`{}`, `{"approval":{"id":"x","expires_at":"2999-01-01T00:00:00Z","read_only":false,"origin":""}}`,
		`{"approval_id":"x","outcome":"allow","at":"nope"}`, `[]`, "\xff", `{"approval":{"id":"","expires_at":"2999-01-01T00:00:00Z"}}`} {
		f.Add(true, []byte(s))
		f.Add(false, []byte(s))
	}
	f.Fuzz(func(t *testing.T, request bool, payload []byte) {
		r := New(Config{}, "hub00000")
		defer r.Close()
		name := protocol.EventApprovalDecision
		if request {
			name = protocol.EventApprovalRequest
		}
		r.ObserveRemote("edge-a", "s", name, payload)
		for _, a := range r.Pending() {
			if !a.ReadOnly || a.Origin != "edge-a" || a.SessionID != "s" || a.ID == "" {
				t.Fatalf("listed %+v", a)
			}
			var ro *ReadOnlyError
			if _, err := r.Decide(a.ID, protocol.ApprovalDecision{Decision: "allow"}, "x"); !errors.As(err, &ro) {
				t.Fatalf("decide on a remote request: %v", err)
			}
		}
	})
}
