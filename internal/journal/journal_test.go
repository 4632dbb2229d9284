package journal

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mpm-dev/mpm/internal/event"
	"github.com/mpm-dev/mpm/internal/sessions"
	"github.com/mpm-dev/mpm/internal/store"
)

// appendScript stores 30 events over sessions a, b and c in three batches,
// with keys, tool pairs and an ended session, and returns them.
func appendScript(t *testing.T, j *Journal, base time.Time) []*event.Event {
	t.Helper()
	var all []*event.Event
	seq := j.LastSeq()
	next := func(session, name, tool, id string) *event.Event {
		seq++
		ev := mkEvent(t, seq, session, name, tool, id, "key-"+session+"-"+itoa(seq), base.Add(time.Duration(seq)*time.Millisecond), int(seq%7)*100)
		all = append(all, ev)
		return ev
	}
	for batch := 0; batch < 3; batch++ {
		var evs []*event.Event
		for _, s := range []string{"a", "b", "c"} {
			evs = append(evs, next(s, "UserPromptSubmit", "", ""))
			evs = append(evs, next(s, "PreToolUse", "Bash", s+"-tu-"+itoa(uint64(batch))))
			if s != "b" {
				evs = append(evs, next(s, "PostToolUse", "Bash", s+"-tu-"+itoa(uint64(batch))))
			}
		}
		evs = append(evs, next("c", "Notification", "", ""))
		if err := j.Append(evs); err != nil {
			t.Fatalf("append batch %d: %v", batch, err)
		}
	}
	if err := j.Append([]*event.Event{next("a", "SessionEnd", "", "")}); err != nil {
		t.Fatal(err)
	}
	return all
}

func itoa(n uint64) string { return uitoa(n) }

