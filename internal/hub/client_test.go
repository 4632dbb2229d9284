package hub

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/mpm-dev/mpm/internal/event"
	"github.com/mpm-dev/mpm/internal/store"
)

// startHub serves a hub over a real 127.0.0.1 socket. The server side of
// each connection gets a small send buffer: a peer that stops reading fills
// it after a few kilobytes instead of a few megabytes, as a peer that
// stopped reading long ago would have.
func startHub(t *testing.T, cfg Config) (*Hub, string) {
	t.Helper()
	if cfg.Store == nil {
		cfg.Store = store.NewMemory(100)
	}
	h := New(cfg)
	up := websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		if tc, ok := conn.UnderlyingConn().(*net.TCPConn); ok {
			tc.SetWriteBuffer(4096)
		}
		h.Serve(conn, nil)
	}))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		h.Shutdown(ctx)
		srv.Close()
	})
	return h, "ws" + strings.TrimPrefix(srv.URL, "http")
}

// dial dials the hub.
func dial(t *testing.T, url string) *websocket.Conn {
	t.Helper()
	conn, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// onlyClient returns the hub's single client's unwritten reply bytes and
// close code, under their locks.
func onlyClient(h *Hub) (controlBytes, closeCode int, ok bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.clients {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.controlBytes, c.closeCode, true
	}
	return 0, 0, false
}

// TestUnreadRepliesBounded: a token holder that sends requests which get
// a reply (unknown types of 60 KB, pings) and never reads: its replies
// never hold more than ControlBytes, none repeats more than a few dozen
// bytes of its text, and it is closed with 1008 and a reason.
func TestUnreadRepliesBounded(t *testing.T) {
	const limit = 4096
	tests := []struct {
		name  string
		frame string
	}{
		{"unknown type of 60 KB", `{"type":"` + strings.Repeat("<", 60<<10) + `"}`},
		{"ping", `{"type":"ping"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, url := startHub(t, Config{ControlBytes: limit, WriteTimeout: time.Minute})
			conn := dial(t, url)
			const most = 1 << 20 // a safety stop; the close comes far sooner
			sent := 0
			for ; sent < most; sent++ {
				if err := conn.WriteMessage(websocket.TextMessage, []byte(tt.frame)); err != nil {
					t.Fatalf("send %d: %v", sent, err)
				}
				queued, code, ok := onlyClient(h)
				if !ok {
					t.Fatalf("the client is gone after %d frames", sent)
				}
				// One reply may be in the writer's hands beyond the queue.
				if queued > limit {
					t.Fatalf("after %d frames %d bytes of replies are queued, more than the %d limit", sent, queued, limit)
				}
				if code != 0 {
					t.Logf("closed after %d frames", sent)
					break
				}
			}
			if sent == most {
				t.Fatalf("still open after %d frames whose replies were never read", most)
			}
			// Now read: short replies, then close 1008 with a reason.
			conn.SetReadDeadline(time.Now().Add(30 * time.Second))
			for {
				_, data, err := conn.ReadMessage()
				if err != nil {
					var ce *websocket.CloseError
					if !errors.As(err, &ce) || ce.Code != websocket.ClosePolicyViolation || !strings.Contains(ce.Text, "unread") {
						t.Fatalf("connection ended with %v, want close 1008 about unread replies", err)
					}
					break
				}
				if len(data) > 300 {
					t.Fatalf("a reply of %d bytes repeats the client's text: %.120s…", len(data), data)
				}
			}
		})
	}
}

// pagedStore records the most events any one read returned.
type pagedStore struct {
	store.Store
	mu   sync.Mutex
	most int
}

func (p *pagedStore) saw(evs []*event.Event, err error) ([]*event.Event, error) {
	p.mu.Lock()
	p.most = max(p.most, len(evs))
	p.mu.Unlock()
	return evs, err
}

func (p *pagedStore) Read(after, upto uint64, f store.Filter, limit int) ([]*event.Event, error) {
	return p.saw(p.Store.Read(after, upto, f, limit))
}

func (p *pagedStore) Page(after, upto uint64, f store.Filter, limit, maxBytes int) ([]*event.Event, error) {
	return p.saw(p.Store.Page(after, upto, f, limit, maxBytes))
}

func (p *pagedStore) Tail(after, upto uint64, f store.Filter, n int) ([]*event.Event, error) {
	return p.saw(p.Store.Tail(after, upto, f, n))
}

// TestReplayInPages: a replay, a long tail too, reads the store a page at
// a time and still delivers every event once, in order.
func TestReplayInPages(t *testing.T) {
	const n, page = 2000, 64
	mem := store.NewMemory(n)
	var evs []*event.Event
	for i := uint64(1); i <= n; i++ {
		ev, err := event.Parse([]byte(fmt.Sprintf(`{"session_id":"s%d","hook_event_name":"Stop","i":%d}`, i%2, i)), 0)
		if err != nil {
			t.Fatal(err)
		}
		ev.Seq, ev.Received = i, time.Now()
		ev.Wire()
		evs = append(evs, ev)
	}
	mem.Append(evs)
	tests := []struct {
		name       string
		sub        string
		from, to   uint64
		everyOther bool
	}{
		{"everything", `{"type":"subscribe","since":0}`, 1, n, false},
		{"a tail longer than the history", `{"type":"subscribe","since":0,"tail":1000000000}`, 1, n, false},
		{"a tail of 1500", `{"type":"subscribe","since":0,"tail":1500}`, 501, n, false},
		{"a tail of one session", `{"type":"subscribe","sessions":["s0"],"since":0,"tail":700}`, n - 2*700 + 2, n, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps := &pagedStore{Store: mem}
			_, url := startHub(t, Config{Store: ps, ReplayPage: page, ReplayBytes: 8 << 10})
			conn := dial(t, url)
			if err := conn.WriteMessage(websocket.TextMessage, []byte(tt.sub)); err != nil {
				t.Fatal(err)
			}
			var got []uint64
			conn.SetReadDeadline(time.Now().Add(30 * time.Second))
			for live := false; !live; {
				var msg struct {
					Type   string `json:"type"`
					Events []struct {
						Seq uint64 `json:"seq"`
					} `json:"events"`
				}
				if err := conn.ReadJSON(&msg); err != nil {
					t.Fatal(err)
				}
				for _, ev := range msg.Events {
					got = append(got, ev.Seq)
				}
				live = msg.Type == "live"
			}
			step := uint64(1)
			if tt.everyOther {
				step = 2
			}
			var want []uint64
			for s := tt.from; s <= tt.to; s += step {
				want = append(want, s)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("replayed %d events %v…, want %d from %d to %d", len(got), got[:min(len(got), 5)], len(want), tt.from, tt.to)
			}
			ps.mu.Lock()
			defer ps.mu.Unlock()
			if ps.most > page {
				t.Fatalf("one store read returned %d events: a replay must read at most a page (%d) at once", ps.most, page)
			}
		})
	}
}
