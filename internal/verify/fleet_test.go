package verify

import (
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/mpm-dev/mpm/internal/paths"
	"github.com/mpm-dev/mpm/internal/protocol"
)

func TestFleetResult(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	started := now.Add(-time.Hour)
	edge := protocol.FleetStatus{Mode: "edge", URL: "nats://127.0.0.1:4222", Stream: "MPM_EVENTS", Origin: "pc-1", Connected: true, StreamOK: true, Published: 12, Cursor: 12, LastOK: now.Add(-time.Minute)}
	hub := protocol.FleetStatus{Mode: "hub", URL: "nats://127.0.0.1:4222", Stream: "MPM_EVENTS", Origin: "hub-1", Connected: true, StreamOK: true, Consumed: 40, LastOK: now.Add(-time.Minute)}
	with := func(f protocol.FleetStatus, m func(*protocol.FleetStatus)) protocol.FleetStatus {
		m(&f)
		return f
	}
	cases := []struct {
		name    string
		f       protocol.FleetStatus
		started time.Time
		st      Status
		detail  []string
		fix     string
	}{
		{"edge ok", edge, started, OK, []string{"edge pc-1 → nats://127.0.0.1:4222, stream MPM_EVENTS present, connected, lag 0 (published 12)"}, ""},
		{"hub ok", hub, started, OK, []string{"hub hub-1 → nats://127.0.0.1:4222, stream MPM_EVENTS present, connected, consumed 40"}, ""},
		{"hub idle, nothing consumed yet", with(hub, func(f *protocol.FleetStatus) { f.Consumed, f.LastOK = 0, time.Time{} }), started, OK, []string{"consumed 0"}, ""},
		{"edge down", with(edge, func(f *protocol.FleetStatus) {
			f.Connected, f.Lag, f.LastError = false, 7, "nats: no servers available for connection"
		}), started, Fail,
			[]string{"not connected to NATS", "last error: nats: no servers available", "7 events wait in the outbox"},
			"nats-server runs at nats://127.0.0.1:4222 and that the credentials (--nats-creds, --nats-nkey or --nats-user/--nats-password) allow publishing to mpm.events.>; see deploy/nats/"},
		// The edge's own "not connected to NATS" is not repeated as the last error.
		{"edge down, own error", with(edge, func(f *protocol.FleetStatus) { f.Connected, f.LastError = false, "not connected to NATS" }), started, Fail, []string{"edge pc-1 → nats://127.0.0.1:4222: not connected to NATS"}, "allow publishing"},
		{"edge down, one waiting", with(edge, func(f *protocol.FleetStatus) { f.Connected, f.Lag = false, 1 }), started, Fail, []string{"1 event waits"}, "allow publishing"},
		{"hub down", with(hub, func(f *protocol.FleetStatus) { f.Connected = false }), started, Fail, []string{"hub hub-1 → nats://127.0.0.1:4222: not connected to NATS"}, "allow consuming from the stream MPM_EVENTS"},
		{"stream missing", with(edge, func(f *protocol.FleetStatus) { f.StreamOK, f.LastError = false, "nats: stream not found" }), started, Fail,
			[]string{"connected, but the stream MPM_EVENTS is missing", "stream not found"}, "jetstream {}"},
		// Connected, events waiting, nothing published for over 30 s.
		{"edge not draining", with(edge, func(f *protocol.FleetStatus) { f.Lag, f.LastError = 5, "nats: maximum bytes exceeded" }), started, Warn,
			[]string{"lag 5", "not draining: last publish 1m0s ago", "last error: nats: maximum bytes exceeded"}, "nats stream info MPM_EVENTS"},
		// Events waiting but the last publish is recent: a backlog draining.
		{"edge draining", with(edge, func(f *protocol.FleetStatus) { f.Lag, f.LastOK = 5, now.Add(-2*time.Second) }), started, OK, []string{"lag 5 (published 12)"}, ""},
		// Never published: the daemon's start is the reference.
		{"edge never published, just started", with(edge, func(f *protocol.FleetStatus) { f.Lag, f.Published, f.LastOK = 3, 0, time.Time{} }), now.Add(-5 * time.Second), OK, []string{"lag 3 (published 0)"}, ""},
		{"edge never published, long up", with(edge, func(f *protocol.FleetStatus) { f.Lag, f.Published, f.LastOK = 3, 0, time.Time{} }), started, Warn, []string{"no successful publish since the daemon started 1h0m0s ago"}, "may connect but not publish"},
		{"hub failing", with(hub, func(f *protocol.FleetStatus) { f.LastError = "nats: permissions violation" }), started, Warn, []string{"not draining: last consumed batch 1m0s ago", "permissions violation"}, "may connect but not consume"},
		{"hub error, recent success", with(hub, func(f *protocol.FleetStatus) { f.LastError, f.LastOK = "nats: timeout", now.Add(-time.Second) }), started, OK, []string{"last error: nats: timeout"}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := Report{Checks: []Result{fleetResult(c.f, now, c.started)}}
			want(t, r, "fleet", c.st, "", c.fix)
			got := must(t, r, "fleet")
			for _, d := range c.detail {
				if !strings.Contains(got.Detail, d) {
					t.Errorf("detail %q does not contain %q", got.Detail, d)
				}
			}
			if strings.Count(got.Detail, "not connected to NATS") > 1 {
				t.Errorf("detail repeats itself: %s", got.Detail)
			}
			if c.st == Fail && got.Fix == "" {
				t.Error("a failure without a fix")
			}
			if c.st == OK && got.Fix != "" {
				t.Errorf("ok with a fix: %s", got.Fix)
			}
		})
	}
}

