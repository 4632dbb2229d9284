package fleet

import (
	"testing"
	"time"
)

// TestHubPosition: the hub's journal is its only record of its position.
// A hub restarted under another name (its host renamed) reads only what
// is new, nothing again; a hub with a fresh journal under a name that
// consumed before reads everything the stream holds.
func TestHubPosition(t *testing.T) {
	ns := startNATS(t, -1, t.TempDir(), nil)
	dirA := t.TempDir()
	a := startDaemon(t, dirA, Edge(edgeCfg(ns.url(), "a", dirA)))
	hubDir := t.TempDir()
	named := func(name string) Config { c := hubCfg(ns.url()); c.HubName = name; return c }
	hub := startDaemon(t, hubDir, Consumer(named("old-host")))
	c := hub.subscribe(t, 0)
	postN(t, a, 1, 20)
	c.waitCount(t, 20, 30*time.Second)
	hub.stop(t)
	c.close()

	renamed := Consumer(named("new-host"))
	hub = startDaemon(t, hubDir, renamed)
	c = hub.subscribe(t, 0)
	postN(t, a, 21, 30)
	checkFleet(t, c.waitCount(t, 30, 30*time.Second), 1, map[string]int{"a": 30})
	// The client can see the last event a moment before the loop counts it.
	waitFor(t, func() bool { st, _ := renamed.Status(); return st.Consumed >= 10 })
	if st, _ := renamed.Status(); st.Consumed != 10 {
		t.Errorf("the renamed hub consumed %d messages, want the 10 new ones (no replay)", st.Consumed)
	}
	hub.stop(t)

	fresh := Consumer(named("old-host"))
	hub = startDaemon(t, "", fresh)
	c = hub.subscribe(t, 0)
	checkFleet(t, c.waitCount(t, 30, 30*time.Second), 1, map[string]int{"a": 30})
}
