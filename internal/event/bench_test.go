package event

import (
	"strings"
	"testing"
)

// BenchmarkParse parses a typical PostToolUse payload (about 4 KiB, the
// fields first and a large tool_response after them).
func BenchmarkParse(b *testing.B) {
	p := []byte(`{"session_id":"4f1c2b3a-1111-2222-3333-444455556666","transcript_path":"/home/me/.claude/projects/x/4f1c.jsonl","cwd":"/home/me/proj","hook_event_name":"PostToolUse","tool_name":"Read","tool_use_id":"toolu_01ABC","tool_input":{"file_path":"/home/me/proj/main.go"},"tool_response":{"content":"` + strings.Repeat(`package main\n\nfunc main() { println(\"x\") }\n`, 90) + `"}}`)
	b.SetBytes(int64(len(p)))
	for b.Loop() {
		if _, err := Parse(p, 0); err != nil {
			b.Fatal(err)
		}
	}
}
