package sessions_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/mpm-dev/mpm/internal/client"
	"github.com/mpm-dev/mpm/internal/notify"
	"github.com/mpm-dev/mpm/internal/protocol"
	"github.com/mpm-dev/mpm/internal/testutil"
)

// fixturePayloads reads testdata/claudecode/session.jsonl.
func fixturePayloads(t *testing.T) [][]byte {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "claudecode", "session.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out [][]byte
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		out = append(out, append([]byte(nil), sc.Bytes()...))
	}
	return out
}

// withSession rewrites a payload's session_id.
func withSession(p []byte, id string) []byte {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(p, &m); err != nil {
		panic(err)
	}
	m["session_id"], _ = json.Marshal(id)
	b, _ := json.Marshal(m)
	return b
}

// receiver is an httptest webhook receiver.
type receiver struct {
	mu   sync.Mutex
	got  []notify.Message
	seen chan struct{}
}

func newReceiver(t *testing.T) (*receiver, *httptest.Server) {
	r := &receiver{seen: make(chan struct{}, 100)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var m notify.Message
		b, _ := io.ReadAll(req.Body)
		if err := json.Unmarshal(b, &m); err != nil {
			t.Errorf("webhook body %q: %v", b, err)
		}
		r.mu.Lock()
		r.got = append(r.got, m)
		r.mu.Unlock()
		r.seen <- struct{}{}
	}))
	t.Cleanup(srv.Close)
	return r, srv
}

