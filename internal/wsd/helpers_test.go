package wsd

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// testServer is an in-process daemon on a real 127.0.0.1 socket.
type testServer struct {
	*Server
	addr   string
	cancel context.CancelFunc
	done   chan error
}

func startServer(t testing.TB, mod func(*Config)) *testServer {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	cfg.StraySpools = nil               // never the real default data directory's spool
	cfg.ClaudeProjectsDir = t.TempDir() // never the real user's transcripts
	if mod != nil {
		mod(&cfg)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(cfg, Options{Listener: ln})
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ts := &testServer{Server: srv, addr: srv.Addr(), cancel: cancel, done: make(chan error, 1)}
	go func() { ts.done <- srv.Run(ctx) }()
	t.Cleanup(func() { ts.stop(t) })
	return ts
}

func (ts *testServer) stop(t testing.TB) {
	if ts.cancel == nil {
		return
	}
	ts.cancel()
	ts.cancel = nil
	select {
	case err := <-ts.done:
		if err != nil {
			t.Errorf("server stopped with error: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Errorf("server did not stop")
	}
}

var httpClient = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}

func payload(session, name string, extra string) []byte {
	return []byte(fmt.Sprintf(`{"session_id":%q,"hook_event_name":%q%s}`, session, name, extra))
}

// post sends one event and returns the status and Mpm-Seq.
func (ts *testServer) post(t testing.TB, body []byte, hdr map[string]string) (int, uint64, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, "http://"+ts.addr+"/v1/events", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+ts.token)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("post: %v", err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(resp.Body)
	seq, _ := strconv.ParseUint(resp.Header.Get(HeaderSeq), 10, 64)
	return resp.StatusCode, seq, string(msg)
}

// wireEvent is the part of an event record the tests look at.
type wireEvent struct {
	Seq       uint64          `json:"seq"`
	SessionID string          `json:"session_id"`
	Event     string          `json:"event"`
	Payload   json.RawMessage `json:"payload"`
}

// serverMsg is any server message.
type serverMsg struct {
	Type      string      `json:"type"`
	Instance  string      `json:"instance"`
	LastSeq   uint64      `json:"last_seq"`
	ReplayTo  uint64      `json:"replay_to"`
	Truncated bool        `json:"truncated"`
	Seq       uint64      `json:"seq"`
	Events    []wireEvent `json:"events"`
	Error     string      `json:"error"`
}

// wsClient is a test WebSocket client that collects events in a goroutine.
type wsClient struct {
	conn *websocket.Conn
	mu   sync.Mutex
	msgs []serverMsg
	evs  []wireEvent
	err  error
	done chan struct{}
	cond chan struct{}
}

func (ts *testServer) dial(t testing.TB, query string) *wsClient {
	t.Helper()
	hdr := http.Header{"Authorization": {"Bearer " + ts.token}}
	conn, resp, err := websocket.DefaultDialer.Dial("ws://"+ts.addr+"/v1/ws"+query, hdr)
	if err != nil {
		t.Fatalf("dial: %v (%v)", err, resp)
	}
	c := &wsClient{conn: conn, done: make(chan struct{}), cond: make(chan struct{}, 1)}
	go c.read()
	t.Cleanup(func() { conn.Close(); <-c.done })
	return c
}

func (c *wsClient) read() {
	defer close(c.done)
	for {
		_, data, err := c.conn.ReadMessage()
		c.mu.Lock()
		if err != nil {
			c.err = err
			c.mu.Unlock()
			c.poke()
			return
		}
		var m serverMsg
		if e := json.Unmarshal(data, &m); e != nil {
			c.err = fmt.Errorf("bad server message %q: %v", data, e)
			c.mu.Unlock()
			c.poke()
			return
		}
		c.msgs = append(c.msgs, m)
		c.evs = append(c.evs, m.Events...)
		c.mu.Unlock()
		c.poke()
	}
}

func (c *wsClient) poke() {
	select {
	case c.cond <- struct{}{}:
	default:
	}
}

// waitFor polls cond (under the client's lock) until it holds or 10 s pass.
func (c *wsClient) waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		c.mu.Lock()
		ok := cond()
		err := c.err
		c.mu.Unlock()
		if ok {
			return
		}
		if err != nil {
			t.Fatalf("waiting for %s: connection ended: %v", what, err)
		}
		select {
		case <-c.cond:
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func (c *wsClient) events() []wireEvent {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]wireEvent(nil), c.evs...)
}

func (c *wsClient) send(t testing.TB, v any) {
	t.Helper()
	if err := c.conn.WriteJSON(v); err != nil {
		t.Fatal(err)
	}
}

// checkSeqs asserts evs are strictly ascending and, when contiguous, gap-free.
func checkSeqs(t testing.TB, evs []wireEvent, from, to uint64) {
	t.Helper()
	if uint64(len(evs)) != to-from+1 {
		t.Fatalf("got %d events, want %d (seq %d..%d)", len(evs), to-from+1, from, to)
	}
	for i, ev := range evs {
		if ev.Seq != from+uint64(i) {
			t.Fatalf("event %d has seq %d, want %d (gap or duplicate)", i, ev.Seq, from+uint64(i))
		}
	}
}
