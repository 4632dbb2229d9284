package wsd

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mpm-dev/mpm/internal/protocol"
	"github.com/mpm-dev/mpm/internal/testutil"
	"github.com/mpm-dev/mpm/internal/usage"
)

const (
	usSonnet = "claude-sonnet-4-5-20250929"
	usHaiku  = "claude-haiku-4-5-20251001"
)

// usageLine is an assistant record as Claude Code 2.1 writes it, with its
// timestamp.
func usageLine(ts, id, model string, in, out, cr, cc int64) string {
	return fmt.Sprintf(`{"parentUuid":null,"isSidechain":false,"message":{"content":[{"text":"x","type":"text"}],"id":%q,"model":%q,"role":"assistant","type":"message","usage":{"input_tokens":%d,"cache_creation_input_tokens":%d,"cache_read_input_tokens":%d,"output_tokens":%d}},"requestId":"req_%s","type":"assistant","uuid":"u-%s","timestamp":%q,"sessionId":"s"}`+"\n",
		id, model, in, cc, cr, out, id, id, ts)
}

func writeFile(t *testing.T, path, s string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

// usageFixture writes two sessions' transcripts under configDir/projects:
// "shop" crosses midnight (UTC 29→30 Nov: sonnet at 23:50 on two lines,
// haiku at 00:10, its subagent's sonnet at 00:20), "blog" has one sonnet
// message at 10:00 on 30 Nov and Claude Code's cost-state record ($0.5).
func usageFixture(t *testing.T, configDir string) (shop, blog string) {
	shop = filepath.Join(configDir, "projects", "-home-dev-shop", "shop.jsonl")
	blog = filepath.Join(configDir, "projects", "-home-dev-blog", "blog.jsonl")
	writeFile(t, shop, usageLine("2026-11-29T23:50:00.000Z", "m1", usSonnet, 100, 10, 1000, 0)+
		usageLine("2026-11-29T23:50:00.300Z", "m1", usSonnet, 100, 10, 1000, 0)+
		usageLine("2026-11-30T00:10:00.000Z", "m2", usHaiku, 200, 20, 0, 500))
	writeFile(t, filepath.Join(strings.TrimSuffix(shop, ".jsonl"), "subagents", "agent-ag1.jsonl"),
		usageLine("2026-11-30T00:20:00.000Z", "m3", usSonnet, 50, 5, 0, 0))
	writeFile(t, blog, usageLine("2026-11-30T10:00:00.000Z", "m4", usSonnet, 1000, 100, 0, 0)+
		`{"type":"cost-state","totalCostUSD":0.5,"modelUsage":{"`+usSonnet+`":{"inputTokens":1000,"outputTokens":100,"cacheReadInputTokens":0,"cacheCreationInputTokens":0,"costUSD":0.5}},"sessionId":"s"}`+"\n")
	return shop, blog
}

func usageGet(t *testing.T, d *testutil.Daemon, tok, query string, hdr map[string]string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+d.Addr+"/v1/usage"+query, nil)
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func usagePost(t *testing.T, d *testutil.Daemon, tok, body string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, "http://"+d.Addr+"/v1/events", bytes.NewReader([]byte(body)))
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("post: %d", resp.StatusCode)
	}
}

// sameReport compares two reports: tokens exactly, costs to the last few
// digits.
func sameReport(a, b *protocol.UsageReport) string {
	fa, _ := json.Marshal(a)
	fb, _ := json.Marshal(b)
	round := func(r *protocol.UsageReport) {
		r.Total.CostUSD = math.Round(r.Total.CostUSD * 1e9)
		for i := range r.Series {
			r.Series[i].CostUSD = math.Round(r.Series[i].CostUSD * 1e9)
		}
		for i := range r.Projects {
			r.Projects[i].CostUSD = math.Round(r.Projects[i].CostUSD * 1e9)
		}
		for i := range r.Models {
			r.Models[i].CostUSD = math.Round(r.Models[i].CostUSD * 1e9)
		}
	}
	var ca, cb protocol.UsageReport
	json.Unmarshal(fa, &ca)
	json.Unmarshal(fb, &cb)
	round(&ca)
	round(&cb)
	ja, _ := json.Marshal(ca)
	jb, _ := json.Marshal(cb)
	if string(ja) == string(jb) {
		return ""
	}
	return string(fa) + "\n" + string(fb)
}