// TestDaemonSessionState posts the real session's payloads (and a second
// session left waiting for permission) to a real mpm-wsd with its journal:
// /v1/sessions shows the states, a WebSocket client gets "session" frames
// (current summaries right after subscribing, then a frame per change),
// the webhook receiver gets one POST for the session that needs permission,
// and after a kill -9 and after a clean restart the daemon serves the
// very same summaries (journal replay and saved rows).
func TestDaemonSessionState(t *testing.T) {
	rcv, hook := newReceiver(t)
	d := testutil.StartDaemon(t, "--notify-webhook", hook.URL+"/hook?secret=x")
	c, err := client.New(client.Config{Addr: d.Addr, Token: d.Token()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	// A live WebSocket client on every session.
	frames := make(chan protocol.Session, 100)
	streamDone := make(chan error, 1)
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	connected := make(chan struct{}, 10)
	go func() {
		streamDone <- c.Stream(sctx, client.Subscription{}, client.Handlers{
			Event:   func(protocol.Event) error { return nil },
			Session: func(s protocol.Session) error { frames <- s; return nil },
			State: func(st client.State) error {
				if st.Kind == client.StateConnected {
					connected <- struct{}{}
				}
				return nil
			},
		})
	}()
	select {
	case <-connected:
	case <-ctx.Done():
		t.Fatal("stream did not connect")
	}

	payloads := fixturePayloads(t)
	post := func(p []byte) {
		t.Helper()
		if _, err := c.Post(ctx, p, client.PostOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// The second session: prompt, a Bash call waiting for permission.
	post(withSession(payloads[1], "waiting-1"))
	post(withSession(payloads[4], "waiting-1"))
	post(withSession(payloads[5], "waiting-1"))

	// A frame for waiting-1 in needs_permission arrives.
	waitFrame := func(id, state string) protocol.Session {
		t.Helper()
		for {
			select {
			case s := <-frames:
				if s.SessionID == id && s.State == state {
					return s
				}
			case <-ctx.Done():
				t.Fatalf("no session frame for %s in %s", id, state)
			}
		}
	}
	f := waitFrame("waiting-1", protocol.StateNeedsPermission)
	if !f.Attention || len(f.CurrentTools) != 1 || f.CurrentTools[0].Tool != "Bash" || f.StateMessage != `Bash: python3 -c "print(42)"` {
		t.Errorf("frame %+v", f)
	}
	// The webhook: one POST, with the dashboard link and no token.
	select {
	case <-rcv.seen:
	case <-ctx.Done():
		t.Fatal("no webhook POST")
	}
	rcv.mu.Lock()
	m := rcv.got[0]
	rcv.mu.Unlock()
	if m.SessionID != "waiting-1" || m.State != protocol.StateNeedsPermission || m.Project != "proj" ||
		m.URL != "http://"+d.Addr+"/?session=waiting-1" || m.Message == "" {
		t.Errorf("webhook message %+v", m)
	}

	// The real session, whole.
	for _, p := range payloads {
		post(p)
	}
	realID := ""
	{
		var head struct {
			SessionID string `json:"session_id"`
		}
		json.Unmarshal(payloads[0], &head)
		realID = head.SessionID
	}
	waitFrame(realID, protocol.StateEnded)

	// The real session's two permission requests are two more POSTs; the
	// second session's does not repeat.
	for n := 1; n < 3; n++ {
		select {
		case <-rcv.seen:
		case <-ctx.Done():
			t.Fatalf("%d webhook POSTs, want 3", n)
		}
	}

	// A client that subscribes gets the current summaries first.
	stop()
	<-streamDone
	conn, _, err := c.Dial(ctx)
	if err != nil {
		t.Fatal(err)
	}
	conn.WriteJSON(map[string]any{"type": "subscribe", "sessions": []string{"waiting-1"}, "since": 0})
	var order []string
	for len(order) == 0 || order[len(order)-1] != "live" {
		_, data, err := conn.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		var msg struct {
			Type    string           `json:"type"`
			Session protocol.Session `json:"session"`
		}
		json.Unmarshal(data, &msg)
		if msg.Type == "session" && (msg.Session.SessionID != "waiting-1" || msg.Session.State != protocol.StateNeedsPermission) {
			t.Errorf("subscribe frame for %+v", msg.Session)
		}
		order = append(order, msg.Type)
	}
	conn.Close()
	if !reflect.DeepEqual(order, []string{"subscribed", "session", "events", "live"}) {
		t.Errorf("messages on subscribe: %v, want subscribed, session, events, live (Dial read hello)", order)
	}

	before := sessionsJSON(t, c)
	d.Kill() // no saved state for the last events: the journal replays them
	d.Start()
	if after := sessionsJSON(t, c); !bytes.Equal(before, after) {
		t.Errorf("after kill -9 and restart:\n%s\nwant\n%s", after, before)
	}
	d.Stop() // saved rows this time
	d.Start()
	if after := sessionsJSON(t, c); !bytes.Equal(before, after) {
		t.Errorf("after a clean restart:\n%s\nwant\n%s", after, before)
	}
}

// sessionsJSON is GET /v1/sessions, re-encoded.
func sessionsJSON(t *testing.T, c *client.Client) []byte {
	t.Helper()
	ss, err := c.Sessions(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(ss) != 2 {
		t.Fatalf("%d sessions, want 2", len(ss))
	}
	b, _ := json.MarshalIndent(ss, "", " ")
	return b
}

// TestStaleFrame: a working session with no event for --stale-after gets a
// frame with stale: true (Esc fires no hook), and the next event one with
// stale: false; /v1/sessions agrees.
func TestStaleFrame(t *testing.T) {
	d := testutil.StartDaemon(t, "--stale-after", "1s")
	c, err := client.New(client.Config{Addr: d.Addr, Token: d.Token()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	frames := make(chan protocol.Session, 100)
	connected := make(chan struct{}, 10)
	go c.Stream(ctx, client.Subscription{}, client.Handlers{
		Event:   func(protocol.Event) error { return nil },
		Session: func(s protocol.Session) error { frames <- s; return nil },
		State: func(st client.State) error {
			if st.Kind == client.StateConnected {
				connected <- struct{}{}
			}
			return nil
		},
	})
	<-connected
	payloads := fixturePayloads(t)
	if _, err := c.Post(ctx, withSession(payloads[1], "s-stale"), client.PostOptions{}); err != nil {
		t.Fatal(err)
	}
	wait := func(stale bool) {
		t.Helper()
		for {
			select {
			case s := <-frames:
				if s.SessionID == "s-stale" && s.State == protocol.StateWorking && s.Stale == stale {
					return
				}
			case <-ctx.Done():
				t.Fatalf("no frame with stale=%v", stale)
			}
		}
	}
	wait(true)
	ss, err := c.Sessions(ctx)
	if err != nil || len(ss) != 1 || !ss[0].Stale {
		t.Fatalf("sessions %+v %v", ss, err)
	}
	if _, err := c.Post(ctx, withSession(payloads[2], "s-stale"), client.PostOptions{}); err != nil {
		t.Fatal(err)
	}
	wait(false)
}
