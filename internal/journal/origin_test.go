package journal

import (
	"testing"
	"time"

	"github.com/mpm-dev/mpm/internal/event"
	"github.com/mpm-dev/mpm/internal/store"
)

// TestOriginRoundTrip: fleet-mode events keep their origin and origin seq
// through Append, Read, Tail and a reopen; local events read back without.
func TestOriginRoundTrip(t *testing.T) {
	dir := t.TempDir()
	j := openT(t, dir, Options{})
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	local := mkEvent(t, 1, "s", "UserPromptSubmit", "", "", "", base, 0)
	remote := mkEvent(t, 2, "s", "PreToolUse", "Bash", "tu", "laptop-ann:41", base, 0)
	remote.Origin, remote.OriginSeq = "laptop-ann", 41
	if err := j.Append([]*event.Event{local, remote}); err != nil {
		t.Fatal(err)
	}
	check := func(when string, j *Journal) {
		t.Helper()
		for _, tail := range []bool{false, true} {
			read := j.Read
			if tail {
				read = j.Tail
			}
			got, err := read(0, 10, store.Filter{}, 0)
			if err != nil || len(got) != 2 {
				t.Fatalf("%s: read %v %v", when, got, err)
			}
			if got[0].Origin != "" || got[0].OriginSeq != 0 {
				t.Errorf("%s: local event has origin %q/%d", when, got[0].Origin, got[0].OriginSeq)
			}
			if got[1].Origin != "laptop-ann" || got[1].OriginSeq != 41 {
				t.Errorf("%s: remote event has origin %q/%d, want laptop-ann/41", when, got[1].Origin, got[1].OriginSeq)
			}
			if string(got[1].Wire()) != string(remote.Wire()) {
				t.Errorf("%s: wire\n got %s\nwant %s", when, got[1].Wire(), remote.Wire())
			}
		}
	}
	check("open", j)
	j.Close()
	check("reopened", openT(t, dir, Options{}))
}

// TestMigrateV1 opens a journal written with layout 1 (no origin columns):
// its events read back as local ones, new events keep their origin, and
// the file says layout 2 afterwards.
func TestMigrateV1(t *testing.T) {
	db, dir := rawJournal(t)
	if _, err := db.Exec(schema + "PRAGMA user_version = 1;"); err != nil {
		t.Fatal(err)
	}
	payload := `{"session_id":"old","hook_event_name":"UserPromptSubmit"}`
	if _, err := db.Exec(`INSERT INTO events(seq, received_ns, session_id, event, size, payload) VALUES (1, 5, 'old', 'UserPromptSubmit', 10, ?)`, []byte(payload)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE meta SET v = 1 WHERE k = 'last_seq'`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	j := openT(t, dir, Options{})
	if j.LastSeq() != 1 {
		t.Fatalf("last seq after migration: %d, want 1", j.LastSeq())
	}
	ev := mkEvent(t, 2, "new", "UserPromptSubmit", "", "", "edge:7", time.Now(), 0)
	ev.Origin, ev.OriginSeq = "edge", 7
	if err := j.Append([]*event.Event{ev}); err != nil {
		t.Fatal(err)
	}
	got, err := j.Read(0, 10, store.Filter{}, 0)
	if err != nil || len(got) != 2 {
		t.Fatalf("read: %v %v", got, err)
	}
	if got[0].SessionID != "old" || got[0].Origin != "" || string(got[0].Payload) != payload {
		t.Errorf("old event: %s", got[0].Wire())
	}
	if got[1].Origin != "edge" || got[1].OriginSeq != 7 {
		t.Errorf("new event: origin %q/%d", got[1].Origin, got[1].OriginSeq)
	}
	var v int
	if err := j.w.QueryRow("PRAGMA user_version").Scan(&v); err != nil || v != schemaVersion {
		t.Errorf("user_version %d (%v), want %d", v, err, schemaVersion)
	}
	j.Close()
	openT(t, dir, Options{}) // reopening a layout-2 journal migrates nothing
}
