package wsd

import (
	"bytes"
	"context"
	"fmt"
	"github.com/mpm-dev/mpm/internal/event"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

func TestConcurrentIngestReplayNoGap(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.History = 100000 })
	const writers, perWriter = 16, 100
	// A client live from the start, one that joins in the middle with a
	// replay from 0, and one in the middle asking for since=N.
	early := ts.dial(t, "?since=0")
	var wg sync.WaitGroup
	start := make(chan struct{})
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			<-start
			for i := 0; i < perWriter; i++ {
				code, _, msg := ts.post(t, payload(fmt.Sprintf("s%d", w%4), "PreToolUse", fmt.Sprintf(`,"i":%d`, i)), nil)
				if code != http.StatusAccepted {
					t.Errorf("post: %d %s", code, msg)
					return
				}
			}
		}(w)
	}
	close(start)
	time.Sleep(5 * time.Millisecond) // let some ingest happen before the late joiners (order is checked, not timing)
	late := ts.dial(t, "?since=0")
	mid := ts.dial(t, "?since=100")
	wg.Wait()
	const total = writers * perWriter
	for name, c := range map[string]*wsClient{"early": early, "late": late} {
		c.waitFor(t, name+" to get every event", func() bool { return len(c.evs) >= total })
		checkSeqs(t, c.events(), 1, total)
	}
	mid.waitFor(t, "mid to get events after 100", func() bool { return len(mid.evs) >= total-100 })
	checkSeqs(t, mid.events(), 101, total)
}

func TestResumeAtAnySeq(t *testing.T) {
	ts := startServer(t, nil)
	for i := 0; i < 50; i++ {
		ts.post(t, payload("s", "Stop", ""), nil)
	}
	for _, since := range []uint64{0, 1, 17, 49, 50} {
		c := ts.dial(t, fmt.Sprintf("?since=%d", since))
		c.waitFor(t, "live marker", func() bool {
			for _, m := range c.msgs {
				if m.Type == "live" {
					return true
				}
			}
			return false
		})
		ts.post(t, payload("s", "Stop", ""), nil) // a live one after the replay
		want := ts.ingest.hub.LastSeq()
		c.waitFor(t, "the live event", func() bool { return len(c.evs) > 0 && c.evs[len(c.evs)-1].Seq == want })
		checkSeqs(t, c.events(), since+1, want)
		c.conn.Close()
	}
}

func TestHelloWithoutSubscription(t *testing.T) {
	ts := startServer(t, nil)
	ts.post(t, payload("s", "Stop", ""), nil)
	c := ts.dial(t, "")
	c.waitFor(t, "hello", func() bool { return len(c.msgs) >= 1 })
	if m := c.msgs[0]; m.Type != "hello" || m.LastSeq != 1 || m.Instance == "" {
		t.Fatalf("first message %+v, want hello with last_seq 1", m)
	}
	ts.post(t, payload("s", "Stop", ""), nil) // not subscribed: nothing arrives
	c.send(t, map[string]any{"type": "ping"})
	c.waitFor(t, "pong", func() bool { return c.msgs[len(c.msgs)-1].Type == "pong" })
	if len(c.events()) != 0 {
		t.Fatal("an unsubscribed client got events")
	}
}

func TestTailReplay(t *testing.T) {
	ts := startServer(t, nil)
	for i := 0; i < 30; i++ {
		ts.post(t, payload([]string{"a", "b"}[i%2], "Stop", ""), nil)
	}
	c := ts.dial(t, "?session=a&tail=5")
	c.waitFor(t, "5 events", func() bool { return len(c.evs) >= 5 })
	evs := c.events()
	want := []uint64{21, 23, 25, 27, 29}
	for i, ev := range evs {
		if ev.Seq != want[i] || ev.SessionID != "a" {
			t.Fatalf("tail replay got %+v, want seqs %v of session a", evs, want)
		}
	}
}

