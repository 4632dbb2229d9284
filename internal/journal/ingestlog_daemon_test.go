package journal_test

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/mpm-dev/mpm/internal/testutil"
)

// TestDaemonKill9WithEventsOnlyInTheIngestLog: a real mpm-wsd accepts
// events while its committer is held back (MPM_JOURNAL_TEST_HOLD_COMMITS,
// test only), so they are in the ingest log and not in SQLite; it is
// killed with SIGKILL and restarted: every event is there with its seq and
// its payload byte for byte, the idempotency keys still deduplicate, and
// the session summaries count them.
func TestDaemonKill9WithEventsOnlyInTheIngestLog(t *testing.T) {
	t.Setenv("MPM_JOURNAL_TEST_HOLD_COMMITS", "1")
	d := testutil.StartDaemon(t)
	p := newPoster(d, 1)
	const n = 60
	bodies := map[uint64][]byte{}
	keys := map[string]uint64{}
	perSession := map[string]uint64{}
	for i := 0; i < n; i++ {
		sess := fmt.Sprintf("crash-%d", i%3)
		key := fmt.Sprintf("key-%d", i)
		body := hookBody(sess, key, 50+i*37)
		code, seq, err := p.post(body, key)
		if err != nil || code != http.StatusAccepted || seq == 0 {
			t.Fatalf("post %d: %d seq %d %v", i, code, seq, err)
		}
		bodies[seq] = body
		keys[key] = seq
		perSession[sess]++
	}
	// The events are accepted, and not in the database.
	db, err := sql.Open("sqlite", filepath.Join(d.DataDir, "journal.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	var inDB int
	err = db.QueryRow("SELECT COUNT(*) FROM events").Scan(&inDB)
	db.Close()
	if err != nil || inDB != 0 {
		t.Fatalf("%d events in SQLite (%v) while the committer is held: want 0", inDB, err)
	}
	if segs, _ := filepath.Glob(filepath.Join(d.DataDir, "journal.db.log.*")); len(segs) == 0 {
		t.Fatal("no ingest log segment in the data directory")
	}

	d.Kill()
	t.Setenv("MPM_JOURNAL_TEST_HOLD_COMMITS", "")
	d.Start()

	all, _ := history(t, d, 0)
	if len(all) != n {
		t.Fatalf("%d events after restart, want %d", len(all), n)
	}
	for _, ev := range all {
		want, ok := bodies[ev.Seq]
		if !ok {
			t.Fatalf("event at seq %d was never acknowledged", ev.Seq)
		}
		var compact bytes.Buffer
		json.Compact(&compact, want)
		if !bytes.Equal(ev.Payload, want) && !bytes.Equal(ev.Payload, compact.Bytes()) {
			t.Fatalf("seq %d payload\n%s\nwant\n%s", ev.Seq, ev.Payload, want)
		}
	}
	// The keys deduplicate: a resend answers with the first seq.
	p = newPoster(d, 1)
	for _, i := range []int{0, n / 2, n - 1} {
		key := fmt.Sprintf("key-%d", i)
		code, seq, err := p.post(hookBody(fmt.Sprintf("crash-%d", i%3), key, 50+i*37), key)
		if err != nil || code/100 != 2 || seq != keys[key] {
			t.Fatalf("resend of %s: %d seq %d %v, want seq %d", key, code, seq, err, keys[key])
		}
	}
	if again, _ := history(t, d, 0); len(again) != n {
		t.Fatalf("%d events after resending, want %d", len(again), n)
	}
	// The sessions count every event.
	req, _ := http.NewRequest(http.MethodGet, d.URL("/v1/sessions"), nil)
	req.Header.Set("Authorization", "Bearer "+d.Token())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list struct {
		Sessions []struct {
			SessionID string `json:"session_id"`
			Total     uint64 `json:"total"`
		} `json:"sessions"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		t.Fatal(err)
	}
	got := map[string]uint64{}
	for _, s := range list.Sessions {
		got[s.SessionID] = s.Total
	}
	for s, want := range perSession {
		if got[s] != want {
			t.Fatalf("session %s counts %d events, want %d (all: %v)", s, got[s], want, got)
		}
	}
}