func TestCheckFleetNeedsHealth(t *testing.T) {
	if _, ok := checkFleet(&state{}, time.Now()); ok {
		t.Error("a fleet result without a /healthz answer")
	}
	if _, ok := checkFleet(&state{health: &protocol.Health{OK: true, Service: protocol.ServiceName}}, time.Now()); ok {
		t.Error("a fleet result while fleet mode is off")
	}
	h := &protocol.Health{OK: true, Service: protocol.ServiceName, Uptime: 3600, Fleet: &protocol.FleetStatus{Mode: "edge", Connected: true, StreamOK: true, Lag: 2}}
	res, ok := checkFleet(&state{health: h}, time.Now())
	if !ok || res.Status != Warn || !strings.Contains(res.Detail, "no successful publish since the daemon started 1h0m0s ago") {
		t.Errorf("uptime is not the reference before the first publish: %v %+v", ok, res)
	}
}

// fleetDaemon serves /healthz (counting requests) with fleet as its fleet
// object, /v1/sessions accepting the token written to dataDir, and a
// WebSocket that never says hello.
func fleetDaemon(t *testing.T, dataDir string, fleet *protocol.FleetStatus, hits *atomic.Int64) string {
	t.Helper()
	tok := strings.Repeat("ef", 32)
	if err := os.WriteFile(paths.Token(dataDir), []byte(tok+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		json.NewEncoder(w).Encode(protocol.Health{OK: true, Service: protocol.ServiceName, Version: "dev", Store: "memory", Uptime: 60, Fleet: fleet})
	})
	mux.HandleFunc("/v1/sessions", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+tok {
			http.Error(w, "bad token", http.StatusUnauthorized)
			return
		}
		w.Write([]byte(`{"sessions":[]}`))
	})
	up := websocket.Upgrader{}
	mux.HandleFunc("/v1/ws", func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err == nil {
			c.Close()
		}
	})
	return serve(t, mux)
}

// Run reports the fleet line from the /healthz answer the daemon check
// fetched (no second request); without fleet mode there is no line; a
// fleet failure makes the exit code 1.
func TestRunFleet(t *testing.T) {
	var hits atomic.Int64
	dataDir := t.TempDir()
	addr := fleetDaemon(t, dataDir, nil, &hits)
	r := newEnv(t, addr, dataDir).run()
	if c, ok := r.Get("fleet"); ok {
		t.Errorf("a fleet line while fleet mode is off: %+v", c)
	}
	if hits.Load() != 1 {
		t.Errorf("/healthz asked %d times, want 1", hits.Load())
	}

	hits.Store(0)
	dataDir = t.TempDir()
	down := &protocol.FleetStatus{Mode: "edge", URL: "nats://127.0.0.1:4222", Stream: "MPM_EVENTS", Origin: "pc-1", Lag: 4, LastError: "nats: no servers available for connection"}
	addr = fleetDaemon(t, dataDir, down, &hits)
	r = newEnv(t, addr, dataDir).run()
	want(t, r, "daemon", OK, "", "")
	want(t, r, "fleet", Fail, "edge pc-1 → nats://127.0.0.1:4222: not connected to NATS", "deploy/nats/")
	if r.Checks[len(r.Checks)-1].Name != "fleet" {
		t.Errorf("fleet is not the last check: %+v", r.Checks)
	}
	if hits.Load() != 1 {
		t.Errorf("/healthz asked %d times, want 1", hits.Load())
	}
	if r.ExitCode() != 1 || r.OK {
		t.Errorf("a broken NATS link must fail the run: exit %d ok %v", r.ExitCode(), r.OK)
	}
}
