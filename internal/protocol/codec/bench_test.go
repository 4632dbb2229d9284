package codec

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mpm-dev/mpm/internal/protocol"
)

// BenchmarkDecodeEventsFrame decodes one events frame of 100 typical
// records as a client does: the frame, then each record (MB/s of frame).
func BenchmarkDecodeEventsFrame(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(`{"type":"events","events":[`)
	for i := range 100 {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(`{"seq":` + strconv.Itoa(i+1) + `,"received":"` + time.Now().UTC().Format(time.RFC3339Nano) +
			`","session_id":"4f1c2a3b-0000","event":"PostToolUse","tool":"Bash","tool_use_id":"toolu_01","payload":{"session_id":"4f1c2a3b-0000","hook_event_name":"PostToolUse","tool_name":"Bash","tool_input":{"command":"go test ./..."},"tool_response":{"stdout":"` + strings.Repeat("ok ", 100) + `"}}}`)
	}
	sb.WriteString(`]}`)
	frame := []byte(sb.String())
	b.SetBytes(int64(len(frame)))
	for b.Loop() {
		_, m, err := DecodeServerMsg(frame)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := DecodeEvents(m.(protocol.Events).Events); err != nil {
			b.Fatal(err)
		}
	}
}
