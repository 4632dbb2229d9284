package monitor

import (
	"strings"
	"testing"
	"time"

	"github.com/mpm-dev/mpm/internal/protocol"
)

// BenchmarkFormatLine measures one human line and one NDJSON line for a
// typical PostToolUse with a 4 KiB result.
func BenchmarkFormatLine(b *testing.B) {
	payload := []byte(`{"session_id":"4f1c2a3b-0000","hook_event_name":"PostToolUse","tool_name":"Bash","tool_input":{"command":"go test ./..."},"tool_response":{"stdout":"` + strings.Repeat("ok ", 1365) + `","stderr":"","interrupted":false}}`)
	ev := protocol.Event{Seq: 42, Received: time.Now(), SessionID: "4f1c2a3b-0000", Event: "PostToolUse", Tool: "Bash", Payload: payload, Raw: payload}
	for _, f := range []Format{{Width: 120}, {JSON: true}} {
		name := "human"
		if f.JSON {
			name = "json"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				f.Line(&ev)
			}
		})
	}
}