func uitoa(n uint64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// trackerInfos folds evs the way the daemon's in-memory tracker does.
func trackerInfos(evs []*event.Event) []sessions.Info {
	tr := sessions.NewTracker(nil)
	tr.Observe(evs)
	return tr.List()
}

func TestAppendReadTailLookupAndReopen(t *testing.T) {
	dir := t.TempDir()
	j := openT(t, dir, Options{})
	if j.LastSeq() != 0 || j.OldestSeq() != 1 || j.Kind() != "journal" || j.Note() != "" {
		t.Fatalf("fresh journal: last %d oldest %d kind %q note %q", j.LastSeq(), j.OldestSeq(), j.Kind(), j.Note())
	}
	base := time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC)
	all := appendScript(t, j, base)
	last := all[len(all)-1].Seq

	check := func(j *Journal, when string) {
		t.Helper()
		if j.LastSeq() != last || j.OldestSeq() != 1 {
			t.Fatalf("%s: last %d oldest %d, want %d and 1", when, j.LastSeq(), j.OldestSeq(), last)
		}
		got, err := j.Read(0, last, store.Filter{}, 0)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(wires(got), wires(all)) {
			t.Fatalf("%s: Read wire bytes differ:\n%s\nwant\n%s", when, wires(got), wires(all))
		}
		// paging, limit and upto
		got, _ = j.Read(5, 20, store.Filter{}, 4)
		if want := rangeSeqs(6, 9); !reflect.DeepEqual(seqs(got), want) {
			t.Fatalf("%s: Read(5,20,4) = %v, want %v", when, seqs(got), want)
		}
		got, _ = j.Read(15, 17, store.Filter{}, 0)
		if want := rangeSeqs(16, 17); !reflect.DeepEqual(seqs(got), want) {
			t.Fatalf("%s: Read(15,17) = %v, want %v", when, seqs(got), want)
		}
		// filters: one session, two sessions, duplicates, unknown
		for _, f := range [][]string{{"b"}, {"a", "c"}, {"c", "a", "c"}, {"nope"}, {"b", "nope"}} {
			var want []*event.Event
			for _, ev := range all {
				if (store.Filter{Sessions: f}).Match(ev) && ev.Seq > 3 {
					want = append(want, ev)
				}
			}
			got, _ := j.Read(3, last, store.Filter{Sessions: f}, 0)
			if !bytes.Equal(wires(got), wires(want)) {
				t.Fatalf("%s: Read filter %v = %v, want %v", when, f, seqs(got), seqs(want))
			}
			if len(want) > 5 {
				got, _ = j.Read(3, last, store.Filter{Sessions: f}, 5)
				if !reflect.DeepEqual(seqs(got), seqs(want[:5])) {
					t.Fatalf("%s: Read filter %v limit 5 = %v, want %v", when, f, seqs(got), seqs(want[:5]))
				}
				got, _ = j.Tail(3, last, store.Filter{Sessions: f}, 5)
				if !reflect.DeepEqual(seqs(got), seqs(want[len(want)-5:])) {
					t.Fatalf("%s: Tail filter %v 5 = %v, want %v", when, f, seqs(got), seqs(want[len(want)-5:]))
				}
			}
		}
		got, _ = j.Tail(0, last-1, store.Filter{}, 3)
		if want := rangeSeqs(last-3, last-1); !reflect.DeepEqual(seqs(got), want) {
			t.Fatalf("%s: Tail = %v, want %v", when, seqs(got), want)
		}
		got, _ = j.Tail(last-2, last, store.Filter{}, 10)
		if want := rangeSeqs(last-1, last); !reflect.DeepEqual(seqs(got), want) {
			t.Fatalf("%s: Tail after = %v, want %v", when, seqs(got), want)
		}
		for _, ev := range all {
			if seq, ok := j.LookupKey(ev.Key); !ok || seq != ev.Seq {
				t.Fatalf("%s: LookupKey(%s) = %d %v, want %d", when, ev.Key, seq, ok, ev.Seq)
			}
		}
		if _, ok := j.LookupKey("never-sent"); ok {
			t.Fatalf("%s: unknown key found", when)
		}
		// The batched lookup agrees, across chunk boundaries.
		ks := []string{"never-sent"}
		for i := 0; i < 3; i++ {
			for _, ev := range all {
				ks = append(ks, ev.Key)
			}
		}
		found, err := j.LookupKeys(ks)
		if err != nil {
			t.Fatal(err)
		}
		if len(found) != len(all) {
			t.Fatalf("%s: LookupKeys found %d keys, want %d", when, len(found), len(all))
		}
		for _, ev := range all {
			if found[ev.Key] != ev.Seq {
				t.Fatalf("%s: LookupKeys[%s] = %d, want %d", when, ev.Key, found[ev.Key], ev.Seq)
			}
		}
		infos, err := j.Sessions()
		if err != nil {
			t.Fatal(err)
		}
		want := trackerInfos(all)
		gotJSON, _ := json.Marshal(infos)
		wantJSON, _ := json.Marshal(want)
		if !bytes.Equal(gotJSON, wantJSON) {
			t.Fatalf("%s: Sessions\n%s\nwant\n%s", when, gotJSON, wantJSON)
		}
		var b sessions.Info
		for _, in := range infos {
			if in.SessionID == "b" {
				b = in
			}
		}
		if len(b.OpenTools) != 3 || b.OpenTools[0].ToolUseID != "b-tu-0" {
			t.Fatalf("%s: session b open tools %+v, want the 3 unpaired PreToolUse", when, b.OpenTools)
		}
	}
	check(j, "before reopen")
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	j2 := openT(t, dir, Options{})
	check(j2, "after reopen")

	// seq continues; a gap or reuse is refused
	if err := j2.Append([]*event.Event{mkEvent(t, last, "a", "Stop", "", "", "", base, 0)}); err == nil {
		t.Fatal("Append accepted a reused seq")
	}
	if err := j2.Append([]*event.Event{mkEvent(t, last+2, "a", "Stop", "", "", "", base, 0)}); err == nil {
		t.Fatal("Append accepted a gap")
	}
	if err := j2.Append([]*event.Event{mkEvent(t, last+1, "a", "Stop", "", "", "", base, 0)}); err != nil {
		t.Fatal(err)
	}
	if j2.LastSeq() != last+1 {
		t.Fatalf("last %d, want %d", j2.LastSeq(), last+1)
	}
}

