package journal

import (
	"testing"
	"time"

	"github.com/mpm-dev/mpm/internal/event"
)

// TestFleetPosition: a hub's stream position is stored with the events
// consumed at it, survives a reopen, stays when the same stream is set
// again and goes back to 0 for another stream (one made again).
func TestFleetPosition(t *testing.T) {
	dir := t.TempDir()
	j := openT(t, dir, Options{})
	check := func(j *Journal, wantStream string, wantSeq uint64) {
		t.Helper()
		s, seq, err := j.FleetPosition()
		if err != nil {
			t.Fatal(err)
		}
		if s != wantStream || seq != wantSeq {
			t.Fatalf("FleetPosition = %q %d, want %q %d", s, seq, wantStream, wantSeq)
		}
	}
	check(j, "", 0)
	if err := j.SetFleetStream("S@1"); err != nil {
		t.Fatal(err)
	}
	check(j, "S@1", 0)
	now := time.Now()
	local := mkEvent(t, 1, "s1", "PreToolUse", "", "", "", now, 0) // no StreamSeq: not consumed
	if err := j.Append([]*event.Event{local}); err != nil {
		t.Fatal(err)
	}
	check(j, "S@1", 0)
	a, b := mkEvent(t, 2, "s1", "Stop", "", "", "k2", now, 0), mkEvent(t, 3, "s1", "Stop", "", "", "k3", now, 0)
	a.StreamSeq, b.StreamSeq = 40, 41
	if err := j.Append([]*event.Event{a, b}); err != nil {
		t.Fatal(err)
	}
	check(j, "S@1", 41)
	j.Close()

	j = openT(t, dir, Options{})
	check(j, "S@1", 41)
	if err := j.SetFleetStream("S@1"); err != nil {
		t.Fatal(err)
	}
	check(j, "S@1", 41)
	if err := j.SetFleetStream("S@2"); err != nil {
		t.Fatal(err)
	}
	check(j, "S@2", 0)
}