func TestSessionFilterAndResubscribe(t *testing.T) {
	ts := startServer(t, nil)
	c := ts.dial(t, "?session=a")
	c.waitFor(t, "subscribed", func() bool { return len(c.msgs) >= 2 })
	ts.post(t, payload("a", "Stop", ""), nil) // 1
	ts.post(t, payload("b", "Stop", ""), nil) // 2
	ts.post(t, payload("a", "Stop", ""), nil) // 3
	c.waitFor(t, "two events of a", func() bool { return len(c.evs) >= 2 })
	for _, ev := range c.events() {
		if ev.SessionID != "a" {
			t.Fatalf("filtered client got session %q", ev.SessionID)
		}
	}
	// Re-register for b with a replay, without reconnecting.
	since := uint64(0)
	c.send(t, map[string]any{"type": "subscribe", "sessions": []string{"b"}, "since": since})
	c.waitFor(t, "b's event replayed", func() bool { return len(c.evs) >= 3 })
	ts.post(t, payload("a", "Stop", ""), nil) // 4: not for us any more
	ts.post(t, payload("b", "Stop", ""), nil) // 5
	c.waitFor(t, "b's live event", func() bool { return len(c.evs) >= 4 })
	got := c.events()[2:]
	if got[0].Seq != 2 || got[1].Seq != 5 || got[0].SessionID != "b" || got[1].SessionID != "b" {
		t.Fatalf("after resubscribe got %+v, want seqs 2 and 5 of b", got)
	}
	// Subscribe to everything live only; post once the daemon confirmed it.
	subs := func() int {
		n := 0
		for _, m := range c.msgs {
			if m.Type == "live" {
				n++
			}
		}
		return n
	}
	c.mu.Lock()
	before := subs()
	c.mu.Unlock()
	c.send(t, map[string]any{"type": "subscribe"})
	c.waitFor(t, "the live-only subscription", func() bool { return subs() > before })
	ts.post(t, payload("c", "Stop", ""), nil) // 6
	c.waitFor(t, "c's event", func() bool { return len(c.evs) >= 5 })
	if ev := c.events()[4]; ev.Seq != 6 {
		t.Fatalf("live-only subscription got %+v", ev)
	}
	// A bad message gets an error and the connection stays.
	c.send(t, map[string]any{"type": "dance"})
	c.waitFor(t, "an error message", func() bool { return c.msgs[len(c.msgs)-1].Type == "error" })
}

func TestStalledClientDroppedOthersUnaffected(t *testing.T) {
	// The queue bound, not a timer, must drop the stalled client: a write
	// timeout and a heartbeat (whose unanswered pings end the connection)
	// far longer than the slowest machine takes to run this test.
	ts := startServer(t, func(c *Config) {
		c.ClientQueueBytes = 256 << 10
		c.WriteTimeout = time.Hour
		c.Heartbeat = time.Hour
	})
	// The stalled client: a raw WebSocket whose reader never reads.
	hdr := http.Header{"Authorization": {"Bearer " + ts.token}}
	d := websocket.Dialer{ReadBufferSize: 1024}
	stalled, _, err := d.Dial("ws://"+ts.addr+"/v1/ws?since=0", hdr)
	if err != nil {
		t.Fatal(err)
	}
	defer stalled.Close()
	healthy := ts.dial(t, "?since=0")
	big := `,"blob":"` + strings.Repeat("x", 64<<10) + `"`
	// Posted in rounds of 2 events (128 KB), each waiting for the healthy
	// client to have them: however slowly the machine schedules its writer
	// and reader, the healthy client is never more than half its 256 KiB
	// budget behind, so only the stalled one can pass it.
	const n, round = 120, 2 // 7.7 MB: past the stalled client's queue and the socket buffers (at most 4 MB + 128 KB unread)
	for i := 0; i < n; i++ {
		if code, _, msg := ts.post(t, payload("s", "PostToolUse", big), nil); code != http.StatusAccepted {
			t.Fatalf("post %d: %d %s", i, code, msg)
		}
		if sent := i + 1; sent%round == 0 || sent == n {
			healthy.waitFor(t, "the round at the healthy client", func() bool { return len(healthy.evs) >= sent })
		}
	}
	checkSeqs(t, healthy.events(), 1, n)
	// Now read the stalled client: it must end with close code 4000 and a reason.
	stalled.SetReadDeadline(time.Now().Add(2 * time.Minute)) // a failsafe only
	for {
		_, _, err := stalled.ReadMessage()
		if err == nil {
			continue
		}
		ce, ok := err.(*websocket.CloseError)
		if !ok {
			t.Fatalf("stalled client ended with %v, want close 4000", err)
		}
		if ce.Code != 4000 || !strings.Contains(ce.Text, "slow consumer") || !strings.Contains(ce.Text, "since=") {
			t.Fatalf("close = %d %q, want 4000 slow consumer with since=", ce.Code, ce.Text)
		}
		break
	}
	if got := testutilCounter(t, ts, "mpm_ws_slow_clients_dropped_total"); got != "1" {
		t.Fatalf("slow clients dropped metric = %s, want 1", got)
	}
}

