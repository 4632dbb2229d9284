package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mpm-dev/mpm/internal/protocol"
	"github.com/mpm-dev/mpm/internal/testutil"
	"github.com/mpm-dev/mpm/internal/testutil/natstest"
)

// TestFleetOrigin: two real edges (mpm-wsd --nats --origin) and a real hub
// (mpm-wsd --nats --fleet); mpm-monitor on the hub shows origin/session and
// filters by --origin; on an edge (no origin) the lines are unchanged.
func TestFleetOrigin(t *testing.T) {
	url, _ := natstest.Start(t)
	hub := testutil.StartDaemon(t, "--nats", url, "--fleet", "--origin", "hub")
	edgeA := testutil.StartDaemon(t, "--nats", url, "--origin", "laptop-a")
	edgeB := testutil.StartDaemon(t, "--nats", url, "--origin", "ci-runner-b")
	ca, cb := newClient(t, edgeA), newClient(t, edgeB)
	post(t, ca, ev(sessA, "UserPromptSubmit", "", 1, `,"prompt":"from a"`))
	post(t, cb, ev(sessB, "UserPromptSubmit", "", 2, `,"prompt":"from b"`))
	post(t, ca, ev(sessA, "Stop", "", 3, ``))

	// The hub holds all three once the edges published and it consumed.
	m := start(t, hub, "--json", "--since", "0", "--count", "3")
	m.waitLines(t, 3, 30*time.Second)
	if _, errOut, code := m.wait(t); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}

	out, errOut, code := runMon(t, hub, "--no-follow")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got []string
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		got = append(got, strings.Join(strings.Fields(line[13:]), " "))
	}
	// Edges publish independently: the hub's order between them varies.
	slices.Sort(got)
	want := []string{"ci-runner-b/bbbb2222 UserPromptSubmit from b", "laptop-a/aaaa1111 Stop", "laptop-a/aaaa1111 UserPromptSubmit from a"}
	if len(got) != 3 {
		t.Fatalf("hub lines:\n%s", out)
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]+" #") {
			t.Errorf("hub line %q, want %q #N", got[i], want[i])
		}
	}

	for _, tc := range []struct {
		args []string
		want int
	}{
		{[]string{"--origin", "laptop-a"}, 2},
		{[]string{"--origin", "LAPTOP"}, 2},
		{[]string{"--origin", "ci"}, 1},
		{[]string{"--origin", "desk", "--origin", "ci-runner-b,laptop"}, 3},
		{[]string{"--origin", "desk"}, 0},
		{[]string{"--origin", "laptop", "--last", "1"}, 1},
	} {
		out, errOut, code := runMon(t, hub, append([]string{"--no-follow"}, tc.args...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", tc.args, code, errOut)
		}
		if n := strings.Count(out, "\n"); n != tc.want {
			t.Errorf("%v: %d lines, want %d:\n%s", tc.args, n, tc.want, out)
		}
	}
	// NDJSON carries the hub's record, origin and origin seq included.
	out, _, _ = runMon(t, hub, "--no-follow", "--json", "--origin", "ci")
	if !strings.Contains(out, `"origin":"ci-runner-b","origin_seq":1`) {
		t.Errorf("NDJSON without origin: %s", out)
	}
	// The hub derives each origin's session state from the events alone.
	out, _, _ = runMon(t, hub, "sessions", "--json")
	var ss []protocol.Session
	if err := json.Unmarshal([]byte(out), &ss); err != nil || len(ss) != 2 {
		t.Fatalf("hub sessions (%v): %s", err, out)
	}
	for _, s := range ss {
		want := map[string]string{"laptop-a": protocol.StateIdle, "ci-runner-b": protocol.StateWorking}[s.Origin]
		if s.State != want {
			t.Errorf("hub session %s from %q: state %q, want %q", s.SessionID, s.Origin, s.State, want)
		}
	}
	if out, _, _ = runMon(t, hub, "sessions"); !strings.Contains(out, "ORIGIN") || !strings.Contains(out, "ci-runner-b") {
		t.Errorf("hub board without origins:\n%s", out)
	}
	// On an edge, events have no origin: no origin shown, --origin matches none.
	out, _, _ = runMon(t, edgeA, "--no-follow")
	if strings.Contains(out, "/aaaa1111") || strings.Count(out, "\n") != 2 {
		t.Errorf("edge lines:\n%s", out)
	}
	if out, _, _ = runMon(t, edgeA, "--no-follow", "--origin", "laptop-a"); out != "" {
		t.Errorf("--origin on an edge printed:\n%s", out)
	}
}
