package usage

import (
	"os"
	"testing"
	"time"

	"github.com/mpm-dev/mpm/internal/event"
)

// TestManagerWorker: events mark sessions, the worker reads them and says
// which changed; events of other origins (a fleet hub's) are never read;
// the tick reads what was appended with no event.
func TestManagerWorker(t *testing.T) {
	root, path := project(t)
	write(t, path, assistantLine("m1", "r1", "claude-sonnet-4-5", 10, 1, 0, 0), os.O_TRUNC)
	changed := make(chan []string, 16)
	m := New(Config{ProjectsDir: root, Tick: 50 * time.Millisecond, OnChange: func(ids []string) { changed <- ids }})
	go m.Run()
	defer m.Stop()
	m.TouchEvents([]*event.Event{
		{SessionID: "remote", TranscriptPath: path, Origin: "other-box"},
		{SessionID: "local", TranscriptPath: path},
	})
	select {
	case ids := <-changed:
		if len(ids) != 1 || ids[0] != "local" {
			t.Fatalf("changed %v, want [local]", ids)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no change reported")
	}
	if m.Get("remote") != nil {
		t.Fatal("a remote origin's transcript path was read")
	}
	write(t, path, assistantLine("m2", "r2", "claude-sonnet-4-5", 5, 1, 0, 0), os.O_APPEND)
	select {
	case ids := <-changed: // from the tick: no event came
		if len(ids) != 1 || ids[0] != "local" || m.Get("local").InputTokens != 15 {
			t.Fatalf("changed %v usage %+v", ids, m.Get("local"))
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the tick did not read the appended line")
	}
}