func TestRetentionByCount(t *testing.T) {
	dir := t.TempDir()
	c := deleteChunk
	t.Cleanup(func() { deleteChunk = c }) // after the journal's Close
	deleteChunk = 100                     // several delete transactions
	j := openT(t, dir, Options{RetainEvents: 700, KeyWindow: time.Nanosecond})
	now := time.Now()
	var evs []*event.Event
	for s := uint64(1); s <= 1200; s++ {
		evs = append(evs, mkEvent(t, s, "s"+uitoa(s%3), "Notification", "", "", "k"+uitoa(s), now, 10))
		if len(evs) == 100 {
			if err := j.Append(evs); err != nil {
				t.Fatal(err)
			}
			evs = nil
		}
	}
	if err := j.EnforceRetention(); err != nil {
		t.Fatal(err)
	}
	if j.OldestSeq() != 501 || j.LastSeq() != 1200 {
		t.Fatalf("oldest %d last %d, want 501 and 1200", j.OldestSeq(), j.LastSeq())
	}
	got, _ := j.Read(0, 1200, store.Filter{}, 0)
	if len(got) != 700 || got[0].Seq != 501 {
		t.Fatalf("read %d events from %d, want 700 from 501", len(got), got[0].Seq)
	}
	// keys go with their events once past the key window
	if _, ok := j.LookupKey("k500"); ok {
		t.Fatal("key of a dropped event is still remembered past the key window")
	}
	if seq, ok := j.LookupKey("k501"); !ok || seq != 501 {
		t.Fatal("key of a retained event was dropped")
	}
	infos, _ := j.Sessions()
	if len(infos) != 3 {
		t.Fatalf("sessions %d, want 3 (summaries outlive their events)", len(infos))
	}
	j.Close()
	j2 := openT(t, dir, Options{})
	if j2.OldestSeq() != 501 || j2.LastSeq() != 1200 || j2.Bytes() != j.Bytes() {
		t.Fatalf("after reopen: oldest %d last %d bytes %d, want 501, 1200, %d", j2.OldestSeq(), j2.LastSeq(), j2.Bytes(), j.Bytes())
	}
}

func TestRetentionKeepsKeysForTheKeyWindow(t *testing.T) {
	j := openT(t, t.TempDir(), Options{RetainEvents: 1})
	now := time.Now()
	if err := j.Append([]*event.Event{
		mkEvent(t, 1, "a", "Stop", "", "", "k1", now, 0),
		mkEvent(t, 2, "a", "Stop", "", "", "k2", now, 0),
	}); err != nil {
		t.Fatal(err)
	}
	if err := j.EnforceRetention(); err != nil {
		t.Fatal(err)
	}
	if j.OldestSeq() != 2 {
		t.Fatalf("oldest %d, want 2", j.OldestSeq())
	}
	if seq, ok := j.LookupKey("k1"); !ok || seq != 1 {
		t.Fatal("a key inside the key window was dropped with its event; a late spool drain would duplicate it")
	}
}

func TestRetentionByAgeDropsEverythingButSeqContinues(t *testing.T) {
	dir := t.TempDir()
	clock := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	var clockMu sync.Mutex // the retention loop reads the clock too
	j := openT(t, dir, Options{RetainAge: time.Hour, now: func() time.Time {
		clockMu.Lock()
		defer clockMu.Unlock()
		return clock
	}})
	old := clock.Add(-2 * time.Hour)
	if err := j.Append([]*event.Event{
		mkEvent(t, 1, "old", "SessionStart", "", "", "", old, 0),
		mkEvent(t, 2, "old", "Stop", "", "", "", old.Add(time.Minute), 0),
		mkEvent(t, 3, "new", "SessionStart", "", "", "", clock.Add(-time.Minute), 0),
	}); err != nil {
		t.Fatal(err)
	}
	if err := j.EnforceRetention(); err != nil {
		t.Fatal(err)
	}
	if j.OldestSeq() != 3 {
		t.Fatalf("oldest %d, want 3", j.OldestSeq())
	}
	infos, _ := j.Sessions()
	if len(infos) != 1 || infos[0].SessionID != "new" {
		t.Fatalf("sessions %+v, want only the one active within the age limit", infos)
	}
	clockMu.Lock()
	clock = clock.Add(2 * time.Hour)
	clockMu.Unlock()
	if err := j.EnforceRetention(); err != nil {
		t.Fatal(err)
	}
	if j.OldestSeq() != 4 || j.LastSeq() != 3 || j.Bytes() != 0 {
		t.Fatalf("all dropped: oldest %d last %d bytes %d, want 4, 3, 0", j.OldestSeq(), j.LastSeq(), j.Bytes())
	}
	j.Close()
	j2 := openT(t, dir, Options{})
	if j2.OldestSeq() != 4 || j2.LastSeq() != 3 {
		t.Fatalf("after reopen: oldest %d last %d, want 4 and 3: seq must never go back", j2.OldestSeq(), j2.LastSeq())
	}
	if err := j2.Append([]*event.Event{mkEvent(t, 4, "x", "Stop", "", "", "", clock, 0)}); err != nil {
		t.Fatal(err)
	}
}

