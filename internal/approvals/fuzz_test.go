package approvals

import (
	"encoding/json"
	"strings"
	"testing"

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
