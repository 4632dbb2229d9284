package hook_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/mpm-dev/mpm/internal/hook"
	"github.com/mpm-dev/mpm/internal/paths"
	"github.com/mpm-dev/mpm/internal/spool"
	"github.com/mpm-dev/mpm/internal/testutil"
	"github.com/mpm-dev/mpm/internal/token"
)

// hookRun is one finished mpm-hook process.
type hookRun struct {
	stdout, stderr string
	exitCode       int
	took           time.Duration
}

// runHook runs the real mpm-hook with payload on a stdin pipe that stays
// open until the hook has exited (as Claude Code may leave it), against the
// daemon address and data directory given.
func runHook(t testing.TB, addr, dataDir string, payload []byte, extraEnv ...string) hookRun {
	t.Helper()
	// On Linux mpm-hook hands a waiting PermissionRequest and a spool
	// append it cannot do to mpm-hookctl, installed beside it.
	testutil.Binary(t, "mpm-hookctl")
	return runHookBin(t, testutil.Binary(t, "mpm-hook"), addr, dataDir, payload, extraEnv...)
}

// runHookBin is runHook with the mpm-hook binary at bin.
func runHookBin(t testing.TB, bin, addr, dataDir string, payload []byte, extraEnv ...string) hookRun {
	t.Helper()
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), paths.EnvAddr+"="+addr, paths.EnvDataDir+"="+dataDir, "MPM_HOOK_DEBUG=1")
	cmd.Env = append(cmd.Env, extraEnv...)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdin = r
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r.Close()
	go w.Write(payload) // may block until the hook reads; never closed before exit
	err = cmd.Wait()
	took := time.Since(start)
	w.Close()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("mpm-hook: %v", err)
	}
	return hookRun{stdout: stdout.String(), stderr: stderr.String(), exitCode: code, took: took}
}

// wantNeutral checks the only answer a hook may give Claude Code: exit 0,
// nothing on stdout.
func wantNeutral(t *testing.T, r hookRun) {
	t.Helper()
	if r.exitCode != 0 || r.stdout != "" {
		t.Fatalf("mpm-hook exit %d, stdout %q (stderr %q); want exit 0 and no output", r.exitCode, r.stdout, r.stderr)
	}
}

type event struct {
	Seq       uint64          `json:"seq"`
	SessionID string          `json:"session_id"`
	Event     string          `json:"event"`
	Sent      time.Time       `json:"sent"`
	Payload   json.RawMessage `json:"payload"`
}

// events pages through the daemon's history.
func events(t *testing.T, d *testutil.Daemon) []event {
	t.Helper()
	var all []event
	since := uint64(0)
	for {
		req, _ := http.NewRequest("GET", d.URL(fmt.Sprintf("/v1/events?since=%d&limit=10000", since)), nil)
		req.Header.Set("Authorization", "Bearer "+d.Token())
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("GET /v1/events: %v", err)
		}
		var page struct {
			Events    []event `json:"events"`
			NextSince uint64  `json:"next_since"`
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("GET /v1/events: %d %s", resp.StatusCode, body)
		}
		if err := json.Unmarshal(body, &page); err != nil {
			t.Fatalf("decode /v1/events: %v", err)
		}
		if len(page.Events) == 0 {
			return all
		}
		all = append(all, page.Events...)
		since = page.NextSince
	}
}

