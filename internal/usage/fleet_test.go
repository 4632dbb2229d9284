package usage_test

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/mpm-dev/mpm/internal/protocol"
	"github.com/mpm-dev/mpm/internal/usage"
)

// TestSnapshot: a fleet edge's usage snapshot reads back as it was, equal
// figures give equal bytes, and what is not a snapshot reads as none.
func TestSnapshot(t *testing.T) {
	u := &protocol.Usage{InputTokens: 10, OutputTokens: 2, CostUSD: 0.5, CostSource: protocol.CostClaude, ContextTokens: 10, ContextWindow: 200000,
		Models: map[string]protocol.ModelUsage{"b": {InputTokens: 4, CostUSD: 0.25}, "a": {InputTokens: 6, CostUSD: 0.25}}}
	agents := map[string]*protocol.Usage{"ag1": {InputTokens: 3, Models: map[string]protocol.ModelUsage{}}}
	b := usage.Snapshot("s1", u, agents)
	if !bytes.Equal(b, usage.Snapshot("s1", u, agents)) {
		t.Fatal("equal figures, different bytes")
	}
	gu, ga := usage.FromSnapshot(b)
	if !reflect.DeepEqual(gu, u) || !reflect.DeepEqual(ga, agents) {
		t.Fatalf("read back %+v %+v", gu, ga)
	}
	for _, bad := range []string{"", "{", `{"hook_event_name":"Stop","usage":{"input_tokens":1}}`, `{"hook_event_name":"MpmUsage","usage":7}`} {
		if u, a := usage.FromSnapshot([]byte(bad)); u != nil || a != nil {
			t.Errorf("%q read as %+v %+v", bad, u, a)
		}
	}
}
