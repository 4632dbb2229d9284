package journal

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/mpm-dev/mpm/internal/event"
	"github.com/mpm-dev/mpm/internal/store"
)

// waitForReader waits until a reader is blocked in waitCommitted (a
// condition, polled: not a sleep for order).
func waitForReader(t *testing.T, j *Journal) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for j.waiting() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no reader waited for the committer within 30s")
		}
		time.Sleep(time.Millisecond)
	}
}

// TestIngestLogReadYourWrites: with the committer held back, events that
// Append accepted are not yet in SQLite; every read entry point waits for
// them, and the idempotency keys are found at once.
func TestIngestLogReadYourWrites(t *testing.T) {
	j := openT(t, t.TempDir(), Options{})
	base := time.Now()
	readers := []struct {
		name string
		read func(seq uint64) (bool, error)
	}{
		{"Read", func(seq uint64) (bool, error) {
			evs, err := j.Read(seq-1, seq, store.Filter{}, 0)
			return len(evs) == 1 && evs[0].Seq == seq, err
		}},
		{"Page", func(seq uint64) (bool, error) {
			evs, err := j.Page(0, seq, store.Filter{Sessions: []string{"ryw"}}, 0, 1<<20)
			return len(evs) > 0 && evs[len(evs)-1].Seq == seq, err
		}},
		{"Tail", func(seq uint64) (bool, error) {
			evs, err := j.Tail(0, 1<<62, store.Filter{}, 1)
			return len(evs) == 1 && evs[0].Seq == seq, err
		}},
		{"TailStart", func(seq uint64) (bool, error) {
			from, err := j.TailStart(0, 1<<62, store.Filter{}, 1)
			return from == seq-1, err
		}},
		{"Search", func(seq uint64) (bool, error) {
			hits, err := j.Search(store.SearchQuery{Query: "PreToolUse", Session: "ryw", Limit: 1000})
			return len(hits) > 0 && hits[0].Seq == seq, err
		}},
		{"Sessions", func(seq uint64) (bool, error) {
			ss, err := j.Sessions()
			return len(ss) > 0 && ss[0].SessionID == "ryw" && ss[0].LastSeq == seq, err
		}},
		{"Bytes", func(seq uint64) (bool, error) {
			return j.Bytes() > 0 && j.last.Load() == seq, nil
		}},
	}
	for _, r := range readers {
		t.Run(r.name, func(t *testing.T) {
			j.setHold(true)
			seq := j.LastSeq() + 1
			ev := mkEvent(t, seq, "ryw", "PreToolUse", "Bash", "t"+uitoa(seq), "key-"+uitoa(seq), base, 50)
			if err := j.Append([]*event.Event{ev}); err != nil {
				t.Fatal(err)
			}
			if j.LastSeq() != seq || j.last.Load() == seq {
				t.Fatalf("accepted %d, committed %d: want %d accepted and not committed", j.LastSeq(), j.last.Load(), seq)
			}
			// The key is found while the event is only in the log.
			found, err := j.LookupKeys([]string{"key-" + uitoa(seq), "fresh"})
			if err != nil || len(found) != 1 || found["key-"+uitoa(seq)] != seq {
				t.Fatalf("LookupKeys while held: %v %v", found, err)
			}
			if got, ok := j.LookupKey("key-" + uitoa(seq)); !ok || got != seq {
				t.Fatalf("LookupKey while held: %d %v", got, ok)
			}
			type res struct {
				ok  bool
				err error
			}
			done := make(chan res, 1)
			go func() {
				ok, err := r.read(seq)
				done <- res{ok, err}
			}()
			waitForReader(t, j)
			j.setHold(false)
			got := <-done
			if got.err != nil || !got.ok {
				t.Fatalf("%s after Append: saw the event %v, error %v", r.name, got.ok, got.err)
			}
			// Committed: the key comes from the table now.
			if found, err := j.LookupKeys([]string{"key-" + uitoa(seq)}); err != nil || found["key-"+uitoa(seq)] != seq {
				t.Fatalf("LookupKeys after commit: %v %v", found, err)
			}
		})
	}
}

