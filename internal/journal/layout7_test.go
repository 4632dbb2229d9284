package journal

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/mpm-dev/mpm/internal/event"
	"github.com/mpm-dev/mpm/internal/store"
)

// TestOpenLayout6Fixture: a journal written by layout 6
// (testdata/journal-v6.db, written by the code of layout 6: the events of
// journal-v3.payloads with keys key-N, one a second from 2026-11-30 10:00
// UTC, events 1-3 a frame each, the rest in blocks of 16, indexed
// detail=column) opens as today's layout without a rewrite: its rows keep
// their text, its index stays detail=column; its events read back byte for
// byte with their fields, by session too, its keys are found, it is
// searchable; new events are stored and read back the same, before and
// after a reopen, and retention goes through old and new rows.
func TestOpenLayout6Fixture(t *testing.T) {
	testOpenFixture(t, "journal-v6.db", 6, false, searchColumn)
}

// TestOpenLayout7Fixture: the same of a journal written by layout 7
// (testdata/journal-v7.db, written the same way by the code of 74bf350:
// numbered names, its index detail=none with the unicode61 tokenizer),
// which keeps its numbered rows and its unicode61 index.
func TestOpenLayout7Fixture(t *testing.T) { testOpenFixture(t, "journal-v7.db", 7, true, searchNone) }

func testOpenFixture(t *testing.T, fixture string, layout int, numbered bool, kind searchKind) {
	dir := t.TempDir()
	head, err := os.ReadFile(filepath.Join("testdata", fixture))
	if err != nil || len(head) < 64 || int(binary.BigEndian.Uint32(head[60:])) != layout {
		t.Fatalf("%s is not a journal of layout %d (%v)", fixture, layout, err)
	}
	lines := copyFixture(t, fixture, dir)
	j := openT(t, dir, Options{})
	var v int
	if err := j.w.QueryRow("PRAGMA user_version").Scan(&v); err != nil || v != schemaVersion {
		t.Fatalf("layout %d (%v), want %d", v, err, schemaVersion)
	}
	if j.numbered != numbered || j.search != kind {
		t.Fatalf("numbered %v, search kind %d: want %v, %d kept", j.numbered, j.search, numbered, kind)
	}
	var want []*event.Event
	for _, l := range lines {
		ev, err := event.Parse(l, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, ev)
	}
	check := func(j *Journal, want []*event.Event) {
		t.Helper()
		got, err := j.Read(0, uint64(len(want)), store.Filter{}, 0)
		if err != nil || len(got) != len(want) {
			t.Fatalf("read %d of %d events: %v", len(got), len(want), err)
		}
		for i, w := range want {
			g := got[i]
			if !bytes.Equal(g.Payload, w.Payload) || g.SessionID != w.SessionID || g.Name != w.Name || g.Tool != w.Tool ||
				g.ToolUseID != w.ToolUseID || g.Cwd != w.Cwd || g.TranscriptPath != w.TranscriptPath || g.Reason != w.Reason {
				t.Fatalf("event %d reads back as %+v, want the fields of\n%s", i+1, g, w.Payload)
			}
		}
		// by session, each event once, in order
		bySession := map[string][]uint64{}
		for i, w := range want {
			bySession[w.SessionID] = append(bySession[w.SessionID], uint64(i+1))
		}
		for id, seqs := range bySession {
			evs, err := j.Page(0, uint64(len(want)), store.Filter{Sessions: []string{id}}, 0, 1<<30)
			if err != nil {
				t.Fatal(err)
			}
			got := []uint64{}
			for _, ev := range evs {
				got = append(got, ev.Seq)
			}
			if !reflect.DeepEqual(got, seqs) {
				t.Fatalf("session %s: seqs %v, want %v", id, got, seqs)
			}
		}
	}
	check(j, want)
	if seq, ok := j.LookupKey("key-7"); !ok || seq != 7 {
		t.Errorf("key-7: %d %v, want 7", seq, ok)
	}
	var hist string
	if err := j.r.QueryRow(`SELECT session_id || ' ' || event FROM history WHERE seq = 1`).Scan(&hist); err != nil || hist != want[0].SessionID+" "+want[0].Name {
		t.Errorf("the history view says %q (%v)", hist, err)
	}
	hits, err := j.Search(store.SearchQuery{Query: "event:Notification"})
	if err != nil || len(hits) == 0 {
		t.Fatalf("old events not searchable: %v %v", hits, err)
	}
	for _, h := range hits {
		if want[h.Seq-1].Name != "Notification" {
			t.Errorf("hit %d is a %s", h.Seq, want[h.Seq-1].Name)
		}
	}

	// new events: rows of text too (the table's columns are)
	next := j.LastSeq() + 1
	ev := mkEvent(t, next, "sess-new", "PreToolUse", "Bash", "t1", "key-new", time.Now(), 100)
	ev2 := mkEvent(t, next+1, want[0].SessionID, "SessionEnd", "", "", "", time.Now(), 100)
	if err := j.Append([]*event.Event{ev, ev2}); err != nil {
		t.Fatal(err)
	}
	want = append(want, ev, ev2)
	check(j, want)
	if seq, ok := j.LookupKey("key-new"); !ok || seq != next {
		t.Errorf("key-new: %d %v, want %d", seq, ok, next)
	}
	if hits, err := j.Search(store.SearchQuery{Query: "tool:Bash", Session: "sess-new"}); err != nil || !reflect.DeepEqual(hitSeqs(hits), []uint64{next}) {
		t.Errorf("new event: hits %v (%v), want [%d]", hitSeqs(hits), err, next)
	}
	j.Close()
	j2 := openT(t, dir, Options{})
	check(j2, want)
	j2.opts.RetainEvents = 10
	if err := j2.EnforceRetention(); err != nil {
		t.Fatal(err)
	}
	got, err := j2.Read(0, next+1, store.Filter{}, 0)
	if err != nil || len(got) != 10 || !bytes.Equal(got[9].Payload, ev2.Payload) || got[9].SessionID != ev2.SessionID {
		t.Fatalf("after retention: %d events (%v)", len(got), err)
	}
	if sum, _ := storedSizes(t, j2); sum != j2.Bytes() {
		t.Errorf("accounted %d bytes, the rows say %d", j2.Bytes(), sum)
	}
}