func TestRetentionByBytes(t *testing.T) {
	j := openT(t, t.TempDir(), Options{RetainBytes: 100_000})
	now := time.Now()
	var evs []*event.Event
	for s := uint64(1); s <= 500; s++ {
		evs = append(evs, mkEvent(t, s, "a", "Notification", "", "", "", now, 1000))
	}
	if err := j.Append(evs); err != nil {
		t.Fatal(err)
	}
	total, biggest := storedSizes(t, j)
	if j.Bytes() != total || total < 500*750 {
		t.Fatalf("bytes %d, want the stored rows' %d (at least 375000: the padding does not compress)", j.Bytes(), total)
	}
	if err := j.EnforceRetention(); err != nil {
		t.Fatal(err)
	}
	if j.Bytes() > 100_000 || j.Bytes() < 100_000-2*biggest {
		t.Fatalf("bytes after retention %d, want just under 100000", j.Bytes())
	}
	got, _ := j.Read(0, 500, store.Filter{}, 0)
	sum, _ := storedSizes(t, j)
	if sum != j.Bytes() || got[len(got)-1].Seq != 500 || got[0].Seq != j.OldestSeq() || len(got) != int(500-j.OldestSeq()+1) {
		t.Fatalf("retained %d events (%d..) of %d bytes, accounted %d", len(got), got[0].Seq, sum, j.Bytes())
	}
}

// storedSizes returns the sum of the stored events' sizes (what they
// count against --retain-bytes) and the largest.
func storedSizes(t testing.TB, j *Journal) (sum, biggest int64) {
	t.Helper()
	if err := j.waitCommitted(); err != nil {
		t.Fatal(err)
	}
	if err := j.r.QueryRow(`SELECT COALESCE(SUM(size), 0), COALESCE(MAX(size), 0) FROM events`).Scan(&sum, &biggest); err != nil {
		t.Fatal(err)
	}
	return sum, biggest
}

func TestCorruptFileIsMovedAsideAndAFreshOneStarts(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "journal.db")
	garbage := bytes.Repeat([]byte("this is not a database "), 500)
	if err := os.WriteFile(path, garbage, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+"-wal", []byte("junk wal"), 0o600); err != nil {
		t.Fatal(err)
	}
	j := openT(t, dir, Options{})
	if !strings.Contains(j.Note(), "moved to") {
		t.Fatalf("note %q, want it to say the file was moved", j.Note())
	}
	moved, _ := filepath.Glob(path + ".corrupt-*[0-9]Z")
	if len(moved) != 1 {
		t.Fatalf("moved files %v, want the damaged journal", moved)
	}
	if b, _ := os.ReadFile(moved[0]); !bytes.Equal(b, garbage) {
		t.Fatalf("%s does not hold the original bytes", moved[0])
	}
	if b, _ := os.ReadFile(moved[0] + "-wal"); string(b) != "junk wal" {
		t.Fatalf("the damaged journal's -wal was not kept: %q", b)
	}
	if err := j.Append([]*event.Event{mkEvent(t, 1, "a", "Stop", "", "", "", time.Now(), 0)}); err != nil {
		t.Fatalf("fresh journal does not work: %v", err)
	}
}

