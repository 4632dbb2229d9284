package monitor

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"net/http"

	"github.com/mpm-dev/mpm/internal/protocol"
	"github.com/mpm-dev/mpm/internal/testutil"
)

// TestUsage: mpm-monitor usage prints GET /v1/usage's figures — the total,
// per project, per model, and the hours that used anything — and --json
// the daemon's answer; a bad flag value is exit 2 with the daemon's reason.
func TestUsage(t *testing.T) {
	configDir := t.TempDir()
	t.Setenv("CLAUDE_CONFIG_DIR", configDir)
	path := filepath.Join(configDir, "projects", "-home-dev-shop", "s.jsonl")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	line := func(ts, id, model string, in, out int) string {
		return fmt.Sprintf(`{"message":{"id":%q,"model":%q,"role":"assistant","type":"message","usage":{"input_tokens":%d,"output_tokens":%d}},"requestId":"r%s","type":"assistant","timestamp":%q}`+"\n", id, model, in, out, id, ts)
	}
	// Sonnet: 100k in, 10k out = $0.45 at 09:10; haiku: 200k in = $0.20 at 10:20.
	if err := os.WriteFile(path, []byte(line("2026-11-30T09:10:00Z", "a", "claude-sonnet-4-5", 100_000, 10_000)+line("2026-11-30T10:20:00Z", "b", "claude-haiku-4-5", 200_000, 0)), 0o600); err != nil {
		t.Fatal(err)
	}
	d := testutil.StartDaemon(t, "--log-level", "warn")
	req, _ := http.NewRequest("POST", d.URL("/v1/events"), strings.NewReader(fmt.Sprintf(`{"session_id":"shop-1","hook_event_name":"Stop","cwd":"/home/dev/shop","transcript_path":%q}`, path)))
	req.Header.Set("Authorization", "Bearer "+d.Token())
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 202 {
		t.Fatalf("post: %v %v", resp, err)
	}
	resp.Body.Close()
	runMon := func(args ...string) (string, string, int) {
		var out, errb bytes.Buffer
		code := Main(append(args, "--addr", d.Addr, "--data-dir", d.DataDir), &out, &errb)
		return out.String(), errb.String(), code
	}
	args := []string{"usage", "--since", "2026-11-30T00:00:00Z", "--until", "2026-12-01T00:00:00Z", "--tz", "UTC", "--bucket", "hour"}
	var rep protocol.UsageReport
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, errOut, code := runMon(append(args, "--json")...)
		if code != 0 {
			t.Fatalf("--json: exit %d: %s", code, errOut)
		}
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("--json: %v: %s", err, out)
		}
		if rep.Total.Sessions == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the transcript was not read: %s", out)
		}
		time.Sleep(50 * time.Millisecond) // polling the reader, not ordering
	}
	if rep.Total.InputTokens != 300_000 || len(rep.Series) != 24 || len(rep.Models) != 2 {
		t.Fatalf("--json: %+v", rep)
	}
	out, errOut, code := runMon(args...)
	for _, want := range []string{
		"Mon 30 Nov 00:00 → Tue 1 Dec 00:00 (UTC): ~$0.65 · 310,000 tokens · 1 session",
		"/home/dev/shop                             ~$0.65       310,000         1",
		"claude-sonnet-4-5                          ~$0.45       110,000",
		"claude-haiku-4-5                           ~$0.20       200,000",
		"Mon 30 Nov 09:00      ~$0.45       110,000 " + strings.Repeat("█", 20),
		"Mon 30 Nov 10:00      ~$0.20       200,000 " + strings.Repeat("█", 9),
	} {
		if code != 0 || !strings.Contains(out, want+"\n") {
			t.Errorf("exit %d (%s); output lacks %q:\n%s", code, errOut, want, out)
		}
	}
	if strings.Contains(out, "08:00") {
		t.Errorf("an hour without usage is listed:\n%s", out)
	}
	_, errOut, code = runMon("usage", "--bucket", "week")
	if code != 2 || !strings.Contains(errOut, "bucket must be") {
		t.Errorf("--bucket week: exit %d, %s", code, errOut)
	}
}
