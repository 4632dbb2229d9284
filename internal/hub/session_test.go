package hub

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/mpm-dev/mpm/internal/store"
)

// TestSessionFrames over a real socket: a subscription gets the current
// summaries of the sessions it covers right after "subscribed", then the
// frames published for those sessions only.
func TestSessionFrames(t *testing.T) {
	summary := func(id string) []byte {
		return []byte(`{"type":"session","session":{"session_id":"` + id + `","state":"idle"}}`)
	}
	h, url := startHub(t, Config{SessionFrames: func(ids []string) [][]byte {
		if len(ids) == 0 {
			ids = []string{"s1", "s2"}
		}
		var out [][]byte
		for _, id := range ids {
			out = append(out, summary(id))
		}
		return out
	}})
	read := func(c *websocket.Conn) (typ, session string) {
		t.Helper()
		c.SetReadDeadline(time.Now().Add(30 * time.Second))
		_, data, err := c.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		var m struct {
			Type    string `json:"type"`
			Session struct {
				SessionID string `json:"session_id"`
				State     string `json:"state"`
			} `json:"session"`
		}
		json.Unmarshal(data, &m)
		return m.Type, m.Session.SessionID + "/" + m.Session.State
	}
	subscribe := func(sessions []string) *websocket.Conn {
		c := dial(t, url)
		if typ, _ := read(c); typ != "hello" {
			t.Fatalf("first message %s", typ)
		}
		zero := uint64(0)
		c.WriteJSON(map[string]any{"type": "subscribe", "sessions": sessions, "since": &zero})
		var got []string
		for {
			typ, s := read(c)
			if typ == "session" {
				typ += " " + s
			}
			got = append(got, typ)
			if typ == "live" {
				return c
			}
			if len(got) > 10 {
				t.Fatalf("no live: %v", got)
			}
		}
	}
	one := subscribe([]string{"s1"})
	all := subscribe(nil)
	h.PublishSession("s2", []byte(`{"type":"session","session":{"session_id":"s2","state":"working"}}`))
	h.PublishSession("s1", []byte(`{"type":"session","session":{"session_id":"s1","state":"needs_permission"}}`))
	if typ, s := read(one); typ != "session" || s != "s1/needs_permission" {
		t.Fatalf("the s1 subscriber got %s %s (s2's frame is not for it)", typ, s)
	}
	var got []string
	for len(got) < 2 {
		_, s := read(all)
		got = append(got, s)
	}
	if !reflect.DeepEqual(got, []string{"s2/working", "s1/needs_permission"}) {
		t.Fatalf("the all-sessions subscriber got %v", got)
	}
}

// TestSessionFrameReplaced: while a client's writer is busy, a newer frame
// of a session replaces the queued one (a slow client holds one frame per
// session), in the order the sessions first changed.
func TestSessionFrameReplaced(t *testing.T) {
	c := &Client{hub: New(Config{Store: store.NewMemory(10)}), subscribed: true, writing: true}
	c.enqueueSession("a", []byte("a1"))
	c.enqueueSession("b", []byte("b1"))
	c.enqueueSession("a", []byte("a2"))
	c.filter = store.Filter{Sessions: []string{"b"}}
	c.enqueueSession("a", []byte("a3")) // no longer covered
	if !reflect.DeepEqual(c.sessionOrder, []string{"a", "b"}) || string(c.sessions["a"]) != "a2" || string(c.sessions["b"]) != "b1" {
		t.Fatalf("order %v, frames %q", c.sessionOrder, c.sessions)
	}
}
