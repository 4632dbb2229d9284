package fleet

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// postN posts events from..to (n fields) to d over sessions s1 and s2.
func postN(t *testing.T, d *daemon, from, to int) {
	t.Helper()
	for i := from; i <= to; i++ {
		d.post(t, "s"+string(rune('1'+i%2)), "PreToolUse", i)
	}
}

// TestTwoEdgesOneHub: events posted to two edges reach a hub client with
// their origins, each once, hub seqs without a gap.
func TestTwoEdgesOneHub(t *testing.T) {
	ns := startNATS(t, -1, t.TempDir(), nil)
	hubLoop := Consumer(hubCfg(ns.url()))
	hub := startDaemon(t, "", hubLoop)
	c := hub.subscribe(t, 0)
	dirA, dirB := t.TempDir(), t.TempDir()
	edgeA := Edge(edgeCfg(ns.url(), "laptop-a", dirA))
	a := startDaemon(t, dirA, edgeA)
	b := startDaemon(t, dirB, Edge(edgeCfg(ns.url(), "ci.runner b", dirB)))
	done := make(chan struct{})
	go func() { defer close(done); postN(t, b, 1, 100) }()
	postN(t, a, 1, 100)
	<-done
	evs := c.waitCount(t, 200, 30*time.Second)
	checkFleet(t, evs, 1, map[string]int{"laptop-a": 100, "ci.runner b": 100})
	// /v1/sessions on the hub sees both sessions.
	if got := hub.srv.LastSeq(); got != 200 {
		t.Errorf("hub last seq %d, want 200", got)
	}
	// The edge's cursor file says everything was acknowledged.
	waitFor(t, func() bool {
		return cursorSeq(filepath.Join(dirA, CursorFile)) == "100"
	})
	// Each daemon reports its own loop's link.
	for _, l := range []*Loop{hubLoop, edgeA} {
		if st, ok := l.Status(); !ok || !st.Connected || !st.StreamOK {
			t.Errorf("status: %+v", st)
		}
	}
	if st, _ := hubLoop.Status(); st.Mode != "hub" {
		t.Errorf("the hub's status says mode %q", st.Mode)
	}
	if st, _ := edgeA.Status(); st.Mode != "edge" || st.Origin != "laptop-a" {
		t.Errorf("edge a's status says mode %q, origin %q", st.Mode, st.Origin)
	}
}

// TestNATSOutage: NATS stops during ingest and comes back on the same port
// and store; the edges catch up, the hub sees every event once.
func TestNATSOutage(t *testing.T) {
	ns := startNATS(t, -1, t.TempDir(), nil)
	hub := startDaemon(t, "", Consumer(hubCfg(ns.url())))
	c := hub.subscribe(t, 0)
	dirA, dirB := t.TempDir(), t.TempDir()
	a := startDaemon(t, dirA, Edge(edgeCfg(ns.url(), "a", dirA)))
	b := startDaemon(t, dirB, Edge(edgeCfg(ns.url(), "b", dirB)))
	postN(t, a, 1, 50)
	postN(t, b, 1, 50)
	c.waitCount(t, 100, 30*time.Second)
	ns.stop()
	// Ingest goes on while NATS is down: every post is answered 202.
	postN(t, a, 51, 150)
	postN(t, b, 51, 120)
	if len(c.events()) != 100 {
		t.Fatalf("hub got events while NATS was down")
	}
	ns.restart(t)
	postN(t, a, 151, 160)
	evs := c.waitCount(t, 280, 60*time.Second)
	checkFleet(t, evs, 1, map[string]int{"a": 160, "b": 120})
}

// TestHubRestart: a client resumes on hub seq across a hub restart; events
// published while the hub was down arrive after it.
func TestHubRestart(t *testing.T) {
	ns := startNATS(t, -1, t.TempDir(), nil)
	hubDir := t.TempDir()
	hub := startDaemon(t, hubDir, Consumer(hubCfg(ns.url())))
	c := hub.subscribe(t, 0)
	dirA := t.TempDir()
	a := startDaemon(t, dirA, Edge(edgeCfg(ns.url(), "a", dirA)))
	postN(t, a, 1, 40)
	first := c.waitCount(t, 40, 30*time.Second)
	hub.stop(t)
	c.close()
	postN(t, a, 41, 90)
	hub = startDaemon(t, hubDir, Consumer(hubCfg(ns.url())))
	last := first[len(first)-1].Seq
	c2 := hub.subscribe(t, last)
	postN(t, a, 91, 100)
	rest := c2.waitCount(t, 60, 30*time.Second)
	checkFleet(t, append(first, rest...), 1, map[string]int{"a": 100})
}

// TestEdgeRestartBehindCursor: an edge restarted with its cursor behind
// what it had published sends those events again; the stream's duplicate
// window (message ids) stores them once, and the hub shows each once.
func TestEdgeRestartBehindCursor(t *testing.T) {
	ns := startNATS(t, -1, t.TempDir(), nil)
	dirA := t.TempDir()
	a := startDaemon(t, dirA, Edge(edgeCfg(ns.url(), "a", dirA)))
	postN(t, a, 1, 60)
	cur := filepath.Join(dirA, CursorFile)
	waitFor(t, func() bool { return cursorSeq(cur) == "60" })
	a.stop(t)
	if err := os.WriteFile(cur, []byte("10\n"), 0o600); err != nil { // as if it crashed before saving
		t.Fatal(err)
	}
	a = startDaemon(t, dirA, Edge(edgeCfg(ns.url(), "a", dirA)))
	postN(t, a, 61, 70)
	waitFor(t, func() bool { return cursorSeq(cur) == "70" })
	nc, err := nats.Connect(ns.url())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	st, err := js.Stream(context.Background(), DefaultStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 70 {
		t.Errorf("stream holds %d messages, want 70 (the republished ones must be dropped as duplicates)", info.State.Msgs)
	}
	// And a hub that starts now shows each event once, even past the window.
	hub := startDaemon(t, "", Consumer(hubCfg(ns.url())))
	c := hub.subscribe(t, 0)
	checkFleet(t, c.waitCount(t, 70, 30*time.Second), 1, map[string]int{"a": 70})
}

func waitFor(t testing.TB, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 30s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// cursorSeq is the seq in a cursor file ("<seq> <journal-id>").
func cursorSeq(path string) string {
	b, _ := os.ReadFile(path)
	seq, _, _ := strings.Cut(strings.TrimSpace(string(b)), " ")
	return seq
}
