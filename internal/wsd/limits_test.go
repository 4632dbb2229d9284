package wsd

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
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
// of the whole limit and sends a few bytes gets a buffer for a few bytes,
// not for what it announced; the event still goes in.
func TestIngestBodyNotReservedFromContentLength(t *testing.T) {
	ts := startServer(t, nil)
	body := &spyReader{r: bytes.NewReader(payload("s", "Stop", ""))}
	req := httptest.NewRequest(http.MethodPost, "/v1/events", body)
	req.ContentLength = int64(ts.cfg.MaxEventBytes)
	rec := httptest.NewRecorder()
	ts.handleIngest(rec, req)
	if rec.Code != http.StatusAccepted {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if body.most > 64<<10 {
		t.Fatalf("the handler read into a buffer of %d bytes for a %d-byte body announced as %d", body.most, len(payload("s", "Stop", "")), req.ContentLength)
	}
}
