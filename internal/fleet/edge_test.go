package fleet

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/mpm-dev/mpm/internal/event"
)

// postBody ingests one raw hook body on d.
func (d *daemon) postBody(t testing.TB, body []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, "http://"+d.addr+"/v1/events", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+d.token)
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("post: %s", resp.Status)
	}
}

// counter reads a counter of a daemon's registry (0 when absent).
func counter(t testing.TB, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.Metric) > 0 {
			return mf.Metric[0].GetCounter().GetValue()
		}
	}
	return 0
}

// TestFreshJournalSameOrigin: an edge whose journal starts again under the
// same origin (a reinstall: a new data dir) has its events delivered,
// not dropped as duplicates of the old journal's seqs. Fails without the
// journal id in the message id (the hub counted them as duplicates).
func TestFreshJournalSameOrigin(t *testing.T) {
	ns := startNATS(t, -1, t.TempDir(), nil)
	hub := startDaemon(t, "", Consumer(hubCfg(ns.url())))
	c := hub.subscribe(t, 0)
	dir1 := t.TempDir()
	a := startDaemon(t, dir1, Edge(edgeCfg(ns.url(), "box", dir1)))
	postN(t, a, 1, 5)
	c.waitCount(t, 5, 30*time.Second)
	a.stop(t)
	dir2 := t.TempDir()
	a = startDaemon(t, dir2, Edge(edgeCfg(ns.url(), "box", dir2)))
	postN(t, a, 101, 105)
	evs := c.waitCount(t, 10, 30*time.Second)
	for i, ev := range evs {
		var p struct{ N int }
		json.Unmarshal(ev.Payload, &p)
		wantN, wantOS := i+1, uint64(i+1)
		if i >= 5 {
			wantN, wantOS = 96+i, uint64(i-4)
		}
		if ev.Origin != "box" || ev.OriginSeq != wantOS || p.N != wantN || ev.Seq != uint64(i+1) {
			t.Errorf("event %d: origin %s origin_seq %d n %d, want box %d %d", ev.Seq, ev.Origin, ev.OriginSeq, p.N, wantOS, wantN)
		}
	}
}

// TestCursorNamesItsJournal: a cursor saved for another journal is not
// applied to this one (publish from its start); one without a journal id
// (written by an older mpm) is.
func TestCursorNamesItsJournal(t *testing.T) {
	path := filepath.Join(t.TempDir(), CursorFile)
	c := cursor{path: path, journal: "00000000000000aa"}
	if err := c.store(42); err != nil {
		t.Fatal(err)
	}
	seq, j, err := c.load()
	if seq != 42 || j != "00000000000000aa" || err != nil {
		t.Errorf("load: %d %q %v", seq, j, err)
	}
	os.WriteFile(path, []byte("7\n"), 0o600)
	if seq, j, err := c.load(); seq != 7 || j != "" || err != nil {
		t.Errorf("old format: %d %q %v", seq, j, err)
	}
	os.WriteFile(path, []byte("x y\n"), 0o600)
	if _, _, err := c.load(); err == nil || !strings.Contains(err.Error(), "delete it") {
		t.Errorf("garbage: %v", err)
	}
	// An edge started on a journal whose cursor names another journal
	// publishes everything.
	ns := startNATS(t, -1, t.TempDir(), nil)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, CursorFile), []byte("3 ffffffffffffffff\n"), 0o600)
	a := startDaemon(t, dir) // no edge yet: three events in a fresh journal
	postN(t, a, 1, 3)
	a.stop(t)
	a = startDaemon(t, dir, Edge(edgeCfg(ns.url(), "a", dir)))
	hub := startDaemon(t, "", Consumer(hubCfg(ns.url())))
	checkFleet(t, hub.subscribe(t, 0).waitCount(t, 3, 30*time.Second), 1, map[string]int{"a": 3})
}

// TestMsgIDKey: message ids name origin, journal and seq; one too long for
// an idempotency key (a 100-byte origin) becomes a hash, still distinct.
func TestMsgIDKey(t *testing.T) {
	if got := MsgID("box", "0123456789abcdef", 7); got != "box:0123456789abcdef:7" {
		t.Errorf("MsgID %q", got)
	}
	long := strings.Repeat("o", 100)
	k1 := recordKey(MsgID(long, "0123456789abcdef", 1<<60), long, 1<<60)
	k2 := recordKey(MsgID(long, "fedcba9876543210", 1<<60), long, 1<<60)
	if k1 == k2 || len(k1) > 128 || !strings.HasPrefix(k1, "fleet-sha256:") {
		t.Errorf("long keys %q %q", k1, k2)
	}
	if got := recordKey("", "o", 3); got != "o:3" {
		t.Errorf("no msg id: %q", got)
	}
}

