package hub

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/mpm-dev/mpm/internal/event"
)

// live dials the hub and subscribes to everything, live only; it returns
// once "live" has arrived.
func live(t *testing.T, url string) *websocket.Conn {
	t.Helper()
	c := dial(t, url)
	if err := c.WriteJSON(map[string]any{"type": "subscribe"}); err != nil {
		t.Fatal(err)
	}
	for {
		if typ, _ := readType(t, c); typ == "live" {
			return c
		}
	}
}

// readType reads one message and returns its type and bytes.
func readType(t *testing.T, c *websocket.Conn) (string, []byte) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(time.Minute))
	_, data, err := c.ReadMessage()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	var m struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("not JSON: %q", data)
	}
	return m.Type, data
}

func testEvent(seq uint64) *event.Event {
	return &event.Event{Seq: seq, Received: time.Now(), SessionID: "s1", Name: "PreToolUse",
		Payload: []byte(fmt.Sprintf(`{"session_id":"s1","hook_event_name":"PreToolUse","i":%d}`, seq))}
}

// TestHeldEventsDoNotDelayReplies: while a client's writer holds events
// back to share a frame (here for minutes: a window of Coalesce/16 of an
// hour), what must not wait — a reply to a ping, a session frame — ends
// the hold: it arrives, with the held events, long before the window.
func TestHeldEventsDoNotDelayReplies(t *testing.T) {
	tests := []struct {
		name string
		// trigger sends what must not wait.
		trigger func(h *Hub, c *websocket.Conn)
		want    string
	}{
		{"pong", func(_ *Hub, c *websocket.Conn) { c.WriteJSON(map[string]string{"type": "ping"}) }, "pong"},
		{"session frame", func(h *Hub, _ *websocket.Conn) {
			h.PublishSession("s1", []byte(`{"type":"session","session":{"session_id":"s1","state":"working"}}`))
		}, "session"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, url := startHub(t, Config{Coalesce: time.Hour, Heartbeat: time.Hour})
			c := live(t, url)
			// Written a moment ago, the client's window has not passed:
			// the event is held.
			h.Publish([]*event.Event{testEvent(1)})
			tt.trigger(h, c)
			got := map[string]bool{}
			for !got[tt.want] || !got["events"] {
				typ, _ := readType(t, c)
				got[typ] = true
			}
		})
	}
}

// TestFloodExact: clients flooded with events (their writers holding,
// lingering and being woken over and over) each get every event, in
// order, once.
func TestFloodExact(t *testing.T) {
	h, url := startHub(t, Config{})
	const clients, events = 3, 3000
	conns := make([]*websocket.Conn, clients)
	for i := range conns {
		conns[i] = live(t, url)
	}
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for _, c := range conns {
		wg.Add(1)
		go func(c *websocket.Conn) {
			defer wg.Done()
			var want uint64 = 1
			for want <= events {
				c.SetReadDeadline(time.Now().Add(time.Minute))
				_, data, err := c.ReadMessage()
				if err != nil {
					errs <- fmt.Errorf("after seq %d: %v", want-1, err)
					return
				}
				if !bytes.HasPrefix(data, []byte(`{"type":"events"`)) {
					continue
				}
				var m struct {
					Events []struct {
						Seq uint64 `json:"seq"`
					} `json:"events"`
				}
				if err := json.Unmarshal(data, &m); err != nil {
					errs <- err
					return
				}
				for _, ev := range m.Events {
					if ev.Seq != want {
						errs <- fmt.Errorf("got seq %d, want %d", ev.Seq, want)
						return
					}
					want++
				}
			}
		}(c)
	}
	for seq := uint64(1); seq <= events; {
		n := uint64(1 + seq%3) // batches of 1 to 3, as the ingest loop makes them
		var batch []*event.Event
		for ; n > 0 && seq <= events; n-- {
			batch = append(batch, testEvent(seq))
			seq++
		}
		h.Publish(batch)
		if seq%500 == 0 {
			time.Sleep(time.Millisecond) // let writers go idle, linger, and be woken
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