// logRecordsFile writes a segment holding one record per batch and returns
// each record's end offset.
func logRecordsFile(t *testing.T, path string, batches ...[]*event.Event) []int {
	t.Helper()
	var data []byte
	var ends []int
	for _, b := range batches {
		data = appendRecord(data, b)
		ends = append(ends, len(data))
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return ends
}

func batch(t *testing.T, from, to uint64, marker string) []*event.Event {
	var evs []*event.Event
	for s := from; s <= to; s++ {
		evs = append(evs, mkEvent(t, s, "s"+uitoa(s%2), "PreToolUse", "Bash", "t"+uitoa(s), "k"+marker+uitoa(s), time.Now(), 30+int(s)))
	}
	return evs
}

// TestIngestLogOpen: what open makes of a log left by a crash: records cut
// short at the end, damage in the middle, records superseded by later ones.
func TestIngestLogOpen(t *testing.T) {
	cases := []struct {
		name string
		// damage changes the segment (ends: the records' end offsets).
		damage func(t *testing.T, path string, ends []int)
		// want are the seqs stored after open; torn and damaged the
		// counters; note what Note must say ("" nothing).
		want           []uint64
		torn, damaged  uint64
		note           string
		truncatedTo    int // index of the record end the file is cut to; -1 unchanged
		supersede, bad bool
	}{
		{name: "intact", damage: func(*testing.T, string, []int) {}, want: rangeSeqs(1, 9), truncatedTo: -1},
		{name: "torn in the last record's body", damage: func(t *testing.T, p string, ends []int) {
			os.Truncate(p, int64(ends[2]-7))
		}, want: rangeSeqs(1, 7), torn: 1, truncatedTo: 1},
		{name: "torn in the last record's header", damage: func(t *testing.T, p string, ends []int) {
			os.Truncate(p, int64(ends[1]+5))
		}, want: rangeSeqs(1, 7), torn: 1, truncatedTo: 1},
		{name: "flipped byte in the middle record", damage: func(t *testing.T, p string, ends []int) {
			flip(t, p, ends[0]+40)
		}, want: append(rangeSeqs(1, 5), 8, 9), damaged: 1, note: "seq 6-7 are lost", truncatedTo: -1},
		{name: "flipped length in the middle record", damage: func(t *testing.T, p string, ends []int) {
			flip(t, p, ends[0]+6)
		}, want: append(rangeSeqs(1, 5), 8, 9), damaged: 1, note: "seq 6-7 are lost", truncatedTo: -1},
		{name: "flipped byte in the last record", damage: func(t *testing.T, p string, ends []int) {
			flip(t, p, ends[1]+30)
		}, want: rangeSeqs(1, 7), damaged: 1, note: "may be lost", truncatedTo: -1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			j := openT(t, dir, Options{})
			if err := j.Append(batch(t, 1, 3, "")); err != nil {
				t.Fatal(err)
			}
			if err := j.Close(); err != nil {
				t.Fatal(err)
			}
			if segs, _ := listSegments(j.Path()); len(segs) != 0 {
				t.Fatalf("segments after a clean close: %v, want none", segs)
			}
			// What a kill -9 leaves: records accepted, not committed.
			p := segPath(j.Path(), 7)
			ends := logRecordsFile(t, p, batch(t, 4, 5, ""), batch(t, 6, 7, ""), batch(t, 8, 9, ""))
			c.damage(t, p, ends)
			var logs bytes.Buffer
			j2 := openT(t, dir, Options{Logger: hclog.New(&hclog.LoggerOptions{Output: &logs, Level: hclog.Info})})
			got, err := j2.Read(0, 100, store.Filter{}, 0)
			if err != nil {
				t.Fatal(err)
			}
			if s := seqs(got); !equalSeqs(s, c.want) {
				t.Fatalf("stored seqs %v, want %v\n%s", s, c.want, logs.String())
			}
			for _, ev := range got {
				want := batch(t, ev.Seq, ev.Seq, "")[0]
				if !bytes.Equal(ev.Payload, want.Payload) || ev.SessionID != want.SessionID {
					t.Fatalf("event %d reads back as %s, want %s", ev.Seq, ev.Payload, want.Payload)
				}
			}
			st := j2.LogStats()
			if st.TornTails != c.torn || st.Damaged != c.damaged {
				t.Fatalf("stats %+v, want torn %d damaged %d\n%s", st, c.torn, c.damaged, logs.String())
			}
			note := j2.Note()
			switch {
			case c.note == "" && note != "":
				t.Fatalf("note %q, want none", note)
			case c.note != "" && (!strings.Contains(note, c.note) || !strings.Contains(note, "ingest log")):
				t.Fatalf("note %q, want it to say %q", note, c.note)
			}
			if c.damaged > 0 {
				if kept, _ := filepath.Glob(p + ".damaged-*"); len(kept) != 1 {
					t.Fatalf("damaged copies %v, want one", kept)
				}
				if !strings.Contains(logs.String(), "[ERROR]") {
					t.Fatalf("no ERROR line:\n%s", logs.String())
				}
			}
			if c.torn > 0 {
				if !strings.Contains(logs.String(), "[WARN]") || !strings.Contains(logs.String(), "cut short") {
					t.Fatalf("no WARN about the torn record:\n%s", logs.String())
				}
				if fi, err := os.Stat(p); err != nil || fi.Size() != int64(ends[c.truncatedTo]) {
					t.Fatalf("log after open: %v %v, want it cut to %d", fi, err, ends[c.truncatedTo])
				}
			}
			// The keys of the replayed events deduplicate.
			if found, err := j2.LookupKeys([]string{"k5", "k9"}); err != nil || (contains(c.want, 5) && found["k5"] != 5) {
				t.Fatalf("keys after replay: %v %v", found, err)
			}
			// Seq continues above everything the log held.
			next := j2.LastSeq() + 1
			if next <= c.want[len(c.want)-1] {
				t.Fatalf("next seq %d, want above %d", next, c.want[len(c.want)-1])
			}
			if err := j2.Append(batch(t, next, next, "")); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestIngestLogLaterRecordWins: a record whose write was reported failed
// (its truncation failed too) is followed by a record reusing its seqs;
// the later one is what was acknowledged.
func TestIngestLogLaterRecordWins(t *testing.T) {
	dir := t.TempDir()
	j := openT(t, dir, Options{})
	j.Close()
	p := segPath(j.Path(), 1)
	logRecordsFile(t, p, batch(t, 1, 3, "failed"), batch(t, 1, 2, ""))
	j2 := openT(t, dir, Options{})
	found, err := j2.LookupKeys([]string{"k1", "k2", "kfailed1", "kfailed3"})
	if err != nil {
		t.Fatal(err)
	}
	if found["k1"] != 1 || found["k2"] != 2 || found["kfailed1"] != 0 || found["kfailed3"] != 3 {
		t.Fatalf("keys %v: want k1, k2 from the later record and seq 3 from the earlier", found)
	}
}

// TestIngestLogSegmentsAreTrimmed: a long run rotates segments at
// segmentMax and a complete checkpoint removes the committed ones; Close
// leaves no log behind; the database alone reopens with every event.
func TestIngestLogSegmentsAreTrimmed(t *testing.T) {
	noTicks(t)
	sm := segmentMax
	segmentMax = 8 << 10
	t.Cleanup(func() { segmentMax = sm })
	dir := t.TempDir()
	j := openT(t, dir, Options{Fsync: true})
	for b := 0; b < 40; b++ {
		from := j.LastSeq() + 1
		if err := j.Append(batch(t, from, from+4, "")); err != nil {
			t.Fatal(err)
		}
	}
	segs, _ := listSegments(j.Path())
	if len(segs) < 3 {
		t.Fatalf("%d segments for 200 events at %d bytes a segment, want several", len(segs), segmentMax)
	}
	if err := j.waitCommitted(); err != nil {
		t.Fatal(err)
	}
	// A checkpoint is complete when no reader holds an old snapshot (the
	// background indexer may): retry until one is.
	var left []int
	for deadline := time.Now().Add(30 * time.Second); ; {
		if err := j.checkpoint(); err != nil {
			t.Fatal(err)
		}
		if left, _ = listSegments(j.Path()); len(left) == 1 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if len(left) != 1 {
		t.Fatalf("segments after a complete checkpoint: %v, want only the active one", left)
	}
	if fi, err := os.Stat(segPath(j.Path(), left[0])); err != nil || fi.Size() != 0 {
		t.Fatalf("active segment after the checkpoint: %v %v, want it emptied", fi, err)
	}
	// Appends after the trim go to the emptied segment.
	if err := j.Append(batch(t, 201, 202, "")); err != nil {
		t.Fatal(err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if left, _ := listSegments(j.Path()); len(left) != 0 {
		t.Fatalf("segments after Close: %v", left)
	}
	j2 := openT(t, dir, Options{})
	got, err := j2.Read(0, 1000, store.Filter{}, 0)
	if err != nil || !equalSeqs(seqs(got), rangeSeqs(1, 202)) {
		t.Fatalf("after reopen: %d events, %v", len(got), err)
	}
}

// TestIngestLogAppendAfterCloseFails: a closed journal refuses events.
func TestIngestLogAppendAfterCloseFails(t *testing.T) {
	j := openT(t, t.TempDir(), Options{})
	j.Close()
	if err := j.Append(batch(t, 1, 1, "")); err == nil {
		t.Fatal("Append after Close succeeded")
	}
}

// TestIngestLogRecordRoundTrip: every field the row, the key and the fleet
// position need comes back from a record.
func TestIngestLogRecordRoundTrip(t *testing.T) {
	evs := batch(t, 41, 43, "rt")
	evs[0].Origin, evs[0].OriginSeq, evs[0].StreamSeq = "edge-1", 77, 900
	evs[1].AgentID, evs[1].AgentType, evs[1].Sent = "a1", "Explore", time.Time{}
	evs[2].Payload = []byte{}
	rec := appendRecord(nil, evs)
	body, next, st := scanRecord(rec, 0)
	if st != recOK || next != len(rec) {
		t.Fatalf("scan: %v %d", st, next)
	}
	got, err := decodeRecord(body)
	if err != nil || len(got) != 3 {
		t.Fatalf("decode: %v %d", err, len(got))
	}
	for i := range evs {
		if err := sameLogged(evs[i], got[i]); err != "" {
			t.Fatalf("event %d: %s", i, err)
		}
	}
}

// sameLogged says how b differs from a in what the log keeps ("" same).
func sameLogged(a, b *event.Event) string {
	ra, rb := rowOf(a), rowOf(b)
	switch {
	case a.Seq != b.Seq:
		return "seq"
	case !bytes.Equal(a.Payload, b.Payload):
		return "payload"
	case ra.ReceivedNS != rb.ReceivedNS || ra.SentNS != rb.SentNS:
		return "times"
	case a.SessionID != b.SessionID || a.Name != b.Name || a.Tool != b.Tool || a.ToolUseID != b.ToolUseID ||
		a.Cwd != b.Cwd || a.TranscriptPath != b.TranscriptPath || a.Reason != b.Reason || a.AgentID != b.AgentID ||
		a.AgentType != b.AgentType || a.Origin != b.Origin || a.Key != b.Key:
		return "strings"
	case a.OriginSeq != b.OriginSeq || a.StreamSeq != b.StreamSeq:
		return "origin or stream seq"
	}
	return ""
}

// FuzzIngestLogScan: any bytes scan without a panic, and every event read
// from them encodes to a record that reads back the same.
func FuzzIngestLogScan(f *testing.F) {
	evs := []*event.Event{{Seq: 5, SessionID: "s", Name: "Stop", Key: "k", Payload: []byte(`{"a":1}`), Received: time.Unix(0, 1)},
		{Seq: 6, SessionID: "s", Name: "PreToolUse", Tool: "Bash", Payload: []byte(`{}`), Origin: "o", OriginSeq: 3, StreamSeq: 9}}
	rec := appendRecord(nil, evs)
	f.Add(rec)
	f.Add(append(append([]byte{}, rec...), rec[:20]...))
	f.Add(append(append([]byte{}, rec[:30]...), rec...))
	f.Add([]byte(logMagic))
	f.Fuzz(func(t *testing.T, data []byte) {
		s := scanSegment(data)
		if s.tornAt > len(data) {
			t.Fatalf("torn at %d of %d", s.tornAt, len(data))
		}
		for _, ev := range s.evs {
			back, err := decodeRecord(appendRecord(nil, []*event.Event{ev})[logHeader:])
			if err != nil || len(back) != 1 {
				t.Fatalf("re-encoded event does not decode: %v", err)
			}
			if d := sameLogged(ev, back[0]); d != "" {
				t.Fatalf("round trip changes %s", d)
			}
		}
	})
}

func flip(t *testing.T, path string, off int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[off] ^= 0x41
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func equalSeqs(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func contains(s []uint64, v uint64) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// TestIngestLogBackpressure: when the committer falls behind by maxQueued
// events, Append waits for it instead of growing memory and the log
// without bound, and goes on once it catches up.
func TestIngestLogBackpressure(t *testing.T) {
	mq := maxQueued
	maxQueued = 8
	t.Cleanup(func() { maxQueued = mq })
	j := openT(t, t.TempDir(), Options{})
	j.setHold(true)
	if err := j.Append(batch(t, 1, 8, "")); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- j.Append(batch(t, 9, 9, "")) }()
	waitForReader(t, j)
	select {
	case err := <-done:
		t.Fatalf("Append past the bound returned %v without waiting", err)
	default:
	}
	j.setHold(false)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	got, err := j.Read(0, 100, store.Filter{}, 0)
	if err != nil || !equalSeqs(seqs(got), rangeSeqs(1, 9)) {
		t.Fatalf("after the wait: %v %v", seqs(got), err)
	}
}

// TestIngestLogCommitFailureIsRetried: commits that fail after Append
// accepted the events are retried until they work; nothing is lost, the
// failures are counted, and reads in the meantime say why they cannot
// see the events rather than return without them.
func TestIngestLogCommitFailureIsRetried(t *testing.T) {
	var logs syncBuf
	j := openT(t, t.TempDir(), Options{Logger: hclog.New(&hclog.LoggerOptions{Output: &logs, Level: hclog.Info})})
	j.setHold(true)
	if err := j.Append(batch(t, 1, 5, "")); err != nil {
		t.Fatal(err)
	}
	failCommits.Store(3)
	t.Cleanup(func() { failCommits.Store(0) })
	j.setHold(false)
	var got []*event.Event
	var errs int
	for deadline := time.Now().Add(30 * time.Second); ; {
		evs, err := j.Read(0, 100, store.Filter{}, 0)
		if err == nil {
			got = evs
			break
		}
		if !strings.Contains(err.Error(), "injected failure") {
			t.Fatalf("read error %v, want the commit's", err)
		}
		errs++
		if time.Now().After(deadline) {
			t.Fatalf("events not committed within 30s: %v", err)
		}
		time.Sleep(5 * time.Millisecond) // the committer backs off
	}
	if !equalSeqs(seqs(got), rangeSeqs(1, 5)) {
		t.Fatalf("after the retries: %v", seqs(got))
	}
	if st := j.LogStats(); st.CommitFailures != 3 || st.Pending != 0 {
		t.Fatalf("stats %+v, want 3 failures and nothing pending", st)
	}
	if !strings.Contains(logs.String(), "retrying") {
		t.Fatalf("no log line about the failing commit:\n%s", logs.String())
	}
	t.Logf("%d reads saw the failure", errs)
}

// syncBuf is a bytes.Buffer safe for the logger's goroutines.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// FuzzIngestLogDecode: any record body (past the CRC, which random bytes
// seldom pass) decodes or fails without a panic, and what decodes
// re-encodes to the same body.
func FuzzIngestLogDecode(f *testing.F) {
	evs := []*event.Event{{Seq: 5, SessionID: "s", Name: "Stop", Key: "k", Payload: []byte(`{"a":1}`), Received: time.Unix(0, 1)},
		{Seq: 6, SessionID: "s", Name: "PreToolUse", Tool: "Bash", Payload: []byte(`{}`), Origin: "o", OriginSeq: 3, StreamSeq: 9, Sent: time.Unix(5, 0)}}
	f.Add(appendRecord(nil, evs)[logHeader:])
	f.Add(appendRecord(nil, evs[:1])[logHeader:])
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := decodeRecord(body)
		if err != nil {
			return
		}
		again := appendRecord(nil, got)[logHeader:]
		back, err := decodeRecord(again)
		if err != nil || len(back) != len(got) {
			t.Fatalf("re-encoded record does not decode: %v", err)
		}
		for i := range got {
			if d := sameLogged(got[i], back[i]); d != "" {
				t.Fatalf("event %d: round trip changes %s", i, d)
			}
		}
	})
}

// TestIngestLogAppendRetriesAFailingCommitAtOnce: while commits fail, an
// Append has the committer try again at once and waits for that try (as
// when Append committed itself): it is refused while the database still
// cannot write, and the first Append after it can write again is accepted,
// not refused until the committer's backoff (up to 5 s) ends. A real daemon
// showed it: TestStoreThatCannotWriteIsReportedAndRecovers got 503 for the
// first post after its disk limit was lifted.
func TestIngestLogAppendRetriesAFailingCommitAtOnce(t *testing.T) {
	j := openT(t, t.TempDir(), Options{})
	j.setHold(true)
	if err := j.Append(batch(t, 1, 5, "")); err != nil {
		t.Fatal(err)
	}
	failCommits.Store(1 << 30)
	t.Cleanup(func() { failCommits.Store(0) })
	j.setHold(false)
	for j.LogStats().CommitFailures == 0 { // the first commit's failure
		time.Sleep(time.Millisecond)
	}
	// Let the committer fail until its backoff is long (10 ms doubling,
	// 5 s at most): 8 failures make it 1.28 s or more.
	for j.LogStats().CommitFailures < 8 {
		if err := j.Append(batch(t, 6, 6, "")); err == nil {
			t.Fatal("Append accepted an event while every commit fails")
		}
	}
	before := j.LogStats().CommitFailures
	if err := j.Append(batch(t, 6, 6, "")); err == nil || !strings.Contains(err.Error(), "cannot store events") {
		t.Fatalf("Append while commits fail: %v, want the refusal", err)
	}
	if got := j.LogStats().CommitFailures; got != before+1 {
		t.Fatalf("the refused Append made %d commit attempts, want 1 (it asks the committer to try again first)", got-before)
	}
	failCommits.Store(0)
	if err := j.Append(batch(t, 6, 6, "")); err != nil {
		t.Fatalf("the first Append once commits work again: %v (refused until the backoff ends?)", err)
	}
	evs, err := j.Read(0, 100, store.Filter{}, 0)
	if err != nil || !equalSeqs(seqs(evs), rangeSeqs(1, 6)) {
		t.Fatalf("read %v, %v; want 1..6", seqs(evs), err)
	}
}