// TestOversizeEventDoesNotBlock: with a server max_payload smaller than an
// accepted event, the event goes out as a stub that says what was cut
// (counted), and the events after it follow. Before the stub, nothing
// after it ever left the edge.
func TestOversizeEventDoesNotBlock(t *testing.T) {
	ns := startNATS(t, -1, t.TempDir(), func(o *server.Options) { o.MaxPayload = 64 << 10 })
	hub := startDaemon(t, "", Consumer(hubCfg(ns.url())))
	c := hub.subscribe(t, 0)
	dir := t.TempDir()
	a := startDaemon(t, dir, Edge(edgeCfg(ns.url(), "a", dir)))
	a.post(t, "s1", "PreToolUse", 1)
	big := fmt.Sprintf(`{"session_id":"s1","hook_event_name":"PostToolUse","tool_name":"Bash","tool_use_id":"tu1","n":2,"tool_response":%q}`, strings.Repeat("x", 200<<10))
	a.postBody(t, []byte(big))
	a.post(t, "s1", "Stop", 3)
	evs := c.waitCount(t, 3, 30*time.Second)
	var p struct {
		N         int    `json:"n"`
		Tool      string `json:"tool_name"`
		ToolUseID string `json:"tool_use_id"`
		Cut       *struct {
			PayloadBytes int    `json:"payload_bytes"`
			Reason       string `json:"reason"`
		} `json:"mpm_truncated"`
	}
	if err := json.Unmarshal(evs[1].Payload, &p); err != nil {
		t.Fatal(err)
	}
	if p.Cut == nil || p.Cut.PayloadBytes != len(big) || !strings.Contains(p.Cut.Reason, "max_payload") || p.Tool != "Bash" || p.ToolUseID != "tu1" || evs[1].Event != "PostToolUse" || evs[1].OriginSeq != 2 {
		t.Errorf("stub %s (event %s, origin_seq %d)", evs[1].Payload, evs[1].Event, evs[1].OriginSeq)
	}
	if evs[2].Event != "Stop" || evs[2].OriginSeq != 3 {
		t.Errorf("after the stub: %+v", evs[2])
	}
	if n := counter(t, a.srv.Registry(), "mpm_fleet_stubbed_total"); n != 1 {
		t.Errorf("mpm_fleet_stubbed_total %v, want 1", n)
	}
}

// TestStubFitsAndParses: a stub keeps what mpm reads and cuts long fields.
func TestStubFitsAndParses(t *testing.T) {
	ev := &eventForStub
	b := stub(ev, 5<<20, "why")
	if len(b) > 6*stubField+1024 {
		t.Errorf("stub is %d bytes", len(b))
	}
	got, err := decode(append(append([]byte(`{"seq":1,"origin":"o","origin_seq":1,"session_id":"s","payload":`), b...), '}'), "", 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "SessionStart" || got.Reason != "resume" || len(got.Cwd) != stubField {
		t.Errorf("stub parsed as %+v", got)
	}
}

// TestStreamLimits: the stream is created with --nats-max-bytes (16 GiB by
// default) and discard old; a JetStream store smaller than that gets a
// stream halved until it fits, rather than none.
func TestStreamLimits(t *testing.T) {
	for _, tc := range []struct {
		name     string
		maxStore int64
		want     int64
	}{
		{"shipped store", 20 << 30, DefaultMaxBytes}, // deploy/nats: max_file_store 20G
		{"small store", 1 << 30, 1 << 30},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ns := startNATS(t, -1, t.TempDir(), func(o *server.Options) {
				o.JetStreamMaxStore = tc.maxStore // set: the default depends on the disk's free space
			})
			startDaemon(t, "", Consumer(hubCfg(ns.url())))
			nc, err := nats.Connect(ns.url())
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			js, _ := jetstream.New(nc)
			var info *jetstream.StreamInfo
			waitFor(t, func() bool {
				st, err := js.Stream(context.Background(), DefaultStream)
				if err != nil {
					return false
				}
				info = st.CachedInfo()
				return true
			})
			if info.Config.MaxBytes != tc.want || info.Config.Discard != jetstream.DiscardOld {
				t.Errorf("stream max_bytes %d discard %v, want %d, old", info.Config.MaxBytes, info.Config.Discard, tc.want)
			}
		})
	}
}