// damageJournal fills a journal in dir with 2000 events, closes it and
// scribbles over pages in the middle (events and index pages; the schema
// and meta tables sit in the first pages).
func damageJournal(t *testing.T, dir string, fromPage, pages int) string {
	t.Helper()
	j := openT(t, dir, Options{})
	var evs []*event.Event
	for s := uint64(1); s <= 2000; s++ {
		evs = append(evs, mkEvent(t, s, "a", "Notification", "", "", "k"+uitoa(s), time.Now(), 300))
	}
	if err := j.Append(evs); err != nil {
		t.Fatal(err)
	}
	j.Close()
	path := j.Path()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := f.Stat()
	if fi.Size() < 100*4096 {
		t.Fatalf("journal only %d bytes", fi.Size())
	}
	if _, err := f.WriteAt(bytes.Repeat([]byte{0xA5}, pages*4096), int64(fromPage)*4096); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return path
}

func TestDamagedPagesAreDetectedAndSeqIsSalvaged(t *testing.T) {
	dir := t.TempDir()
	path := damageJournal(t, dir, 50, 40)
	j2 := openT(t, dir, Options{})
	if j2.Note() == "" {
		t.Fatal("damaged journal opened without a note")
	}
	if j2.LastSeq() != 2000 || j2.OldestSeq() != 2001 {
		t.Fatalf("fresh journal last %d oldest %d, want to continue after 2000", j2.LastSeq(), j2.OldestSeq())
	}
	if moved, _ := filepath.Glob(path + ".corrupt-*[0-9]Z"); len(moved) != 1 {
		t.Fatalf("moved files %v, want the damaged journal", moved)
	}
}

func TestConcurrentReadsDuringAppendAndRetention(t *testing.T) {
	j := openT(t, t.TempDir(), Options{RetainEvents: 500})
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for r := 0; r < 3; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				last := j.LastSeq()
				evs, err := j.Read(0, last, store.Filter{}, 200)
				if err != nil {
					t.Error(err)
					return
				}
				for i := 1; i < len(evs); i++ {
					if evs[i].Seq != evs[i-1].Seq+1 {
						t.Errorf("gap in read: %d then %d", evs[i-1].Seq, evs[i].Seq)
						return
					}
				}
				j.LookupKey("k1")
				j.Sessions()
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if err := j.EnforceRetention(); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	now := time.Now()
	for b := uint64(0); b < 20; b++ {
		var evs []*event.Event
		for i := uint64(1); i <= 50; i++ {
			s := b*50 + i
			evs = append(evs, mkEvent(t, s, "a", "Notification", "", "", "k"+uitoa(s), now, 10))
		}
		if err := j.Append(evs); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
}

func TestLargeDamagedJournalIsCheckedInTheBackground(t *testing.T) {
	dir := t.TempDir()
	path := damageJournal(t, dir, 120, 1) // a leaf that Open does not read
	old := quickCheckMaxBytes
	t.Cleanup(func() { quickCheckMaxBytes, checkGate = old, nil }) // after the journals' Close
	quickCheckMaxBytes = 0
	// The check waits until the note at open is read: on a small file it
	// could otherwise report the damage first (seen on a loaded machine).
	checkGate = make(chan struct{})
	j := openT(t, dir, Options{})
	if j.Note() != "" {
		t.Fatalf("note at open %q: the damage should only be found by the background check", j.Note())
	}
	close(checkGate)
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(j.Note(), "damaged") {
		if time.Now().After(deadline) {
			t.Fatalf("background check did not report the damage; note %q", j.Note())
		}
		time.Sleep(10 * time.Millisecond)
	}
	j.Close()
	if _, err := os.Stat(path + markerSuffix); err != nil {
		t.Fatalf("no marker for the next start: %v", err)
	}
	j2 := openT(t, dir, Options{})
	if !strings.Contains(j2.Note(), "moved to") || j2.LastSeq() != 2000 {
		t.Fatalf("next start: note %q last %d, want the file moved aside and seq continued after 2000", j2.Note(), j2.LastSeq())
	}
	if moved, _ := filepath.Glob(path + ".corrupt-*[0-9]Z"); len(moved) != 1 {
		t.Fatalf("moved files %v, want the damaged journal", moved)
	}
}
