package wsd

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mpm-dev/mpm/internal/store"
)

// historyPage is a GET /v1/events answer.
type historyPage struct {
	Events    []wireEvent `json:"events"`
	NextSince uint64      `json:"next_since"`
	LastSeq   uint64      `json:"last_seq"`
}

func (ts *testServer) history(t *testing.T, query string) (historyPage, int) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+ts.addr+"/v1/events"+query, nil)
	req.Header.Set("Authorization", "Bearer "+ts.token)
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var p historyPage
	body, _ := io.ReadAll(resp.Body)
	n := len(body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /v1/events%s: %d %s", query, resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("GET /v1/events%s: %v", query, err)
	}
	return p, n
}

// TestHistoryPageBytes: a page of GET /v1/events stops at HistoryBytes even
// when limit allows more; the client continues from next_since and gets
// every event once, in order.
func TestHistoryPageBytes(t *testing.T) {
	const pageBytes = 10 << 10
	ts := startServer(t, func(c *Config) { c.HistoryBytes = pageBytes })
	big := `,"blob":"` + strings.Repeat("x", 2000) + `"`
	const n = 30 // 60 KB
	for i := 0; i < n; i++ {
		ts.post(t, payload(fmt.Sprint("s", i%2), "Stop", big), nil)
	}
	for _, q := range []string{"", "&session=s0,s1", "&session=s1"} {
		var got []wireEvent
		pages := 0
		for since := uint64(0); ; pages++ {
			p, size := ts.history(t, fmt.Sprintf("?since=%d&limit=10000%s", since, q))
			if len(p.Events) == 0 {
				break
			}
			if size > pageBytes+4000 { // one event may pass the bound
				t.Fatalf("a page of %d bytes (%d events), bound %d", size, len(p.Events), pageBytes)
			}
			if p.NextSince != p.Events[len(p.Events)-1].Seq {
				t.Fatalf("next_since %d, last event %d", p.NextSince, p.Events[len(p.Events)-1].Seq)
			}
			got = append(got, p.Events...)
			since = p.NextSince
		}
		want := n
		if q == "&session=s1" {
			want = n / 2
		}
		if len(got) != want || pages < 3 {
			t.Fatalf("%q: %d events in %d pages, want %d in several", q, len(got), pages, want)
		}
		for i := 1; i < len(got); i++ {
			if got[i].Seq <= got[i-1].Seq {
				t.Fatalf("%q: seq %d after %d", q, got[i].Seq, got[i-1].Seq)
			}
		}
	}
}

// spyReader is a request body that records the largest read asked of it.
type spyReader struct {
	r    io.Reader
	most int
}

func (s *spyReader) Read(p []byte) (int, error) {
	s.most = max(s.most, len(p))
	return s.r.Read(p)
}

// TestIngestBodyNotReservedFromContentLength: a POST that announces a body
// of the whole limit and sends a few bytes gets a buffer of at most 64 KiB
// (readSized's first read), not one of what it announced, and a 400 that
// says the body ended early; a body that comes whole, larger than the first
// read, goes in byte for byte.
func TestIngestBodyNotReservedFromContentLength(t *testing.T) {
	ts := startServer(t, nil)
	body := &spyReader{r: bytes.NewReader(payload("s", "Stop", ""))}
	req := httptest.NewRequest(http.MethodPost, "/v1/events", body)
	req.ContentLength = int64(ts.cfg.MaxEventBytes)
	rec := httptest.NewRecorder()
	ts.handleIngest(rec, req)
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "unexpected EOF") {
		t.Fatalf("status %d: %s; want 400 for a body shorter than announced", rec.Code, rec.Body)
	}
	if body.most > 64<<10 {
		t.Fatalf("the handler read into a buffer of %d bytes for a %d-byte body announced as %d", body.most, len(payload("s", "Stop", "")), req.ContentLength)
	}

	for _, size := range []int{1, 64<<10 - 1, 64 << 10, 64<<10 + 1, 300 << 10} {
		want := payload("s", "PostToolUse", `,"tool_name":"Read","tool_response":"`+strings.Repeat("x", size)+`"`)
		req := httptest.NewRequest(http.MethodPost, "/v1/events", bytes.NewReader(want))
		rec := httptest.NewRecorder()
		ts.handleIngest(rec, req)
		if rec.Code != http.StatusAccepted {
			t.Fatalf("%d-byte payload: status %d: %s", len(want), rec.Code, rec.Body)
		}
		seq, err := strconv.ParseUint(rec.Header().Get(HeaderSeq), 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		evs, err := ts.store.Read(seq-1, seq, store.Filter{}, 1)
		if err != nil || len(evs) != 1 {
			t.Fatalf("read back seq %d: %v %d", seq, err, len(evs))
		}
		if !bytes.Equal(evs[0].Payload, want) {
			t.Fatalf("%d-byte payload came back different (%d bytes)", len(want), len(evs[0].Payload))
		}
	}
}

