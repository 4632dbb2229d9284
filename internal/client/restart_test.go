package client

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/mpm-dev/mpm/internal/protocol"
	"github.com/mpm-dev/mpm/internal/testutil"
)

// TestStreamResumesAcrossRestart restarts the daemon under a running stream,
// with the journal (seq continues: exact resume) and without (seq starts
// again: the stream says Reset and delivers the new instance's events).
func TestStreamResumesAcrossRestart(t *testing.T) {
	for _, tc := range []struct {
		name  string
		flags []string
	}{{"journal", nil}, {"memory", []string{"--journal=false"}}} {
		t.Run(tc.name, func(t *testing.T) {
			d := testutil.StartDaemon(t, tc.flags...)
			c := newClient(t, d)
			h, err := c.Health(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			journal := h.Store == "journal"
			for i := 1; i <= 20; i++ {
				post(t, c, payload("s", "PreToolUse", i))
			}
			zero := uint64(0)
			col := startStream(t, c, Subscription{Since: &zero})
			col.waitFor(t, "first 20", func() bool { return len(col.evs) == 20 })
			d.Stop()
			d.Start()
			for i := 21; i <= 40; i++ {
				post(t, c, payload("s", "PreToolUse", i))
			}
			col.waitFor(t, "all 40", func() bool { return len(col.evs) >= 40 })
			col.waitFor(t, "instance change reported", func() bool { return col.hasState(StateInstanceChanged) })
			evs := col.events()
			if len(evs) != 40 {
				t.Fatalf("got %d events, want 40", len(evs))
			}
			for i, e := range evs {
				var p struct{ N int }
				json.Unmarshal(e.Payload, &p)
				if p.N != i+1 {
					t.Fatalf("event %d is n=%d (seq %d): gap or duplicate", i, p.N, e.Seq)
				}
				if journal && e.Seq != uint64(i+1) {
					t.Fatalf("with the journal, event %d has seq %d", i, e.Seq)
				}
			}
			col.mu.Lock()
			defer col.mu.Unlock()
			for _, s := range col.states {
				if s.Kind == StateInstanceChanged && s.Reset == journal {
					t.Fatalf("instance change with store %s: Reset=%v", h.Store, s.Reset)
				}
			}
		})
	}
}

// TestStreamHeartbeatTimeout: a peer that says hello and then goes silent
// (no pings, no heartbeats) is given up after 2.5 heartbeats and redialed.
func TestStreamHeartbeatTimeout(t *testing.T) {
	up := websocket.Upgrader{}
	conns := make(chan struct{}, 10)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer conn.Close()
		conn.WriteJSON(map[string]any{"type": "hello", "protocol": 1, "instance": "i1", "heartbeat_ms": 40})
		conns <- struct{}{}
		for { // read (so pongs are handled) but never write
			if _, _, err := conn.ReadMessage(); err != nil {
				return
			}
		}
	})}
	addr := testutil.FreeAddr(t)
	ln, err := listen(addr)
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()
	c, _ := New(Config{Addr: addr, Token: "t", BackoffMin: time.Millisecond, BackoffMax: 5 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var got State
	err = c.Stream(ctx, Subscription{}, Handlers{
		Event: func(protocol.Event) error { return nil },
		State: func(s State) error {
			if s.Kind == StateDisconnected {
				got = s
				return ErrStop
			}
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.Dial || !strings.Contains(got.Err.Error(), "presumed dead") {
		t.Fatalf("want a heartbeat timeout, got %+v", got)
	}
	if len(conns) != 1 {
		t.Fatalf("%d connections", len(conns))
	}
}