// TestRedact: logs and /healthz never show a URL's user part, be it a
// user and password or a token.
func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"nats://s3cret@nats.example:4222":                "nats://REDACTED@nats.example:4222",
		"nats://u:p@h:1, tls://tok@h2:2":                 "nats://REDACTED@h:1,tls://REDACTED@h2:2",
		"nats://h:4222":                                  "nats://h:4222",
		"s3cret@h:4222":                                  "REDACTED@h:4222",
		"nats://s3cret%zz@h:4222":                        "nats://REDACTED@h:4222",
		"nats://user:pa@ss@h:4222,nats://127.0.0.1:4222": "nats://REDACTED@h:4222,nats://127.0.0.1:4222",
	} {
		if got := redact(in); got != want {
			t.Errorf("redact(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestTokenAuthNotShown: a token server; the edge gives the token in its
// URL, the hub with Config.Token (--nats-token); events flow, and neither
// /healthz nor the status shows the token.
func TestTokenAuthNotShown(t *testing.T) {
	const tok = "s3cret-tok"
	ns := startNATS(t, -1, t.TempDir(), func(o *server.Options) { o.Authorization = tok })
	hc := hubCfg(ns.url())
	hc.Token = tok
	hub := startDaemon(t, "", Consumer(hc))
	c := hub.subscribe(t, 0)
	dir := t.TempDir()
	edge := Edge(edgeCfg(strings.Replace(ns.url(), "nats://", "nats://"+tok+"@", 1), "a", dir))
	a := startDaemon(t, dir, edge)
	postN(t, a, 1, 3)
	checkFleet(t, c.waitCount(t, 3, 30*time.Second), 1, map[string]int{"a": 3})
	resp, err := httpClient.Get("http://" + a.addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.Contains(string(body), tok) || !strings.Contains(string(body), "REDACTED@127.0.0.1") {
		t.Errorf("/healthz: %s", body)
	}
	if st, _ := edge.Status(); strings.Contains(st.URL, tok) {
		t.Errorf("status URL %q", st.URL)
	}
}

// TestReadSecret: a secret file must be the owner's alone; its first line
// is the secret.
func TestReadSecret(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, content string
		mode          os.FileMode
		want, errHas  string
	}{
		{"ok", "pw\n", 0o600, "pw", ""},
		{"crlf", "pw\r\nrest", 0o400, "pw", ""},
		{"readable by others", "pw", 0o644, "", "chmod 600"},
		{"empty", "", 0o600, "", "empty"},
	} {
		if tc.errHas == "chmod 600" && runtime.GOOS == "windows" {
			continue
		}
		p := filepath.Join(dir, tc.name)
		os.WriteFile(p, []byte(tc.content), tc.mode)
		os.Chmod(p, tc.mode)
		got, err := ReadSecret("--nats-password-file", p)
		if got != tc.want || (tc.errHas == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.errHas)) {
			t.Errorf("%s: %q %v", tc.name, got, err)
		}
	}
	if _, err := ReadSecret("--nats-password-file", filepath.Join(dir, "missing")); err == nil {
		t.Error("missing file accepted")
	}
}

var eventForStub = func() event.Event {
	return event.Event{SessionID: "s", Name: "SessionStart", Reason: "resume", Cwd: strings.Repeat("é", stubField), Payload: make([]byte, 5<<20)}
}()

// TestDecodeOversizeStub: a record whose payload is larger than the hub's
// --max-event-bytes (an edge that allows more) becomes a stub, not a loss.
func TestDecodeOversizeStub(t *testing.T) {
	payload := fmt.Sprintf(`{"session_id":"s","hook_event_name":"PostToolUse","tool_name":"Read","tool_use_id":"t9","out":%q}`, strings.Repeat("y", 4000))
	rec := `{"seq":5,"session_id":"s","event":"PostToolUse","tool":"Read","tool_use_id":"t9","origin":"o","origin_seq":5,"payload":` + payload + `}`
	ev, err := decode([]byte(rec), "o:j:5", 2048)
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		Cut struct {
			PayloadBytes int    `json:"payload_bytes"`
			Reason       string `json:"reason"`
		} `json:"mpm_truncated"`
	}
	json.Unmarshal(ev.Payload, &p)
	if ev.Name != "PostToolUse" || ev.Tool != "Read" || ev.ToolUseID != "t9" || ev.OriginSeq != 5 || p.Cut.PayloadBytes != len(payload) || !strings.Contains(p.Cut.Reason, "--max-event-bytes") {
		t.Errorf("decoded %+v, payload %s", ev, ev.Payload)
	}
}
