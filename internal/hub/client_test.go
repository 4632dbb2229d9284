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
	"github.com/hashicorp/go-hclog"

	"github.com/mpm-dev/mpm/internal/event"
	"github.com/mpm-dev/mpm/internal/store"
	"github.com/mpm-dev/mpm/internal/testutil"
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
// bytes of its text, and once the socket and the budget are full it is
// closed with 1008 (the close frame may be lost to a reset: the server
// closes while the client's frames are still arriving).
func TestUnreadRepliesBounded(t *testing.T) {
	const limit = 4096
	tests := []struct {
		name   string
		frame  string
		frames int // how many to send; 0: until closed
	}{
		// Replies that repeated these would be 22 MB; clipped, they are
		// 33 KB, which the socket may take: the bound must hold, a close
		// may not come.
		{"unknown type of 60 KB", `{"type":"` + strings.Repeat("<", 60<<10) + `"}`, 300},
		// 15-byte pongs fill the socket, then the budget: a close.
		{"ping", `{"type":"ping"}`, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logs := &testutil.SyncBuffer{}
			// No timer may end the connection: only the budget.
			h, url := startHub(t, Config{ControlBytes: limit, WriteTimeout: time.Hour, Heartbeat: time.Hour,
				Logger: hclog.New(&hclog.LoggerOptions{Output: logs})})
			conn := dial(t, url)
			// The hello says the hub has registered the client; after it
			// the client reads nothing until the end.
			if _, _, err := conn.ReadMessage(); err != nil {
				t.Fatal(err)
			}
			dropped := func() bool { return strings.Contains(logs.String(), "without reading the replies") }
			closed := false
			for sent := 0; !closed && (tt.frames == 0 || sent < tt.frames); sent++ {
				if sent == 1<<20 {
					t.Fatalf("still open after %d frames whose replies were never read", sent)
				}
				if err := conn.WriteMessage(websocket.TextMessage, []byte(tt.frame)); err != nil {
					if !dropped() {
						t.Fatalf("send %d: %v", sent, err)
					}
					closed = true
				}
				queued, code, ok := onlyClient(h)
				if queued > limit {
					t.Fatalf("after %d frames %d bytes of replies are queued, more than the %d limit", sent, queued, limit)
				}
				if ok && code != 0 && code != websocket.ClosePolicyViolation {
					t.Fatalf("closing with %d, want 1008", code)
				}
				closed = closed || !ok || code != 0
			}
			if tt.frames == 0 && !closed {
				t.Fatal("never closed")
			}
			if closed && !dropped() {
				t.Fatalf("closed, but the log does not say why:\n%s", logs.String())
			}
			// Now read: short replies; all of them, or up to the close.
			conn.SetReadDeadline(time.Now().Add(2 * time.Minute)) // a failsafe only
			for replies := 0; closed || replies < tt.frames; {
				_, data, err := conn.ReadMessage()
				if err != nil {
					var ce *websocket.CloseError
					if !closed {
						t.Fatalf("connection ended after %d replies: %v", replies, err)
					}
					if errors.As(err, &ce) && (ce.Code != websocket.ClosePolicyViolation || !strings.Contains(ce.Text, "unread")) {
						t.Fatalf("closed with %d %q, want 1008 about unread replies", ce.Code, ce.Text)
					}
					break
				}
				if len(data) > 300 {
					t.Fatalf("a reply of %d bytes repeats the client's text: %.120s…", len(data), data)
				}
				if strings.Contains(string(data), `"type":"error"`) {
					replies++
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
		ev.Encode()
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