func TestBurstDoesNotEvictHealthyClients(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.History = 30000 })
	var clients []*wsClient
	for i := 0; i < 5; i++ {
		clients = append(clients, ts.dial(t, "?since=0"))
	}
	const burst = 20000
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Straight into the ingest loop: the burst must arrive faster
			// than any client can read, which HTTP under -race cannot do.
			for i := 0; i < burst/8; i++ {
				ev, err := event.Parse(payload("s", "PreToolUse", `,"tool_input":{"command":"go test ./..."}`), 0)
				if err != nil {
					panic(err)
				}
				ev.Received = time.Now()
				if res := ts.ingest.submit(context.Background(), ev); res.err != nil {
					t.Error(res.err)
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, c := range clients {
		c.waitFor(t, "the whole burst", func() bool { return len(c.evs) >= burst })
		checkSeqs(t, c.events(), 1, burst)
	}
}

func TestIdempotencyKey(t *testing.T) {
	ts := startServer(t, nil)
	body := payload("s", "Stop", "")
	code1, seq1, _ := ts.post(t, body, map[string]string{HeaderIdempotencyKey: "k-1"})
	code2, seq2, _ := ts.post(t, body, map[string]string{HeaderIdempotencyKey: "k-1"})
	code3, seq3, _ := ts.post(t, body, map[string]string{HeaderIdempotencyKey: "k-2"})
	if code1 != 202 || code2 != 200 || code3 != 202 || seq1 != 1 || seq2 != 1 || seq3 != 2 {
		t.Fatalf("got (%d,%d) (%d,%d) (%d,%d); want (202,1) (200,1) (202,2)", code1, seq1, code2, seq2, code3, seq3)
	}
	// Concurrent duplicates of one key: exactly one is stored.
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); ts.post(t, body, map[string]string{HeaderIdempotencyKey: "k-3"}) }()
	}
	wg.Wait()
	if last := ts.ingest.hub.LastSeq(); last != 3 {
		t.Fatalf("last seq = %d after 20 concurrent duplicates, want 3", last)
	}
}

func TestBadInput(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.MaxEventBytes = 4096 })
	tests := []struct {
		name   string
		body   []byte
		hdr    map[string]string
		code   int
		reason string
		msg    string
	}{
		{"malformed", []byte(`{"session_id":`), nil, 400, "invalid_json", "not valid JSON"},
		{"not object", []byte(`[1]`), nil, 400, "not_object", "not an object"},
		{"empty", nil, nil, 400, "invalid_json", "empty"},
		{"missing session", []byte(`{"hook_event_name":"Stop"}`), nil, 400, "missing_field", "session_id"},
		{"missing event", []byte(`{"session_id":"s"}`), nil, 400, "missing_field", "hook_event_name"},
		{"invalid utf8", []byte("{\"session_id\":\"\xc3\x28\",\"hook_event_name\":\"Stop\"}"), nil, 400, "invalid_utf8", "UTF-8"},
		{"huge", payload("s", "Stop", `,"x":"`+strings.Repeat("y", 5000)+`"`), nil, 413, "too_large", "--max-event-bytes"},
		{"bad key", payload("s", "Stop", ""), map[string]string{HeaderIdempotencyKey: "has space"}, 400, "bad_header", "Idempotency-Key"},
		{"bad sent", payload("s", "Stop", ""), map[string]string{HeaderSentAt: "yesterday"}, 400, "bad_header", "Mpm-Sent-At"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, msg := ts.post(t, tt.body, tt.hdr)
			if code != tt.code || !strings.Contains(msg, tt.msg) {
				t.Fatalf("got %d %q, want %d containing %q", code, msg, tt.code, tt.msg)
			}
		})
	}
	// Chunked body over the limit (no Content-Length).
	req, _ := http.NewRequest(http.MethodPost, "http://"+ts.addr+"/v1/events", struct{ *strings.Reader }{strings.NewReader(strings.Repeat("z", 10000))})
	req.Header.Set("Authorization", "Bearer "+ts.token)
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 413 {
		t.Fatalf("chunked oversize: %d, want 413", resp.StatusCode)
	}
	// The daemon still serves, and every reason was counted.
	if code, seq, _ := ts.post(t, payload("s", "Stop", ""), nil); code != 202 || seq != 1 {
		t.Fatalf("after bad input: %d seq %d", code, seq)
	}
	for _, r := range []string{"invalid_json", "not_object", "missing_field", "invalid_utf8", "too_large", "bad_header"} {
		if v := testutilCounter(t, ts, `mpm_events_rejected_total{reason="`+r+`"}`); v == "0" || v == "" {
			t.Errorf("rejected{%s} = %q, want > 0", r, v)
		}
	}
}

