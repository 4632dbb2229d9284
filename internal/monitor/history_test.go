package monitor

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/mpm-dev/mpm/internal/protocol"
	"github.com/mpm-dev/mpm/internal/testutil"
)

func TestSearchAndExportCommands(t *testing.T) {
	d := testutil.StartDaemon(t, "--log-level", "warn")
	for i, b := range []string{
		`{"session_id":"4f1c2b3a-aaaa","hook_event_name":"UserPromptSubmit","prompt":"fix the rounding in orders.go"}`,
		`{"session_id":"4f1c2b3a-aaaa","hook_event_name":"PreToolUse","tool_name":"Edit","tool_use_id":"t1","tool_input":{"file_path":"/src/orders.go","old_string":"a","new_string":"b"}}`,
		`{"session_id":"9e9e0000-bbbb","hook_event_name":"UserPromptSubmit","prompt":"something else & <b>"}`,
	} {
		req, _ := http.NewRequest("POST", d.URL("/v1/events"), strings.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+d.Token())
		req.Header.Set(protocol.HeaderIdempotencyKey, fmt.Sprint("k", i))
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 202 {
			t.Fatalf("post: %v %v", resp, err)
		}
		resp.Body.Close()
	}
	run := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := Main(append(args, "--addr", d.Addr, "--data-dir", d.DataDir), &out, &errb)
		return code, out.String(), errb.String()
	}

	code, out, _ := run("search", "tool:Edit", "path:orders.go", "--color", "never")
	if code != 0 || !strings.Contains(out, "4f1c2b3a  PreToolUse Edit  #2\n    /src/orders.go") {
		t.Errorf("search: %d %q", code, out)
	}
	code, out, _ = run("search", "--json", "orders.go", "--session", "4f1c")
	var seqs []uint64
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var h protocol.SearchHit
		if err := json.Unmarshal([]byte(l), &h); err != nil {
			t.Fatalf("search --json line %q: %v", l, err)
		}
		seqs = append(seqs, h.Seq)
	}
	if code != 0 || fmt.Sprint(seqs) != "[2 1]" {
		t.Errorf("search --json: %d %v", code, seqs)
	}
	if code, out, _ = run("search", "else", "--color", "always"); code != 0 || !strings.Contains(out, "something "+bold+yellow+"else"+reset+" & <b>") {
		t.Errorf("search highlight: %q", out)
	}
	if code, _, errOut := run("search", `"unclosed`); code != 2 || !strings.Contains(errOut, "unbalanced quote") {
		t.Errorf("bad query: %d %q", code, errOut)
	}
	if code, _, errOut := run("search", "kubernetes"); code != 1 || !strings.Contains(errOut, "no events match") {
		t.Errorf("no hits: %d %q", code, errOut)
	}

	code, out, _ = run("export", "4f1c")
	if code != 0 || !strings.Contains(out, "# Claude Code session 4f1c2b3a-aaaa") || !strings.Contains(out, "**Edit** `/src/orders.go`") {
		t.Errorf("export markdown: %d %q", code, out)
	}
	code, out, _ = run("export", "--format", "ndjson", "4f1c")
	if code != 0 || strings.Count(out, "\n") != 2 {
		t.Errorf("export ndjson: %d %q", code, out)
	}
	if code, _, errOut := run("export", "nosuch"); code != 1 || !strings.Contains(errOut, "404") {
		t.Errorf("export unknown: %d %q", code, errOut)
	}
	if code, _, _ := run("export"); code != 2 {
		t.Errorf("export without a session: %d, want 2", code)
	}
}
