package fleet

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mpm-dev/mpm/internal/protocol"
	"github.com/mpm-dev/mpm/internal/wsd"
)

// do sends an authorized request to d and returns the status and body.
func (d *daemon) do(t testing.TB, method, path string, body []byte, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, "http://"+d.addr+path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+d.token)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// postJSON ingests one hook payload.
func (d *daemon) postJSON(t testing.TB, payload map[string]any) {
	t.Helper()
	b, _ := json.Marshal(payload)
	if resp, body := d.do(t, http.MethodPost, "/v1/events", b, nil); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("post: %s %s", resp.Status, body)
	}
}

// session returns d's /v1/sessions entry of id.
func (d *daemon) session(t testing.TB, id string) (protocol.Session, bool) {
	t.Helper()
	resp, body := d.do(t, http.MethodGet, "/v1/sessions", nil, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /v1/sessions: %s %s", resp.Status, body)
	}
	var v struct {
		Sessions []protocol.Session `json:"sessions"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatal(err)
	}
	for _, s := range v.Sessions {
		if s.SessionID == id {
			return s, true
		}
	}
	return protocol.Session{}, false
}

// approvalsOf returns d's GET /v1/approvals.
func (d *daemon) approvalsOf(t testing.TB) []protocol.Approval {
	t.Helper()
	resp, body := d.do(t, http.MethodGet, "/v1/approvals", nil, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /v1/approvals: %s %s", resp.Status, body)
	}
	var v protocol.Approvals
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatal(err)
	}
	return v.Approvals
}

func findApproval(as []protocol.Approval, id string) (protocol.Approval, bool) {
	for _, a := range as {
		if a.ID == id {
			return a, true
		}
	}
	return protocol.Approval{}, false
}

// request posts a PermissionRequest whose hook waits wait seconds, as
// mpm-hook install --approvals does, and returns the pending request's id.
func (d *daemon) request(t testing.TB, session, command, wait string) string {
	t.Helper()
	b, _ := json.Marshal(map[string]any{
		"session_id": session, "cwd": "/home/dev/proj", "hook_event_name": "PermissionRequest", "tool_name": "Bash",
		"tool_input": map[string]any{"command": command},
	})
	resp, body := d.do(t, http.MethodPost, "/v1/events", b, map[string]string{protocol.HeaderApprovalWait: wait})
	id := resp.Header.Get(protocol.HeaderApprovalID)
	if resp.StatusCode != http.StatusAccepted || id == "" {
		t.Fatalf("PermissionRequest: %s %s, %s %q", resp.Status, body, protocol.HeaderApproval, resp.Header.Get(protocol.HeaderApproval))
	}
	return id
}

// count is how many events named name session has in d's history.
func (d *daemon) count(t testing.TB, session, name string) int {
	t.Helper()
	resp, body := d.do(t, http.MethodGet, "/v1/events?since=0&limit=1000&session="+session, nil, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /v1/events: %s %s", resp.Status, body)
	}
	var v struct {
		Events []wireEvent `json:"events"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, ev := range v.Events {
		if ev.Event == name {
			n++
		}
	}
	return n
}

// metric sums the series of name on reg whose labels include labels.
func metric(t testing.TB, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
	series:
		for _, m := range f.GetMetric() {
			have := map[string]string{}
			for _, l := range m.GetLabel() {
				have[l.GetName()] = l.GetValue()
			}
			for k, v := range labels {
				if have[k] != v {
					continue series
				}
			}
			switch {
			case m.GetCounter() != nil:
				sum += m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				sum += m.GetGauge().GetValue()
			}
		}
	}
	return sum
}