// TestNumberedNames: a new journal's rows hold the session id, event and
// tool names as numbers; the events read back with their names, by
// session, after a reopen; a session's name goes with its last event
// (retention), and a later event of that session gets a new number and
// reads back the same; the names of events and tools stay.
func TestNumberedNames(t *testing.T) {
	dir := t.TempDir()
	j := openT(t, dir, Options{})
	if !j.numbered {
		t.Fatal("a new journal's rows are not numbered")
	}
	now := time.Now()
	var evs []*event.Event
	for s := uint64(1); s <= 6; s++ {
		session, tool := "sess-a", "Bash"
		if s > 3 {
			session, tool = "sess-b", ""
		}
		evs = append(evs, mkEvent(t, s, session, "PreToolUse", tool, "t", "", now, 10))
	}
	if err := j.Append(evs); err != nil {
		t.Fatal(err)
	}
	check := func(j *Journal, want []*event.Event) {
		t.Helper()
		got, err := j.Read(0, 100, store.Filter{}, 0)
		if err != nil || len(got) != len(want) {
			t.Fatalf("read %d of %d (%v)", len(got), len(want), err)
		}
		for i, w := range want {
			if g := got[i]; g.SessionID != w.SessionID || g.Name != w.Name || g.Tool != w.Tool || !bytes.Equal(g.Wire(), w.Wire()) {
				t.Fatalf("event %d reads back as %+v, want %+v", w.Seq, g, w)
			}
		}
		for _, id := range []string{"sess-a", "sess-b", "sess-none"} {
			got, err := j.Tail(0, 100, store.Filter{Sessions: []string{id}}, 100)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, w := range want {
				if w.SessionID == id {
					n++
				}
			}
			if len(got) != n {
				t.Errorf("session %s: %d events, want %d", id, len(got), n)
			}
		}
	}
	check(j, evs)
	var typ string
	if err := j.r.QueryRow(`SELECT typeof(session_id) || typeof(event) || typeof(tool) FROM events WHERE seq = 1`).Scan(&typ); err != nil || typ != "integerintegerinteger" {
		t.Fatalf("row 1 holds %q (%v), want numbers", typ, err)
	}
	names := func(j *Journal) []string {
		t.Helper()
		var out []string
		rows, err := j.r.Query(`SELECT s FROM names ORDER BY n`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var s string
			rows.Scan(&s)
			out = append(out, s)
		}
		return out
	}
	if got := names(j); !reflect.DeepEqual(got, []string{"sess-a", "PreToolUse", "Bash", "sess-b"}) {
		t.Errorf("names %q", got)
	}
	var hist string
	if err := j.r.QueryRow(`SELECT group_concat(seq || ' ' || session_id || ' ' || event || ' ' || tool, ', ') FROM (SELECT * FROM history ORDER BY seq DESC LIMIT 2)`).Scan(&hist); err != nil ||
		hist != "6 sess-b PreToolUse , 5 sess-b PreToolUse " {
		t.Errorf("the history view says %q (%v)", hist, err)
	}
	j.Close()
	j = openT(t, dir, Options{})
	check(j, evs)
	j.opts.RetainEvents = 3
	if err := j.EnforceRetention(); err != nil {
		t.Fatal(err)
	}
	evs = evs[3:]
	if got := names(j); !reflect.DeepEqual(got, []string{"PreToolUse", "Bash", "sess-b"}) {
		t.Errorf("after retention, names %q: want sess-a's gone", got)
	}
	if _, ok := j.names.lookup(kindSession, "sess-a"); ok {
		t.Error("sess-a's number is still in memory")
	}
	ev := mkEvent(t, 7, "sess-a", "Stop", "", "", "", now, 10)
	if err := j.Append([]*event.Event{ev}); err != nil {
		t.Fatal(err)
	}
	evs = append(evs, ev)
	j.opts.RetainEvents = 0
	check(j, evs)
	if hits, err := j.Search(store.SearchQuery{Query: "event:Stop", Session: "sess-a"}); err != nil || !reflect.DeepEqual(hitSeqs(hits), []uint64{7}) {
		t.Errorf("search in sess-a: %v (%v), want [7]", hitSeqs(hits), err)
	}
	j.Close()
	check(openT(t, dir, Options{}), evs)
}