// rawGet sends one keep-alive GET on a new TCP connection and returns the
// connection and the response.
func (ts *testServer) rawGet(t *testing.T, path string, auth bool) (net.Conn, *http.Response) {
	t.Helper()
	c, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	req, _ := http.NewRequest(http.MethodGet, "http://"+ts.addr+path, nil)
	if auth {
		req.Header.Set("Authorization", "Bearer "+ts.token)
	}
	if err := req.Write(c); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	io.ReadAll(resp.Body)
	resp.Body.Close()
	return &bufConn{Conn: c, r: br}, resp
}

// bufConn is a connection whose first bytes went to a bufio.Reader.
type bufConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// waitClosed waits until the server closes c (a read ends without data);
// the deadline is only a failsafe.
func waitClosed(t *testing.T, c net.Conn, what string) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	n, err := c.Read(make([]byte, 1))
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("%s: still open after 20 s", what)
	}
	if n > 0 || err == nil {
		t.Fatalf("%s: got data, want the connection closed", what)
	}
}

// TestConnectionCap: with --max-conns connections open, an idle keep-alive
// connection makes room for a new one; with none idle, a new connection may
// only ask /healthz (others get 503, and it is closed after the answer);
// past the spares it is closed at once.
func TestConnectionCap(t *testing.T) {
	const maxConns = 4
	ts := startServer(t, func(c *Config) { c.MaxConns = maxConns; c.HeaderTimeout = time.Minute; c.IdleTimeout = time.Minute })
	httpClient.CloseIdleConnections()
	// Three WebSocket clients and one idle keep-alive connection fill the cap.
	for i := 0; i < maxConns-1; i++ {
		c := ts.dial(t, "")
		c.waitFor(t, "hello", func() bool { return len(c.msgs) > 0 })
	}
	idle, resp := ts.rawGet(t, "/v1/sessions", true)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("under the cap: %d", resp.StatusCode)
	}
	ts.waitIdle(t) // the server marks it idle just after answering
	// A new connection takes the idle one's place.
	fresh, resp := ts.rawGet(t, "/v1/sessions", true)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("at the cap with an idle connection: %d, want 200", resp.StatusCode)
	}
	waitClosed(t, idle, "the idle keep-alive connection at the cap")
	// A fourth WebSocket client takes fresh's place: now none is idle.
	ts.waitIdle(t)
	c4 := ts.dial(t, "")
	c4.waitFor(t, "hello", func() bool { return len(c4.msgs) > 0 })
	waitClosed(t, fresh, "the second idle keep-alive connection at the cap")
	// A spare connection answers /healthz, then closes.
	c, resp := ts.rawGet(t, "/healthz", false)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/healthz past the cap: %d, want 200", resp.StatusCode)
	}
	waitClosed(t, c, "a spare connection after /healthz")
	// Anything else on a spare connection is 503 and closed.
	c, resp = ts.rawGet(t, "/v1/sessions", true)
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("/v1/sessions past the cap: %d, want 503", resp.StatusCode)
	}
	waitClosed(t, c, "a spare connection after a 503")
	// Past the spares: closed at once, without an answer.
	for i := 0; i < spareConns; i++ {
		c, err := net.Dial("tcp", ts.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	over, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer over.Close()
	waitClosed(t, over, "a connection past the cap and the spares")
	for how, want := range map[string]float64{"evicted": 2, "spare": 1, "closed": 1} {
		if got := ts.counter(t, "mpm_conns_refused_total", how); got != want {
			t.Errorf("mpm_conns_refused_total{how=%q} = %v, want %v", how, got, want)
		}
	}
}

// waitIdle waits until the server counts one idle keep-alive connection.
func (ts *testServer) waitIdle(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ts.conns.mu.Lock()
		n := len(ts.conns.idle)
		ts.conns.mu.Unlock()
		if n == 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d idle connections, want 1", n)
		}
		time.Sleep(time.Millisecond) // polls the state; no order depends on it
	}
}

