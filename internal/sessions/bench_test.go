package sessions

import (
	"strings"
	"testing"
)

// BenchmarkApply folds events the way ingest does (journal and tracker
// each fold every event): a small PreToolUse, a 64 KiB Write, a prompt,
// and a 64 KiB PostToolUse (not decoded).
func BenchmarkApply(b *testing.B) {
	big := strings.Repeat("x", 64<<10)
	for _, tc := range []struct {
		name   string
		event  string
		fields map[string]any
	}{
		{"PreToolUse-Bash", "PreToolUse", map[string]any{"tool_name": "Bash", "tool_use_id": "t", "tool_input": map[string]any{"command": "ls -la"}}},
		{"PreToolUse-Write-64KiB", "PreToolUse", map[string]any{"tool_name": "Write", "tool_use_id": "t", "tool_input": map[string]any{"file_path": "/a/b", "content": big}}},
		{"UserPromptSubmit", "UserPromptSubmit", map[string]any{"prompt": "do the thing"}},
		{"PostToolUse-64KiB", "PostToolUse", map[string]any{"tool_name": "Read", "tool_use_id": "t", "tool_response": big}},
	} {
		ev := hand(1, tc.event, tc.fields)
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(ev.Payload)))
			var in Info
			for i := 0; i < b.N; i++ {
				in.Apply(ev)
				if len(in.OpenTools) > 8 {
					in.OpenTools = in.OpenTools[:0]
				}
			}
		})
	}
}
