package journal_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/mpm-dev/mpm/internal/journal"
	"github.com/mpm-dev/mpm/internal/testutil"
)

// poster sends events to a daemon over one keep-alive HTTP client.
type poster struct {
	url, token string
	client     *http.Client
}

func newPoster(d *testutil.Daemon, conns int) *poster {
	return &poster{
		url: d.URL("/v1/events"), token: d.Token(),
		client: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns}},
	}
}

// post sends body with key (if any) and returns the status and Mpm-Seq.
func (p *poster) post(body []byte, key string) (int, uint64, error) {
	req, err := http.NewRequest(http.MethodPost, p.url, bytes.NewReader(body))
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("Authorization", "Bearer "+p.token)
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return 0, 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	seq, _ := strconv.ParseUint(resp.Header.Get("Mpm-Seq"), 10, 64)
	return resp.StatusCode, seq, nil
}

// hookBody is a typical hook payload marked with id, padded to about pad bytes.
func hookBody(session, id string, pad int) []byte {
	// unique to the session and id: compressed in blocks of several
	// events, a filler repeated would shrink to nothing
	h := fnv.New64a()
	h.Write([]byte(session + "\x00" + id))
	filler := journal.Noise(pad, h.Sum64()+uint64(pad))
	return fmt.Appendf(nil, `{"session_id":%q,"hook_event_name":"PostToolUse","tool_name":"Bash","tool_use_id":"toolu_%s","cwd":"/home/dev/project","transcript_path":"/home/dev/.claude/projects/p/%s.jsonl","tool_input":{"command":"go test ./..."},"tool_response":{"stdout":%q,"marker":%q}}`,
		session, id, session, filler, id)
}

// wireEvent is the part of a streamed or paged event the tests read.
type wireEvent struct {
	Seq       uint64          `json:"seq"`
	SessionID string          `json:"session_id"`
	Payload   json.RawMessage `json:"payload"`
}

// marker returns the id hookBody put in the payload.
func (e wireEvent) marker() string {
	var p struct {
		Resp struct {
			Marker string `json:"marker"`
		} `json:"tool_response"`
	}
	json.Unmarshal(e.Payload, &p)
	return p.Resp.Marker
}

// history pages through GET /v1/events from since.
func history(t testing.TB, d *testutil.Daemon, since uint64) (evs []wireEvent, oldest uint64) {
	t.Helper()
	p := newPoster(d, 1)
	for {
		req, _ := http.NewRequest(http.MethodGet, d.URL("/v1/events?limit=1000&since="+strconv.FormatUint(since, 10)), nil)
		req.Header.Set("Authorization", "Bearer "+p.token)
		resp, err := p.client.Do(req)
		if err != nil {
			t.Fatalf("GET /v1/events: %v", err)
		}
		var page struct {
			Events    []wireEvent `json:"events"`
			NextSince uint64      `json:"next_since"`
			OldestSeq uint64      `json:"oldest_seq"`
		}
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("GET /v1/events: %d %v", resp.StatusCode, err)
		}
		evs = append(evs, page.Events...)
		oldest = page.OldestSeq
		if len(page.Events) == 0 {
			return evs, oldest
		}
		since = page.NextSince
	}
}

// wsMsg is any server message the tests read.
type wsMsg struct {
	Type      string      `json:"type"`
	Events    []wireEvent `json:"events"`
	Truncated bool        `json:"truncated"`
	OldestSeq uint64      `json:"oldest_seq"`
	ReplayTo  uint64      `json:"replay_to"`
	Seq       uint64      `json:"seq"`
}

// dialWS connects to /v1/ws?since=since.
func dialWS(t testing.TB, d *testutil.Daemon, since uint64) *websocket.Conn {
	t.Helper()
	u := url.URL{Scheme: "ws", Host: d.Addr, Path: "/v1/ws", RawQuery: "since=" + strconv.FormatUint(since, 10) + "&token=" + url.QueryEscape(d.Token())}
	c, resp, err := websocket.DefaultDialer.Dial(u.String(), nil)
	if err != nil {
		t.Fatalf("dial %s: %v (%v)", u.Path, err, resp)
	}
	return c
}

// readUntil reads messages until done returns true or the deadline passes.
func readUntil(t testing.TB, c *websocket.Conn, deadline time.Time, done func(wsMsg) bool) error {
	t.Helper()
	c.SetReadDeadline(deadline)
	for {
		var m wsMsg
		if err := c.ReadJSON(&m); err != nil {
			return err
		}
		if done(m) {
			return nil
		}
	}
}

func healthz(t testing.TB, d *testutil.Daemon) map[string]any {
	t.Helper()
	resp, err := http.Get(d.URL("/healthz"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var h map[string]any
	json.NewDecoder(resp.Body).Decode(&h)
	return h
}