// waitEvents polls until the session has want events or the deadline passes.
func waitEvents(t *testing.T, d *testutil.Daemon, session string, want int) []event {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var got []event
		for _, e := range events(t, d) {
			if e.SessionID == session {
				got = append(got, e)
			}
		}
		if len(got) >= want || time.Now().After(deadline) {
			return got
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func payload(session, name string, extra string) []byte {
	return []byte(`{"session_id":"` + session + `","hook_event_name":"` + name + `","cwd":"/tmp","extra":"` + extra + `"}`)
}

func TestForwardWithStdinLeftOpen(t *testing.T) {
	d := testutil.StartDaemon(t)
	// White space and a trailing newline as a writer may send them; the
	// object is forwarded byte for byte, without what follows it.
	p := []byte("{\"session_id\": \"s-open\",\n \"hook_event_name\": \"UserPromptSubmit\", \"prompt\": \"hi \\\"there\\\" {[\"}")
	r := runHook(t, d.Addr, d.DataDir, append(append([]byte{}, p...), '\n'))
	wantNeutral(t, r)
	if !strings.Contains(r.stderr, "mpm-hook: accepted") {
		t.Errorf("debug line %q, want accepted", r.stderr)
	}
	got := waitEvents(t, d, "s-open", 1)
	if len(got) != 1 {
		t.Fatalf("got %d events, want 1", len(got))
	}
	if !bytes.Equal(got[0].Payload, p) {
		t.Errorf("payload changed:\n got %s\nwant %s", got[0].Payload, p)
	}
	if got[0].Sent.IsZero() {
		t.Errorf("event has no sent time: Mpm-Sent-At not set")
	}
}

func TestForwardWithoutDebugPrintsNothing(t *testing.T) {
	d := testutil.StartDaemon(t)
	r := runHook(t, d.Addr, d.DataDir, payload("s-quiet", "Stop", "x"), "MPM_HOOK_DEBUG=")
	wantNeutral(t, r)
	if r.stderr != "" {
		t.Errorf("stderr %q, want nothing", r.stderr)
	}
	if got := waitEvents(t, d, "s-quiet", 1); len(got) != 1 {
		t.Fatalf("got %d events, want 1", len(got))
	}
}

func TestForward256KiB(t *testing.T) {
	d := testutil.StartDaemon(t)
	big := strings.Repeat("0123456789abcdef", 256<<10/16)
	p := payload("s-big", "PostToolUse", big)
	r := runHook(t, d.Addr, d.DataDir, p)
	wantNeutral(t, r)
	got := waitEvents(t, d, "s-big", 1)
	if len(got) != 1 || !bytes.Equal(got[0].Payload, p) {
		t.Fatalf("256 KiB payload did not arrive intact (%d events)", len(got))
	}
}

func TestGarbageIsCountedNotPrinted(t *testing.T) {
	d := testutil.StartDaemon(t)
	before := rejected(t, d)
	for _, in := range []string{"not json at all", "[1,2,3]", `{"session_id": }`, "{\"a\":1]"} {
		r := runHook(t, d.Addr, d.DataDir, []byte(in), "MPM_HOOK_DEBUG=", "MPM_HOOK_STDIN_TIMEOUT=300ms")
		wantNeutral(t, r)
		if r.stderr != "" {
			t.Errorf("input %q: stderr %q, want nothing", in, r.stderr)
		}
	}
	// Nothing at all (stdin open, silent) is not an event.
	r := runHook(t, d.Addr, d.DataDir, nil, "MPM_HOOK_STDIN_TIMEOUT=200ms")
	wantNeutral(t, r)
	if !strings.Contains(r.stderr, "no-input") {
		t.Errorf("silent stdin: %q, want no-input", r.stderr)
	}
	if after := rejected(t, d); after-before != 4 {
		t.Errorf("daemon counted %v rejections, want 4", after-before)
	}
	if recs, _, _, _ := spool.Stats(paths.Spool(d.DataDir)); recs != 0 {
		t.Errorf("garbage was spooled (%d records)", recs)
	}
}

// TestDaemonDownSpoolsBadObjectsTheDaemonCountsThem: with the daemon down
// the hook spools any whole JSON object without checking its contents
// (that cost ~70 µs at 256 KiB); the daemon checks each spooled event as
// it drains, counts and skips the bad ones, and delivers the rest. Input
// that is no whole object is not spooled. Either way the hook exits 0 and
// says nothing without MPM_HOOK_DEBUG.
func TestDaemonDownSpoolsBadObjectsTheDaemonCountsThem(t *testing.T) {
	d := testutil.StartDaemon(t)
	d.Stop()
	bigBad := payload("s-bad", "PostToolUse", strings.Repeat("x", 256<<10)+"\xff\xfe") // invalid UTF-8 in a string
	cases := []struct {
		in      []byte
		outcome string // the debug line's
	}{
		{[]byte(`{"a":1]`), "spooled"},
		{[]byte(`{"session_id": }`), "spooled"},
		{bigBad, "spooled"},
		{[]byte("not json at all"), "invalid"},
		{[]byte("[1,2,3]"), "invalid"},
		{payload("s-good", "PreToolUse", "after the bad ones"), "spooled"},
	}
	for _, c := range cases {
		r := runHook(t, d.Addr, d.DataDir, c.in, "MPM_HOOK_STDIN_TIMEOUT=300ms")
		wantNeutral(t, r)
		if !strings.HasPrefix(r.stderr, "mpm-hook: "+c.outcome+" ") {
			t.Errorf("input %.40q: debug line %q, want %s", c.in, r.stderr, c.outcome)
		}
		r = runHook(t, d.Addr, t.TempDir(), c.in, "MPM_HOOK_DEBUG=", "MPM_HOOK_STDIN_TIMEOUT=300ms")
		wantNeutral(t, r)
		if r.stderr != "" {
			t.Errorf("input %.40q without debug: stderr %q, want nothing", c.in, r.stderr)
		}
	}
	if recs, _, _, err := spool.Stats(paths.Spool(d.DataDir)); recs != 4 || err != nil {
		t.Fatalf("spool holds %d records (%v), want 4 (3 bad objects, 1 event)", recs, err)
	}
	d.Start()
	if got := waitEvents(t, d, "s-good", 1); len(got) != 1 {
		t.Fatalf("got %d events, want the good one", len(got))
	}
	// The drain goes in order: the bad records came before the good one.
	if n := rejected(t, d); n != 3 {
		t.Errorf("daemon counted %v rejections at drain, want 3", n)
	}
	if evs := events(t, d); len(evs) != 1 {
		t.Errorf("daemon holds %d events, want 1", len(evs))
	}
}

// rejected sums mpm_events_rejected_total over reasons.
func rejected(t *testing.T, d *testutil.Daemon) float64 {
	t.Helper()
	return sumMetric(t, d, "mpm_events_rejected_total")
}

// sumMetric sums the daemon's metric name over its labels.
func sumMetric(t *testing.T, d *testutil.Daemon, name string) float64 {
	t.Helper()
	req, _ := http.NewRequest("GET", d.URL("/metrics"), nil)
	req.Header.Set("Authorization", "Bearer "+d.Token())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var sum float64
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, name+"{") || strings.HasPrefix(line, name+" ") {
			var v float64
			fmt.Sscan(line[strings.LastIndexByte(line, ' ')+1:], &v)
			sum += v
		}
	}
	return sum
}

