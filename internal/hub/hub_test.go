package hub

import (
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/mpm-dev/mpm/internal/event"
	"github.com/mpm-dev/mpm/internal/store"
)

// TestPublishDoesNotCopyPayloads: publishing a large event encodes only
// what precedes its payload; the payload is written to clients from the
// event itself (a copy of 256 KiB cost a 256 KiB event's answer ~36 µs of
// page faults and copying before the daemon's 202).
func TestPublishDoesNotCopyPayloads(t *testing.T) {
	h := New(Config{Store: store.NewMemory(10)})
	payload := []byte(`{"session_id":"s","hook_event_name":"PostToolUse","tool_response":"` + strings.Repeat("x", 1<<20) + `"}`)
	const rounds = 8
	evs := make([][]*event.Event, rounds)
	for i := range evs {
		ev, err := event.Parse(payload, 0)
		if err != nil {
			t.Fatal(err)
		}
		ev.Seq, ev.Received = uint64(i+1), time.Now()
		evs[i] = []*event.Event{ev}
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for _, e := range evs {
		h.Publish(e)
	}
	runtime.ReadMemStats(&after)
	if per := (after.TotalAlloc - before.TotalAlloc) / rounds; per > 64<<10 {
		t.Fatalf("Publish allocated %d bytes per event of %d payload bytes, want no copy of the payload", per, len(payload))
	}
	if h.LastSeq() != rounds {
		t.Fatalf("last seq %d, want %d", h.LastSeq(), rounds)
	}
}