// counter reads a counter from the daemon's registry (a request to /metrics
// would need a connection); label is the value of its one label, if any.
func (ts *testServer) counter(t *testing.T, name, label string) float64 {
	t.Helper()
	mfs, err := ts.m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if ls := m.GetLabel(); label == "" || (len(ls) == 1 && ls[0].GetValue() == label) {
				return m.GetCounter().GetValue()
			}
		}
	}
	t.Fatalf("no counter %s{%s}", name, label)
	return 0
}

// TestIdleKeepAliveClosed: an idle keep-alive connection is closed after
// IdleTimeout, and a caller without the token is not kept alive at all.
func TestIdleKeepAliveClosed(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.IdleTimeout = 200 * time.Millisecond })
	c, resp := ts.rawGet(t, "/v1/sessions", true)
	if resp.StatusCode != http.StatusOK || resp.Close {
		t.Fatalf("keep-alive GET: %d close=%v", resp.StatusCode, resp.Close)
	}
	waitClosed(t, c, "an idle keep-alive connection")
	c, resp = ts.rawGet(t, "/v1/sessions", false)
	if resp.StatusCode != http.StatusUnauthorized || !resp.Close {
		t.Fatalf("GET without the token: %d close=%v, want 401 and Connection: close", resp.StatusCode, resp.Close)
	}
	waitClosed(t, c, "a connection after a 401")
}

// TestConnCapFitsFileLimit: the cap leaves room under the open file limit.
func TestConnCapFitsFileLimit(t *testing.T) {
	tests := []struct {
		max   int
		limit uint64
		want  int
	}{
		{2048, 0, 2048},
		{2048, 1 << 20, 2048},
		{2048, 1024, 1024 - fdReserve},
		{2048, 256, 256 - fdReserve},
		{2048, 50, 16},
		{100, 256, 100},
	}
	for _, tt := range tests {
		if got := connCap(tt.max, tt.limit); got != tt.want {
			t.Errorf("connCap(%d, %d) = %d, want %d", tt.max, tt.limit, got, tt.want)
		}
	}
	if lim := raiseFileLimit(); runtime.GOOS != "windows" && lim < 256 {
		t.Errorf("open file limit after raising: %d", lim)
	}
}

// TestReadSizedAllocates: an announced body, large or small, is read into
// its final buffer with one allocation (the first read's buffer is reused),
// where growing a buffer took one per doubling and a copy at the end (~1.5
// MiB of copying and clearing for a 256 KiB payload before the answer).
func TestReadSizedAllocates(t *testing.T) {
	want := bytes.Repeat([]byte("x"), 256<<10)
	var r bytes.Reader
	allocs := testing.AllocsPerRun(20, func() {
		r.Reset(want)
		got, err := readSized(&r, len(want))
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("readSized: %v, %d bytes", err, len(got))
		}
	})
	// Under the race detector sync.Pool drops some of what it is given.
	wantAllocs := 1.0
	if raceEnabled {
		wantAllocs = 2
	}
	if allocs > wantAllocs {
		t.Fatalf("readSized made %.0f allocations for a 256 KiB body, want %.0f", allocs, wantAllocs)
	}
	small := want[:1000]
	allocs = testing.AllocsPerRun(20, func() {
		r.Reset(small)
		got, err := readSized(&r, len(small))
		if err != nil || !bytes.Equal(got, small) {
			t.Fatalf("readSized: %v, %d bytes", err, len(got))
		}
	})
	if allocs > wantAllocs {
		t.Fatalf("readSized made %.0f allocations for a 1,000-byte body, want %.0f", allocs, wantAllocs)
	}
	// The event owns its body: a later read does not write into it.
	r.Reset(small)
	a, _ := readSized(&r, len(small))
	r.Reset(bytes.Repeat([]byte("y"), len(small)))
	readSized(&r, len(small))
	if !bytes.Equal(a, small) {
		t.Fatalf("a body changed after the next read: %q...", a[:16])
	}
	allocs = testing.AllocsPerRun(20, func() {
		r.Reset(want)
		if _, err := readBody(&r, len(want)); err != nil {
			t.Fatal(err)
		}
	})
	t.Logf("readBody (no Content-Length): %.0f allocations", allocs)
}