func TestDaemonDownSpoolsThenDeliversOnceInOrder(t *testing.T) {
	d := testutil.StartDaemon(t)
	d.Stop()
	const n = 5
	for i := 0; i < n; i++ {
		r := runHook(t, d.Addr, d.DataDir, payload("s-down", "PreToolUse", fmt.Sprint(i)))
		wantNeutral(t, r)
		if !strings.Contains(r.stderr, "mpm-hook: spooled") {
			t.Fatalf("hook %d: %q, want spooled", i, r.stderr)
		}
	}
	if recs, _, _, err := spool.Stats(paths.Spool(d.DataDir)); recs != n || err != nil {
		t.Fatalf("spool holds %d records (%v), want %d", recs, err, n)
	}
	d.Start()
	got := waitEvents(t, d, "s-down", n)
	checkOnceInOrder(t, got, n)
}

func checkOnceInOrder(t *testing.T, got []event, n int) {
	t.Helper()
	if len(got) != n {
		t.Fatalf("got %d events, want %d exactly once", len(got), n)
	}
	var prev uint64
	for i, e := range got {
		if e.Seq <= prev {
			t.Errorf("event %d seq %d after %d", i, e.Seq, prev)
		}
		prev = e.Seq
	}
	if n > 2 {
		for i, e := range got {
			if !bytes.Contains(e.Payload, []byte(fmt.Sprintf(`"extra":"%d"`, i))) {
				t.Errorf("event %d out of order: %s", i, e.Payload)
			}
		}
	}
}

// The installer's status check uses Get on the real daemon.
func TestGetHealthz(t *testing.T) {
	d := testutil.StartDaemon(t)
	code, body, err := hook.Get(d.Addr, "/healthz", "", 2*time.Second)
	if err != nil || code != 200 || !bytes.Contains(body, []byte(`"service":"mpm-wsd"`)) {
		t.Fatalf("Get /healthz = %d %q %v", code, body, err)
	}
	code, _, err = hook.Get(d.Addr, "/metrics", "", 2*time.Second)
	if err != nil || code != 401 {
		t.Errorf("Get /metrics without token = %d, %v; want 401", code, err)
	}
	tok, err := token.Read(paths.Token(d.DataDir))
	if err != nil || tok != d.Token() {
		t.Fatalf("ReadToken = %q, %v", tok, err)
	}
	code, body, err = hook.Get(d.Addr, "/metrics", tok, 2*time.Second)
	if err != nil || code != 200 || !bytes.Contains(body, []byte("mpm_events_accepted_total")) {
		t.Errorf("Get /metrics with token = %d, %v", code, err)
	}
	if _, _, err := hook.Get(testutil.FreeAddr(t), "/healthz", "", time.Second); err == nil {
		t.Errorf("Get on a closed port succeeded")
	}
}