// TestUsageAPI: GET /v1/usage against a real mpm-wsd and transcripts with
// known timestamps and token counts: exact totals per day, per project
// (two), per model (two), the session that crossed midnight split between
// its days, the subagent inside its session, the cost-state session at
// Claude Code's figure; the same after a restart (nothing counted twice);
// token and Origin checks; bad queries refused with a reason.
func TestUsageAPI(t *testing.T) {
	configDir := t.TempDir()
	t.Setenv("CLAUDE_CONFIG_DIR", configDir)
	shop, blog := usageFixture(t, configDir)
	d := testutil.StartDaemon(t)
	tok := d.Token()
	usagePost(t, d, tok, fmt.Sprintf(`{"session_id":"shop-1","hook_event_name":"UserPromptSubmit","prompt":"hi","cwd":"/home/dev/shop","transcript_path":%q}`, shop))
	usagePost(t, d, tok, fmt.Sprintf(`{"session_id":"shop-1","hook_event_name":"SubagentStop","agent_id":"ag1","agent_type":"Explore","cwd":"/home/dev/shop","transcript_path":%q}`, shop))
	usagePost(t, d, tok, fmt.Sprintf(`{"session_id":"blog-1","hook_event_name":"Stop","cwd":"/home/dev/blog","transcript_path":%q}`, blog))

	const q = "?since=2026-11-29T00:00:00Z&until=2026-12-01T00:00:00Z&bucket=day&tz=UTC"
	p := usage.DefaultPrices()
	shop29 := p.Cost(usSonnet, usage.Tokens{Input: 100, Output: 10, CacheRead: 1000})
	shop30 := p.Cost(usHaiku, usage.Tokens{Input: 200, Output: 20, CacheCreation: 500}) + p.Cost(usSonnet, usage.Tokens{Input: 50, Output: 5})
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-12 }
	get := func() *protocol.UsageReport {
		t.Helper()
		code, b := usageGet(t, d, tok, q, nil)
		if code != http.StatusOK {
			t.Fatalf("GET /v1/usage: %d %s", code, b)
		}
		var r protocol.UsageReport
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatal(err)
		}
		return &r
	}
	var rep *protocol.UsageReport
	deadline := time.Now().Add(15 * time.Second)
	for rep = get(); rep.Total.InputTokens != 1350; rep = get() {
		if time.Now().After(deadline) {
			t.Fatalf("the transcripts were not read: %+v", rep.Total)
		}
		time.Sleep(50 * time.Millisecond) // polling the reader, not ordering
	}
	if len(rep.Series) != 2 || rep.Bucket != "day" || rep.TZ != "UTC" {
		t.Fatalf("series %+v", rep.Series)
	}
	if s := rep.Series[0]; s.InputTokens != 100 || s.OutputTokens != 10 || s.CacheReadInputTokens != 1000 || !near(s.CostUSD, shop29) {
		t.Errorf("29 Nov: %+v, want shop's 23:50 message once ($%v)", s, shop29)
	}
	if s := rep.Series[1]; s.InputTokens != 1250 || s.OutputTokens != 125 || s.CacheCreationInputTokens != 500 || !near(s.CostUSD, shop30+0.5) {
		t.Errorf("30 Nov: %+v, want shop's after midnight, its subagent's and blog's $0.5", s)
	}
	if tot := rep.Total; tot.Sessions != 2 || tot.CostSource != protocol.CostMixed || !near(tot.CostUSD, shop29+shop30+0.5) {
		t.Errorf("total %+v", tot)
	}
	if len(rep.Projects) != 2 || rep.Projects[0].Cwd != "/home/dev/blog" || rep.Projects[0].CostSource != protocol.CostClaude || rep.Projects[0].CostUSD != 0.5 ||
		rep.Projects[1].Cwd != "/home/dev/shop" || rep.Projects[1].CostSource != protocol.CostEstimate || rep.Projects[1].InputTokens != 350 || !near(rep.Projects[1].CostUSD, shop29+shop30) {
		t.Errorf("projects %+v", rep.Projects)
	}
	if len(rep.Models) != 2 || rep.Models[0].Model != usSonnet || rep.Models[0].InputTokens != 1150 || rep.Models[1].Model != usHaiku || rep.Models[1].InputTokens != 200 {
		t.Errorf("models %+v", rep.Models)
	}
	// The sessions' own figures (the cards') agree with the report.
	var list struct{ Sessions []protocol.Session }
	req, _ := http.NewRequest(http.MethodGet, "http://"+d.Addr+"/v1/sessions", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(resp.Body).Decode(&list)
	resp.Body.Close()
	var sum float64
	for _, s := range list.Sessions {
		if s.Usage != nil {
			sum += s.Usage.CostUSD
		}
	}
	if !near(sum, rep.Total.CostUSD) {
		t.Errorf("sessions' cost %v, report's %v", sum, rep.Total.CostUSD)
	}

	// A restart reads the transcripts again from the start: the same report.
	d.Stop()
	d.Start()
	deadline = time.Now().Add(15 * time.Second)
	for {
		again := get()
		diff := sameReport(rep, again)
		if diff == "" {
			break
		}
		if time.Now().After(deadline) || again.Total.InputTokens > 1350 {
			t.Fatalf("after a restart the report differs:\n%s", diff)
		}
		time.Sleep(50 * time.Millisecond) // polling the reader, not ordering
	}

	for _, c := range []struct {
		name, tok, query string
		hdr              map[string]string
		code             int
		body             string
	}{
		{"no token", "", q, nil, 401, ""},
		{"foreign origin", tok, q, map[string]string{"Origin": "http://evil.example"}, 403, "Origin"},
		{"bad bucket", tok, "?bucket=week", nil, 400, "bucket must be"},
		{"bad tz", tok, "?tz=Mars/Olympus", nil, 400, "tz: unknown time zone"},
		{"bad since", tok, "?since=yesterday", nil, 400, `want "today", "week"`},
		{"too many buckets", tok, "?since=2020-01-01T00:00:00Z&bucket=hour", nil, 400, "more than"},
		{"until before since", tok, "?since=2026-11-30T00:00:00Z&until=2026-11-29T00:00:00Z", nil, 400, "must be before"},
		{"defaults: today by the hour", tok, "", nil, 200, `"bucket":"hour"`},
		{"this week", tok, "?since=week&tz=UTC", nil, 200, `"tz":"UTC"`},
	} {
		code, b := usageGet(t, d, c.tok, c.query, c.hdr)
		if code != c.code || !strings.Contains(string(b), c.body) {
			t.Errorf("%s: %d %s; want %d with %q", c.name, code, b, c.code, c.body)
		}
	}
}

func TestUsageWhen(t *testing.T) {
	loc := time.FixedZone("X", -5*3600)
	now := time.Date(2026, 12, 3, 1, 30, 0, 0, time.UTC) // Wednesday; 20:30 on Tuesday the 2nd in X
	for _, c := range []struct{ v, want string }{
		{"today", "2026-12-02T00:00:00-05:00"},
		{"week", "2026-11-30T00:00:00-05:00"},
		{"24h", "2026-12-02T01:30:00Z"},
		{"2026-11-01T00:00:00Z", "2026-11-01T00:00:00Z"},
	} {
		got, err := usageWhen(c.v, now, loc)
		want, _ := time.Parse(time.RFC3339, c.want)
		if err != nil || !got.Equal(want) {
			t.Errorf("usageWhen(%q) = %v, %v; want %v", c.v, got, err, want)
		}
	}
}