func TestAccessChecks(t *testing.T) {
	ts := startServer(t, nil)
	_, port, _ := net.SplitHostPort(ts.addr)
	do := func(method, path, host, origin, auth string, body []byte) (int, string) {
		req, _ := http.NewRequest(method, "http://"+ts.addr+path, bytes.NewReader(body))
		if host != "" {
			req.Host = host
		}
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := httpClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		return resp.StatusCode, b.String()
	}
	good := "Bearer " + ts.token
	ev := payload("s", "Stop", "")
	tests := []struct {
		name, method, path, host, origin, auth string
		code                                   int
		msg                                    string
	}{
		{"ingest ok", "POST", "/v1/events", "", "", good, 202, ""},
		{"ingest own origin", "POST", "/v1/events", "", "http://127.0.0.1:" + port, good, 202, ""},
		{"localhost name ok", "GET", "/v1/sessions", "localhost:" + port, "http://localhost:" + port, good, 200, ""},
		{"no token", "POST", "/v1/events", "", "", "", 401, "token"},
		{"wrong token", "GET", "/v1/sessions", "", "", "Bearer nope", 401, "token"},
		{"token in query refused off ws", "GET", "/v1/sessions?token=" + ts.token, "", "", "", 401, "token"},
		{"foreign origin", "POST", "/v1/events", "", "http://evil.example", good, 403, "Origin"},
		{"null origin", "POST", "/v1/events", "", "null", good, 403, "Origin"},
		{"other port origin", "GET", "/v1/sessions", "", "http://127.0.0.1:1", good, 403, "Origin"},
		{"rebinding host", "GET", "/v1/sessions", "evil.example:" + port, "http://evil.example:" + port, good, 403, "Host"},
		{"rebinding healthz", "GET", "/healthz", "evil.example:" + port, "", "", 403, "Host"},
		{"healthz open", "GET", "/healthz", "", "", "", 200, "mpm-wsd"},
		{"metrics need token", "GET", "/metrics", "", "", "", 401, "token"},
		{"metrics", "GET", "/metrics", "", "", good, 200, "mpm_events_accepted_total"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, msg := do(tt.method, tt.path, tt.host, tt.origin, tt.auth, ev)
			if code != tt.code || !strings.Contains(msg, tt.msg) {
				t.Fatalf("got %d %q, want %d containing %q", code, msg, tt.code, tt.msg)
			}
			// Refusals go to strangers: they never name the token file.
			if code == 401 && (strings.Contains(msg, ts.cfg.DataDir) || strings.Contains(msg, "/token") || !strings.Contains(msg, "see mpm-verify")) {
				t.Fatalf("401 body %q names the token file or does not point to mpm-verify", msg)
			}
		})
	}
	// WebSocket: foreign origin, missing token, token in query ok.
	dial := func(q string, hdr http.Header) (int, error) {
		c, resp, err := websocket.DefaultDialer.Dial("ws://"+ts.addr+"/v1/ws"+q, hdr)
		if err == nil {
			c.Close()
			return 101, nil
		}
		if resp != nil {
			return resp.StatusCode, err
		}
		return 0, err
	}
	if code, _ := dial("?token="+ts.token, http.Header{"Origin": {"http://127.0.0.1:" + port}}); code != 101 {
		t.Errorf("ws with query token and own origin: %d", code)
	}
	if code, _ := dial("?token="+ts.token, http.Header{"Origin": {"http://evil.example"}}); code != 403 {
		t.Errorf("ws with foreign origin: %d, want 403", code)
	}
	if code, _ := dial("", nil); code != 401 {
		t.Errorf("ws without token: %d, want 401", code)
	}
}

func TestEphemeralProbe(t *testing.T) {
	ts := startServer(t, nil)
	all := ts.dial(t, "?since=0")
	named := ts.dial(t, "?session=mpm-verify-x")
	named.waitFor(t, "subscribed", func() bool { return len(named.msgs) >= 2 })
	all.waitFor(t, "subscribed", func() bool { return len(all.msgs) >= 2 })
	code, _, _ := ts.post(t, payload("mpm-verify-x", "Notification", ""), map[string]string{HeaderEphemeral: "1"})
	if code != 202 {
		t.Fatalf("ephemeral post: %d", code)
	}
	ts.post(t, payload("mpm-verify-x", "Stop", ""), nil) // a real one, seq 1
	named.waitFor(t, "probe and event", func() bool { return len(named.evs) >= 2 })
	if ev := named.events()[0]; ev.Seq != 0 {
		t.Fatalf("probe has seq %d, want 0", ev.Seq)
	}
	all.waitFor(t, "the real event", func() bool { return len(all.evs) >= 1 })
	if evs := all.events(); len(evs) != 1 || evs[0].Seq != 1 {
		t.Fatalf("an all-sessions client got %+v; the probe must not reach it", evs)
	}
	for _, s := range ts.tracker.List() {
		if s.Total != 1 {
			t.Fatalf("probe counted in sessions: %+v", s)
		}
	}
}

// testutilCounter returns the value of one metric line from /metrics.
func testutilCounter(t testing.TB, ts *testServer, name string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+ts.addr+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+ts.token)
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	for _, line := range strings.Split(b.String(), "\n") {
		if strings.HasPrefix(line, name+" ") {
			return strings.TrimSpace(strings.TrimPrefix(line, name))
		}
	}
	return ""
}