// sameUsage waits until the hub's /v1/sessions entry of session carries
// exactly the edge's usage, subagents' included, and returns it.
func sameUsage(t testing.TB, edge, hub *daemon, session string, ok func(*protocol.Usage) bool) *protocol.Usage {
	t.Helper()
	var e, h protocol.Session
	deadline := time.Now().Add(30 * time.Second)
	for {
		e, _ = edge.session(t, session)
		h, _ = hub.session(t, session)
		if e.Usage != nil && ok(e.Usage) && reflect.DeepEqual(e.Usage, h.Usage) && reflect.DeepEqual(e.Agents, h.Agents) {
			return h.Usage
		}
		if time.Now().After(deadline) {
			t.Fatalf("the hub's usage of %s is not the edge's within 30s:\nedge %+v\nhub  %+v", session, e.Usage, h.Usage)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// originUsages describes the usage snapshots the hub holds for origin's
// sessions (what its per-origin metrics sum), for a failure message.
func originUsages(hub *daemon, origin string) string {
	var out []string
	for _, in := range hub.srv.SessionList() {
		if in.Origin == origin {
			out = append(out, fmt.Sprintf("%s usage seq %d: %s", in.SessionID, in.UsageSeq, in.Usage))
		}
	}
	return strings.Join(out, "; ")
}

// sameOriginMetrics checks that the hub's per-origin usage metrics of
// origin equal the edge's own, model by model.
func sameOriginMetrics(t testing.TB, edge, hub *daemon, origin string, models map[string]protocol.ModelUsage) {
	t.Helper()
	for model := range models {
		for _, kind := range []string{"input", "output", "cache_read", "cache_creation"} {
			e := metric(t, edge.srv.Registry(), "mpm_tokens_total", map[string]string{"model": model, "kind": kind})
			h := metric(t, hub.srv.Registry(), "mpm_fleet_tokens_total", map[string]string{"origin": origin, "model": model, "kind": kind})
			if e != h || e == 0 && kind == "input" {
				t.Errorf("tokens of %s (%s): hub %v, edge %v; the hub's sessions of %s now: %s", model, kind, h, e, origin, originUsages(hub, origin))
			}
		}
		e := metric(t, edge.srv.Registry(), "mpm_cost_usd_total", map[string]string{"model": model})
		h := metric(t, hub.srv.Registry(), "mpm_fleet_cost_usd_total", map[string]string{"origin": origin, "model": model})
		if e != h || e == 0 {
			t.Errorf("cost of %s: hub %v, edge %v", model, h, e)
		}
	}
}

// costTranscript writes the usage package's handwritten transcript of
// session s-cost (two models) into a Claude config directory of its own,
// with its last line, Claude Code's cost-state record, when whole (else
// the caller appends costState later). withProjects points a daemon's
// config at that directory.
func costTranscript(t *testing.T, whole bool) (withProjects func(*wsd.Config), transcript, costState string) {
	t.Helper()
	projects := t.TempDir()
	transcript = filepath.Join(projects, "-home-dev-proj", "s-cost.jsonl")
	if err := os.MkdirAll(filepath.Dir(transcript), 0o700); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile("../usage/testdata/handwritten-cost-state.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(strings.TrimSpace(string(raw)), "\n")
	costState = lines[len(lines)-1]
	if !strings.Contains(costState, `"cost-state"`) {
		t.Fatal("the fixture's last line is not its cost-state record")
	}
	if whole {
		lines[len(lines)-1] += "\n" // a record is read when its line is complete
	} else {
		lines = lines[:len(lines)-1]
	}
	if err := os.WriteFile(transcript, []byte(strings.Join(lines, "")), 0o600); err != nil {
		t.Fatal(err)
	}
	return func(c *wsd.Config) { c.ClaudeProjectsDir = filepath.Dir(filepath.Dir(transcript)) }, transcript, costState
}

// TestFleetUsage: an edge reads its own transcript and forwards the
// session's usage; the hub shows exactly the edge's figures (in
// /v1/sessions and per origin in /metrics), across an edge restart (which
// reads the transcript again and journals nothing new) and a hub restart
// (its journal keeps them), never counting anything twice. Both daemons
// are given the same Claude config directory, so the transcript the
// remote events name is a file the hub could read: it never does
// (mpm_usage_read_bytes_total stays 0) and counts the refusal.
func TestFleetUsage(t *testing.T) {
	ns := startNATS(t, -1, t.TempDir(), nil)
	// Without the cost-state record first: the estimate.
	withProjects, transcript, costState := costTranscript(t, false)

	hubDir, edgeDir := t.TempDir(), t.TempDir()
	hub := startDaemonWith(t, hubDir, withProjects, Consumer(hubCfg(ns.url())))
	ec := edgeCfg(ns.url(), "laptop-a", edgeDir)
	ec.UsageEvery = 50 * time.Millisecond
	edge := startDaemonWith(t, edgeDir, withProjects, Edge(ec))
	hook := func(name string) map[string]any {
		return map[string]any{"session_id": "s-cost", "hook_event_name": name, "transcript_path": transcript, "cwd": "/home/dev/proj"}
	}
	edge.postJSON(t, hook("SessionStart"))

	u := sameUsage(t, edge, hub, "s-cost", func(u *protocol.Usage) bool { return u.InputTokens == 1600 })
	if u.CostSource != protocol.CostEstimate || u.OutputTokens != 180 || u.CacheReadInputTokens != 12000 || len(u.Models) != 2 {
		t.Errorf("estimated usage: %+v", u)
	}
	if s, _ := hub.session(t, "s-cost"); s.Origin != "laptop-a" {
		t.Errorf("the hub's session has origin %q", s.Origin)
	}
	sameOriginMetrics(t, edge, hub, "laptop-a", u.Models)
	noRead := func(hub *daemon) {
		t.Helper()
		if n := metric(t, hub.srv.Registry(), "mpm_usage_read_bytes_total", nil); n != 0 {
			t.Errorf("the hub read %v transcript bytes: it must never open a file a remote event names", n)
		}
		if n := metric(t, hub.srv.Registry(), "mpm_usage_refused_total", map[string]string{"reason": "remote_origin"}); n != 1 {
			t.Errorf("the hub counted %v remote_origin refusals, want 1 (once per session)", n)
		}
	}
	noRead(hub)
	if n := metric(t, edge.srv.Registry(), "mpm_usage_read_bytes_total", nil); n == 0 {
		t.Error("the edge read no transcript bytes")
	}

	// An edge restart reads the transcript again: same figures, nothing
	// journaled (so nothing published) again.
	edge.stop(t)
	edge = startDaemonWith(t, edgeDir, withProjects, Edge(ec))
	waitFor(t, func() bool {
		return metric(t, edge.srv.Registry(), "mpm_fleet_usage_snapshots_total", map[string]string{"result": "unchanged"}) >= 1
	})
	if n := metric(t, edge.srv.Registry(), "mpm_fleet_usage_snapshots_total", map[string]string{"result": "journaled"}); n != 0 {
		t.Errorf("the restarted edge journaled %v snapshots of unchanged usage", n)
	}

	// Claude Code writes its cost-state record: the figures become its own.
	f, err := os.OpenFile(transcript, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(costState + "\n")
	f.Close()
	edge.postJSON(t, hook("Stop"))
	u = sameUsage(t, edge, hub, "s-cost", func(u *protocol.Usage) bool { return u.CostSource == protocol.CostClaude })
	if u.CostUSD != 0.0421875 || u.InputTokens != 1600 || u.OutputTokens != 180 {
		t.Errorf("usage after the cost-state record: %+v", u)
	}
	sameOriginMetrics(t, edge, hub, "laptop-a", u.Models)

	// A hub restart: its journal has the figures at once.
	edgeSess, _ := edge.session(t, "s-cost")
	hub.stop(t)
	hub = startDaemonWith(t, hubDir, withProjects, Consumer(hubCfg(ns.url())))
	s, ok := hub.session(t, "s-cost")
	if !ok || !reflect.DeepEqual(s.Usage, edgeSess.Usage) {
		t.Errorf("the restarted hub's usage of s-cost: %+v, want the edge's %+v", s.Usage, edgeSess.Usage)
	}
	sameOriginMetrics(t, edge, hub, "laptop-a", u.Models)
	// Each snapshot reached the hub once: as many MpmUsage events there as
	// the edge journaled (an estimate, then Claude Code's figures).
	if h, e := hub.count(t, "s-cost", protocol.EventUsage), edge.count(t, "s-cost", protocol.EventUsage); h != e || h != 2 {
		t.Errorf("MpmUsage events: hub %d, edge %d, want 2", h, e)
	}
	edge.postJSON(t, hook("UserPromptSubmit"))
	waitFor(t, func() bool { s, _ := hub.session(t, "s-cost"); return s.State == protocol.StateWorking })
	noRead(hub)
}

// held is l with its loop held back until the daemon stops: a daemon whose
// loop goroutine has not run yet (a loaded machine) while it answers.
func held(l *Loop) *Loop {
	return &Loop{link: l.link, prepare: l.prepare, register: l.register, run: func(ctx context.Context, _ *wsd.Server) error {
		<-ctx.Done()
		return nil
	}}
}

// TestFleetUsageMetricsAtStart: a restarted hub's per-origin usage metrics
// are in its first scrape (its journal holds the figures), also before its
// consuming loop has run. They were registered by the loop, so a scrape
// answered before the loop's goroutine ran had none (TestFleetUsage failed
// so under load); here the loop is held back to make that order certain.
func TestFleetUsageMetricsAtStart(t *testing.T) {
	ns := startNATS(t, -1, t.TempDir(), nil)
	withProjects, transcript, _ := costTranscript(t, true)
	hubDir, edgeDir := t.TempDir(), t.TempDir()
	hub := startDaemonWith(t, hubDir, withProjects, Consumer(hubCfg(ns.url())))
	ec := edgeCfg(ns.url(), "laptop-a", edgeDir)
	ec.UsageEvery = 50 * time.Millisecond
	edge := startDaemonWith(t, edgeDir, withProjects, Edge(ec))
	edge.postJSON(t, map[string]any{"session_id": "s-cost", "hook_event_name": "SessionStart", "transcript_path": transcript, "cwd": "/home/dev/proj"})
	u := sameUsage(t, edge, hub, "s-cost", func(u *protocol.Usage) bool { return u.CostSource == protocol.CostClaude })

	hub.stop(t)
	hub = startDaemonWith(t, hubDir, withProjects, held(Consumer(hubCfg(ns.url()))))
	resp, body := hub.do(t, http.MethodGet, "/metrics", nil, nil)
	if resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte(`mpm_fleet_tokens_total{`)) {
		t.Errorf("the restarted hub's first scrape (%s) has no mpm_fleet_tokens_total", resp.Status)
	}
	sameOriginMetrics(t, edge, hub, "laptop-a", u.Models)
}

// TestFleetApprovalsReadOnly: a request pending on an edge is listed on the
// hub with its origin, read-only; answering it on the hub is refused with
// where to answer; answered on the edge, it goes from the hub. One pending
// while the hub restarts is listed again.
func TestFleetApprovalsReadOnly(t *testing.T) {
	ns := startNATS(t, -1, t.TempDir(), nil)
	hubDir, edgeDir := t.TempDir(), t.TempDir()
	hub := startDaemon(t, hubDir, Consumer(hubCfg(ns.url())))
	edge := startDaemon(t, edgeDir, Edge(edgeCfg(ns.url(), "laptop-a", edgeDir)))

	listed := func(hub *daemon, id string) protocol.Approval {
		t.Helper()
		var a protocol.Approval
		waitFor(t, func() bool {
			var ok bool
			a, ok = findApproval(hub.approvalsOf(t), id)
			return ok
		})
		return a
	}
	gone := func(hub *daemon, id string) {
		t.Helper()
		waitFor(t, func() bool { _, ok := findApproval(hub.approvalsOf(t), id); return !ok })
	}

	id := edge.request(t, "s1", "rm -rf build", "60")
	a := listed(hub, id)
	mine, _ := findApproval(edge.approvalsOf(t), id)
	if !a.ReadOnly || a.Origin != "laptop-a" || a.SessionID != "s1" || a.ToolName != "Bash" || a.Cwd != "/home/dev/proj" ||
		!a.ExpiresAt.Equal(mine.ExpiresAt) || !bytes.Contains(a.ToolInput, []byte("rm -rf build")) {
		t.Errorf("the hub lists %+v; the edge has %+v", a, mine)
	}
	if mine.ReadOnly || mine.Origin != "" {
		t.Errorf("the edge lists its own request as %+v", mine)
	}
	// Answering on the hub is refused, and changes nothing on the edge.
	resp, body := hub.do(t, http.MethodPost, "/v1/approvals/"+id, []byte(`{"decision":"allow"}`), nil)
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "answer on the machine laptop-a") {
		t.Errorf("POST on the hub: %s %s", resp.Status, body)
	}
	if _, ok := findApproval(edge.approvalsOf(t), id); !ok {
		t.Error("the hub's refused answer ended the edge's request")
	}
	if _, ok := findApproval(hub.approvalsOf(t), id); !ok {
		t.Error("the hub's refused answer ended its read-only listing")
	}
	// Answered on the edge: gone on the hub.
	if resp, body := edge.do(t, http.MethodPost, "/v1/approvals/"+id, []byte(`{"decision":"deny","message":"not now"}`), nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("POST on the edge: %s %s", resp.Status, body)
	}
	gone(hub, id)

	// A request pending across a hub restart is listed again; answered
	// on the edge afterwards, it goes.
	id2 := edge.request(t, "s2", "make deploy", "60")
	listed(hub, id2)
	hub.stop(t)
	hub = startDaemon(t, hubDir, Consumer(hubCfg(ns.url())))
	if a, ok := findApproval(hub.approvalsOf(t), id2); !ok || !a.ReadOnly || a.Origin != "laptop-a" {
		t.Errorf("the restarted hub lists %+v (%v), want the edge's pending request read-only", a, ok)
	}
	if _, ok := findApproval(hub.approvalsOf(t), id); ok {
		t.Error("the restarted hub lists the request answered before")
	}
	if resp, body := edge.do(t, http.MethodPost, "/v1/approvals/"+id2, []byte(`{"decision":"allow"}`), nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("POST on the edge: %s %s", resp.Status, body)
	}
	gone(hub, id2)

	// A request that expires on the edge goes from the hub; so does one
	// whose edge went away (stopped: nothing journaled), at its expiry.
	id3 := edge.request(t, "s3", "sleep 1", "1")
	gone(hub, id3)
	id4 := edge.request(t, "s4", "sleep 2", "3")
	listed(hub, id4)
	edge.stop(t)
	gone(hub, id4)
}

// TestFleetMetricsAtStart: every fleet metric of an edge and of a hub is in
// the daemon's first scrape, before its loop has run (held back here):
// they were registered by the loop, so a scrape right after a start could
// miss them.
func TestFleetMetricsAtStart(t *testing.T) {
	ns := startNATS(t, -1, t.TempDir(), nil)
	edgeDir := t.TempDir()
	for _, c := range []struct {
		name  string
		loop  *Loop
		names []string
	}{
		{"edge", Edge(edgeCfg(ns.url(), "laptop-a", edgeDir)), []string{"mpm_fleet_published_total", "mpm_fleet_publish_errors_total", "mpm_fleet_outbox_lag", "mpm_fleet_connected", "mpm_fleet_stubbed_total"}},
		{"hub", Consumer(hubCfg(ns.url())), []string{"mpm_fleet_consumed_total", "mpm_fleet_ingest_errors_total", "mpm_fleet_connected"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			if c.name == "edge" {
				dir = edgeDir
			}
			d := startDaemon(t, dir, held(c.loop))
			resp, body := d.do(t, http.MethodGet, "/metrics", nil, nil)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("/metrics: %s", resp.Status)
			}
			for _, n := range c.names {
				if !bytes.Contains(body, []byte("\n"+n+" ")) && !bytes.Contains(body, []byte("\n"+n+"{")) {
					t.Errorf("the first scrape has no %s", n)
				}
			}
		})
	}
}
