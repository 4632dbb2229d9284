package journal

import (
	"bytes"
	"database/sql"
	"path/filepath"
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

// TestOpenLayout1Fixture: a journal written by layout 1 (before fleet
// mode: testdata/journal-v1.db, made by mpm-wsd built at b94beb0 from the
// 40 events of journal-v3.payloads, posted by that commit's mpm-hook)
// opens and is migrated: its events read back byte for byte, with no
// origin; a new event keeps its origin and origin seq; old events are
// compressed and indexed in the background; a reopen migrates nothing.
func TestOpenLayout1Fixture(t *testing.T) {
	dir := t.TempDir()
	lines := copyFixture(t, "journal-v1.db", dir)
	raw, err := sql.Open("sqlite", filepath.Join(dir, "journal.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	var v int
	if err := raw.QueryRow("PRAGMA user_version").Scan(&v); err != nil || v != 1 {
		t.Fatalf("the fixture is at layout %d (%v), want 1", v, err)
	}
	raw.Close()

	j := openT(t, dir, Options{})
	if j.LastSeq() != uint64(len(lines)) {
		t.Fatalf("last seq after migration: %d, want %d", j.LastSeq(), len(lines))
	}
	if infos, _ := j.Sessions(); len(infos) != 3 {
		t.Fatalf("%d sessions, want 3", len(infos))
	}
	next := j.LastSeq() + 1
	ev := mkEvent(t, next, "new", "UserPromptSubmit", "", "", "edge:7", time.Now(), 0)
	ev.Origin, ev.OriginSeq = "edge", 7
	if err := j.Append([]*event.Event{ev}); err != nil {
		t.Fatal(err)
	}
	check := func(j *Journal) {
		t.Helper()
		got, err := j.Read(0, next, store.Filter{}, 0)
		if err != nil || len(got) != len(lines)+1 {
			t.Fatalf("read %d events: %v", len(got), err)
		}
		for i, l := range lines {
			if !bytes.Equal(got[i].Payload, l) || got[i].Origin != "" {
				t.Fatalf("old event %d: origin %q, payload\n%s\nwant\n%s", i+1, got[i].Origin, got[i].Payload, l)
			}
		}
		if g := got[len(lines)]; g.Origin != "edge" || g.OriginSeq != 7 || !bytes.Equal(g.Payload, ev.Payload) {
			t.Errorf("new event: origin %q/%d", g.Origin, g.OriginSeq)
		}
	}
	check(j)
	if err := j.w.QueryRow("PRAGMA user_version").Scan(&v); err != nil || v != schemaVersion {
		t.Errorf("user_version %d (%v), want %d", v, err, schemaVersion)
	}
	select {
	case <-j.backfilled:
	case <-time.After(30 * time.Second):
		t.Fatal("backfill did not finish")
	}
	if hits, err := j.Search(store.SearchQuery{Query: "event:Notification"}); err != nil || len(hits) == 0 || hits[0].Seq > uint64(len(lines)) {
		t.Fatalf("old events not searchable after backfill: %v %v", hits, err)
	}
	check(j)
	j.Close()
	check(openT(t, dir, Options{})) // reopening migrates nothing
}
