package wsd_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/mpm-dev/mpm/internal/protocol"
	"github.com/mpm-dev/mpm/internal/protocol/codec"
	"github.com/mpm-dev/mpm/internal/testutil"
)

// everyTool is a session with each kind of event the export renders:
// prompt, Bash (failing), Read, Edit, Write, Grep, an MCP tool, a
// notification, stop and end.
var everyTool = []string{
	`{"session_id":"sx","hook_event_name":"SessionStart","cwd":"/src/shop","source":"startup"}`,
	`{"session_id":"sx","hook_event_name":"UserPromptSubmit","cwd":"/src/shop","prompt":"fix the rounding in orders.go"}`,
	`{"session_id":"sx","hook_event_name":"PreToolUse","tool_name":"Read","tool_use_id":"t1","tool_input":{"file_path":"/src/shop/orders.go"}}`,
	`{"session_id":"sx","hook_event_name":"PostToolUse","tool_name":"Read","tool_use_id":"t1","tool_input":{"file_path":"/src/shop/orders.go"},"tool_response":{"type":"text","file":{"filePath":"/src/shop/orders.go","content":"package shop\n\nfunc Total() float64 { return math.Floor(x) }\n"}}}`,
	`{"session_id":"sx","hook_event_name":"PreToolUse","tool_name":"Edit","tool_use_id":"t2","tool_input":{"file_path":"/src/shop/orders.go","old_string":"math.Floor(x)","new_string":"math.Round(x)"}}`,
	`{"session_id":"sx","hook_event_name":"PostToolUse","tool_name":"Edit","tool_use_id":"t2","tool_input":{"file_path":"/src/shop/orders.go","old_string":"math.Floor(x)","new_string":"math.Round(x)"},"tool_response":{"filePath":"/src/shop/orders.go","oldString":"math.Floor(x)","newString":"math.Round(x)","originalFile":"package shop"}}`,
	`{"session_id":"sx","hook_event_name":"PreToolUse","tool_name":"Bash","tool_use_id":"t3","tool_input":{"command":"go test ./shop/...","description":"Run tests"}}`,
	"{\"session_id\":\"sx\",\"hook_event_name\":\"PostToolUse\",\"tool_name\":\"Bash\",\"tool_use_id\":\"t3\",\"tool_input\":{\"command\":\"go test ./shop/...\"},\"tool_response\":{\"stdout\":\"--- FAIL: TestTotals\\n```nested fence```\",\"stderr\":\"exit status 1\",\"is_error\":true}}",
	`{"session_id":"sx","hook_event_name":"PreToolUse","tool_name":"Write","tool_use_id":"t4","tool_input":{"file_path":"/src/shop/notes.md","content":"# Notes"}}`,
	`{"session_id":"sx","hook_event_name":"PreToolUse","tool_name":"Grep","tool_use_id":"t5","tool_input":{"pattern":"Floor","path":"/src/shop"}}`,
	`{"session_id":"sx","hook_event_name":"PostToolUse","tool_name":"Grep","tool_use_id":"t5","tool_input":{"pattern":"Floor"},"tool_response":{"mode":"content","content":"orders.go:3:math.Floor"}}`,
	`{"session_id":"sx","hook_event_name":"PreToolUse","tool_name":"mcp__github__create_issue","tool_use_id":"t6","tool_input":{"title":"Rounding","body":"x"}}`,
	`{"session_id":"sx","hook_event_name":"Notification","message":"Claude needs your permission to use Bash"}`,
	`{"session_id":"sx","hook_event_name":"Stop","last_assistant_message":"Rounding fixed; one test still fails."}`,
	`{"session_id":"sx","hook_event_name":"SessionEnd","reason":"exit"}`,
	`{"session_id":"other","hook_event_name":"UserPromptSubmit","prompt":"unrelated orders.go question"}`,
}

func postAll(t *testing.T, d *testutil.Daemon, bodies []string) {
	t.Helper()
	for i, b := range bodies {
		req, _ := http.NewRequest("POST", d.URL("/v1/events"), strings.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+d.Token())
		req.Header.Set(protocol.HeaderIdempotencyKey, fmt.Sprintf("k%d", i))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 202 {
			t.Fatalf("post %d: %d", i, resp.StatusCode)
		}
	}
}