// TestHashedKeys: a new journal stores its idempotency keys hashed
// (key_hashes, no keys table); they are found (one and many, before and
// after a reopen, by the filter built from the hashes); retention drops
// the keys of deleted events once they are past the key window and an
// eighth of the keys or more may go, and keeps the others.
func TestHashedKeys(t *testing.T) {
	dir := t.TempDir()
	clock := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	var clockMu sync.Mutex // the retention loop reads the clock too
	now := func() time.Time {
		clockMu.Lock()
		defer clockMu.Unlock()
		return clock
	}
	j := openT(t, dir, Options{KeyWindow: time.Hour, now: now})
	if !j.hashedKeys {
		t.Fatal("a new journal's keys are not hashed")
	}
	if old, _ := hasTable(context.Background(), j.r, "keys"); old {
		t.Error("a new journal has the keys table of the layouts before 7")
	}
	var evs []*event.Event
	for s := uint64(1); s <= 100; s++ {
		evs = append(evs, mkEvent(t, s, "a", "Stop", "", "", "k"+uitoa(s), clock.Add(time.Duration(s)*time.Second), 0))
	}
	if err := j.Append(evs); err != nil {
		t.Fatal(err)
	}
	keys := func(j *Journal, from, to uint64) (found []uint64) {
		t.Helper()
		var ks []string
		for s := from; s <= to; s++ {
			ks = append(ks, "k"+uitoa(s))
		}
		got, err := j.LookupKeys(append(ks, "fresh"))
		if err != nil {
			t.Fatal(err)
		}
		for s := from; s <= to; s++ {
			seq, ok := got["k"+uitoa(s)]
			one, ok1 := j.LookupKey("k" + uitoa(s))
			if ok != ok1 || seq != one || ok && seq != s {
				t.Fatalf("k%d: LookupKeys %d %v, LookupKey %d %v", s, seq, ok, one, ok1)
			}
			if ok {
				found = append(found, s)
			}
		}
		if _, ok := got["fresh"]; ok {
			t.Fatal("a fresh key was found")
		}
		return found
	}
	if got := keys(j, 1, 100); len(got) != 100 {
		t.Fatalf("found %d of 100 keys", len(got))
	}
	j.Close()
	j = openT(t, dir, Options{KeyWindow: time.Hour, now: now})
	waitKeyFilter(t, j)
	if got := j.kf.maybeStored([]string{"k1", "k100"}); len(got) != 2 {
		t.Fatalf("the filter built from the hashes ruled out %v", got)
	}
	if got := keys(j, 1, 100); len(got) != 100 {
		t.Fatalf("after a reopen, found %d of 100 keys", len(got))
	}
	retain := func(events int64, at time.Time) {
		t.Helper()
		clockMu.Lock()
		clock = at
		clockMu.Unlock()
		j.opts.RetainEvents = events
		if err := j.EnforceRetention(); err != nil {
			t.Fatal(err)
		}
	}
	base := clock
	retain(95, base.Add(2*time.Hour)) // 5 of 100 may go: fewer than an eighth, kept for now
	if got := keys(j, 1, 100); len(got) != 100 {
		t.Fatalf("found %d of 100 keys, want them kept until an eighth may go", len(got))
	}
	retain(50, base.Add(30*time.Minute)) // 50 events gone, none past the window (received after base - 30 min)
	if got := keys(j, 1, 100); len(got) != 100 {
		t.Fatalf("found %d of 100 keys, want the keys inside the window kept", len(got))
	}
	retain(50, base.Add(2*time.Hour)) // past the window
	if got := keys(j, 1, 100); !reflect.DeepEqual(got, keys(j, 51, 100)) || len(got) != 50 {
		t.Fatalf("found keys %v, want 51-100", got)
	}
	var marks int
	if err := j.r.QueryRow(`SELECT COUNT(*) FROM key_marks`).Scan(&marks); err != nil || marks > 1 {
		t.Errorf("%d key marks left (%v), want the used ones gone", marks, err)
	}
}
