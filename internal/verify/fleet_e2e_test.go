package verify

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mpm-dev/mpm/internal/protocol"
	"github.com/mpm-dev/mpm/internal/testutil"
	"github.com/mpm-dev/mpm/internal/testutil/natstest"
)

// waitFleet polls the daemon's /healthz until its fleet object satisfies ok.
func waitFleet(t *testing.T, d *testutil.Daemon, what string, ok func(h protocol.Health) bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var last protocol.Health
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		h, _, err := testutil.GetHealth(ctx, d.Addr)
		cancel()
		if err == nil && h.Fleet != nil {
			last = h
			if ok(h) {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s; last fleet status: %+v", what, last.Fleet)
}

// postEvent posts one hook event to the daemon.
func postEvent(t *testing.T, d *testutil.Daemon, n int) {
	t.Helper()
	body := `{"session_id":"fleet-e2e","hook_event_name":"PreToolUse","tool_name":"Bash","n":` + strconv.Itoa(n) + `}`
	req, _ := http.NewRequest(http.MethodPost, d.URL("/v1/events"), strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+d.Token())
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("POST /v1/events: HTTP %d", resp.StatusCode)
	}
}

// A real edge daemon publishing to a real nats-server: mpm-verify shows
// the link up with what it published, a hub's link with what it consumed,
// then, with NATS stopped, the edge's failure naming the URL, the waiting
// events and the fix.
func TestE2EFleetEdge(t *testing.T) {
	url, stopNATS := natstest.Start(t)
	d := testutil.StartDaemon(t, "--nats", url, "--origin", "verify-e2e")
	e := newEnv(t, d.Addr, d.DataDir)

	postEvent(t, d, 1)
	waitFleet(t, d, "the event published", func(h protocol.Health) bool {
		return h.Fleet.Connected && h.Fleet.StreamOK && h.Fleet.Published >= 1 && h.Fleet.Lag == 0
	})
	_, r := e.verifyJSON()
	want(t, r, "fleet", OK, "edge verify-e2e → "+url+", stream MPM_EVENTS present, connected, lag 0 (published 1)", "")
	_, out, _ := e.verify()
	if !strings.Contains(out, "✓ fleet       edge verify-e2e → "+url) {
		t.Errorf("output lacks the fleet line:\n%s", out)
	}

	// A hub on the same stream consumes the edge's event.
	hub := testutil.StartDaemon(t, "--nats", url, "--fleet", "--origin", "verify-hub")
	waitFleet(t, hub, "the hub consuming", func(h protocol.Health) bool { return h.Fleet.Consumed >= 1 })
	_, r = newEnv(t, hub.Addr, hub.DataDir).verifyJSON()
	want(t, r, "fleet", OK, "hub verify-hub → "+url+", stream MPM_EVENTS present, connected, consumed 1", "")
	hub.Stop()

	stopNATS()
	waitFleet(t, d, "the link down", func(h protocol.Health) bool { return !h.Fleet.Connected })
	postEvent(t, d, 2)
	waitFleet(t, d, "the event waiting", func(h protocol.Health) bool { return h.Fleet.Lag == 1 })
	code, r := e.verifyJSON()
	want(t, r, "fleet", Fail, "edge verify-e2e → "+url+": not connected to NATS", "nats-server runs at "+url)
	c := want(t, r, "fleet", Fail, "1 event waits in the outbox", "allow publishing to mpm.events.>")
	if strings.Count(c.Detail, "not connected to NATS") != 1 {
		t.Errorf("detail repeats itself: %s", c.Detail)
	}
	if code != 1 {
		t.Errorf("exit %d with the NATS link down, want 1", code)
	}
	_, out, _ = e.verify()
	t.Logf("mpm-verify with NATS down:\n%s", out)
}

// Without --nats there is no fleet line.
func TestE2EFleetOff(t *testing.T) {
	d := testutil.StartDaemon(t)
	_, r := newEnv(t, d.Addr, d.DataDir).verifyJSON()
	if c, ok := r.Get("fleet"); ok {
		t.Errorf("a fleet line without fleet mode: %+v", c)
	}
}