func get(t *testing.T, d *testutil.Daemon, path string) (int, http.Header, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", d.URL(path), nil)
	req.Header.Set("Authorization", "Bearer "+d.Token())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

func TestSearchEndpoint(t *testing.T) {
	d := testutil.StartDaemon(t, "--log-level", "warn")
	postAll(t, d, everyTool)
	for _, tc := range []struct {
		query string
		code  int
		seqs  []uint64
	}{
		{"q=orders.go", 200, []uint64{16, 11, 6, 5, 4, 3, 2}},
		{"q=" + url.QueryEscape("tool:Edit path:orders.go"), 200, []uint64{6, 5}},
		{"q=orders.go&session=sx&limit=2", 200, []uint64{11, 6}},
		{"q=orders.go&since=2000-01-01T00:00:00Z&until=1h", 200, []uint64{}},
		{"q=" + url.QueryEscape(`"needs your permission"`), 200, []uint64{13}},
		{"q=", 400, nil},
		{"q=" + url.QueryEscape(`"unclosed`), 400, nil},
		{"q=x&limit=0", 400, nil},
		{"q=x&since=yesterday", 400, nil},
	} {
		code, _, body := get(t, d, "/v1/search?"+tc.query)
		if code != tc.code {
			t.Errorf("%s: %d %s, want %d", tc.query, code, body, tc.code)
			continue
		}
		if code != 200 {
			if len(bytes.TrimSpace(body)) == 0 {
				t.Errorf("%s: %d without a message", tc.query, code)
			}
			continue
		}
		res, err := codec.DecodeSearchResult(body)
		if err != nil {
			t.Fatal(err)
		}
		got := []uint64{}
		for _, h := range res.Hits {
			got = append(got, h.Seq)
		}
		if fmt.Sprint(got) != fmt.Sprint(tc.seqs) {
			t.Errorf("%s: hits %v, want %v\n%s", tc.query, got, tc.seqs, body)
		}
	}
	_, _, body := get(t, d, "/v1/search?q="+url.QueryEscape("tool:Edit path:orders.go")+"&limit=1")
	res, _ := codec.DecodeSearchResult(body)
	if len(res.Hits) != 1 || res.Hits[0].SessionID != "sx" || res.Hits[0].Event != "PostToolUse" || res.Hits[0].Tool != "Edit" ||
		res.Hits[0].Received.IsZero() || !strings.Contains(res.Hits[0].Snippet, "<mark>orders.go</mark>") {
		t.Errorf("hit %+v", res.Hits)
	}
	_, _, metrics := get(t, d, "/metrics")
	if !bytes.Contains(metrics, []byte(`mpm_search_requests_total{outcome="bad_query"} 4`)) {
		t.Errorf("bad queries not counted:\n%s", grepLines(metrics, "mpm_search"))
	}
}

func grepLines(b []byte, s string) string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if strings.Contains(sc.Text(), s) {
			out = append(out, sc.Text())
		}
	}
	return strings.Join(out, "\n")
}

func TestSearchMemoryStore(t *testing.T) {
	d := testutil.StartDaemon(t, "--log-level", "warn", "--journal=false")
	code, _, body := get(t, d, "/v1/search?q=x")
	if code != http.StatusNotImplemented || !strings.Contains(string(body), "--journal=false") {
		t.Fatalf("memory store: %d %s, want 501 naming --journal=false", code, body)
	}
}

func TestExportEndpoint(t *testing.T) {
	for _, args := range [][]string{nil, {"--journal=false"}} {
		d := testutil.StartDaemon(t, append([]string{"--log-level", "warn"}, args...)...)
		postAll(t, d, everyTool)

		code, hdr, body := get(t, d, "/v1/sessions/sx/export?format=ndjson")
		if code != 200 || hdr.Get("Content-Type") != "application/x-ndjson" {
			t.Fatalf("%v ndjson: %d %s", args, code, body)
		}
		lines := bytes.Split(bytes.TrimSuffix(body, []byte("\n")), []byte("\n"))
		if len(lines) != len(everyTool)-1 {
			t.Fatalf("%v ndjson: %d lines, want %d", args, len(lines), len(everyTool)-1)
		}
		for i, l := range lines {
			ev, err := codec.DecodeEvent(l)
			if err != nil || ev.Seq != uint64(i+1) || !bytes.Equal(ev.Payload, []byte(everyTool[i])) {
				t.Fatalf("%v ndjson line %d: %v %s", args, i, err, l)
			}
		}

		code, hdr, body = get(t, d, "/v1/sessions/sx/export?format=markdown")
		md := string(body)
		if code != 200 || !strings.HasPrefix(hdr.Get("Content-Type"), "text/markdown") {
			t.Fatalf("%v markdown: %d %s", args, code, md)
		}
		for _, want := range []string{
			"# Claude Code session sx",
			"- Directory: `/src/shop`",
			"## ", "· Prompt\n\n> fix the rounding in orders.go",
			"**Read** `/src/shop/orders.go`",
			"**Edit** `/src/shop/orders.go`",
			"- math.Floor(x)\n", "+ math.Round(x)\n",
			"**Bash** `go test ./shop/...`",
			"Bash **error** in ",
			"<details><summary>output (3 lines)</summary>",
			"````\n", // the output holds a ``` fence: a longer one around it
			"**Grep** `Floor in /src/shop`",
			"**mcp__github__create_issue** `body: x`",
			"Notification: Claude needs your permission to use Bash",
			"> Rounding fixed; one test still fails.",
			"Session end (exit)",
			"- 15 events from ",
			"- 1 prompts, 1 errors",
			"- Tool calls: Bash ×1, Edit ×1, Grep ×1, Read ×1, Write ×1, mcp__github__create_issue ×1",
		} {
			if !strings.Contains(md, want) {
				t.Errorf("%v markdown lacks %q:\n%s", args, want, md)
			}
		}
		if strings.Contains(md, "unrelated") {
			t.Errorf("markdown holds another session's event")
		}
		for _, tc := range []struct {
			path string
			code int
		}{
			{"/v1/sessions/nosuch/export", 404},
			{"/v1/sessions/sx/export?format=pdf", 400},
		} {
			if code, _, body := get(t, d, tc.path); code != tc.code {
				t.Errorf("%s: %d %s, want %d", tc.path, code, body, tc.code)
			}
		}
		d.Stop()
	}
}

var _ = json.Marshal
