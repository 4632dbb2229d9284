package journal

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/mpm-dev/mpm/internal/event"
	"github.com/mpm-dev/mpm/internal/store"
)

// corpusEvents parses payloads as events with seqs from first on.
func corpusEvents(t testing.TB, payloads [][]byte, first uint64) []*event.Event {
	t.Helper()
	evs := make([]*event.Event, len(payloads))
	for i, p := range payloads {
		ev, err := event.Parse(p, 1<<20)
		if err != nil {
			t.Fatalf("payload %d does not parse: %v", i, err)
		}
		ev.Seq, ev.Received, ev.Key = first+uint64(i), time.Now(), fmt.Sprintf("k-%d", first+uint64(i))
		evs[i] = ev
	}
	return evs
}

// checkShares: every block's events count exactly its bytes against
// --retain-bytes (their sizes less their rows' own bytes add up to the
// block's), and every block has at least one event.
func checkShares(t *testing.T, j *Journal) {
	t.Helper()
	rows, err := j.r.Query(`SELECT b.id, length(b.data), COALESCE(SUM(e.size - (length(e.payload) + iif(typeof(e.session_id) = 'integer', 3, length(e.session_id) + length(e.event) + length(e.tool)) +
		length(e.tool_use_id) + length(e.cwd) + length(e.transcript_path) + length(e.reason) + length(e.origin) + 48)), -1), COUNT(e.seq)
		FROM blocks b LEFT JOIN events e ON e.seq BETWEEN b.id AND b.last AND e.payload_codec = 2 GROUP BY b.id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, size, shares, n int64
		if err := rows.Scan(&id, &size, &shares, &n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			t.Errorf("block %d outlived its events", id)
		}
		if n > 0 && shares > size {
			t.Errorf("block %d: %d bytes, its %d events count %d", id, size, n, shares)
		}
	}
}

// TestBlockRoundTrip: the corpus stored in batches of every size comes
// back byte for byte, read in order (each block decoded once), one event
// at a time across sessions, and after a reopen (nothing cached); runs of
// two or more events are stored in blocks, a lone event in a frame of its
// own; the events' sizes add up to their blocks' bytes.
func TestBlockRoundTrip(t *testing.T) {
	defer func(d time.Duration) { gatherDelay = d }(gatherDelay)
	gatherDelay = 0 // each Append its own commit: the batch sizes below are the commits'
	corpus := hookCorpus(t, 7, 700, 1)
	dir := t.TempDir()
	j := openT(t, dir, Options{})
	evs := corpusEvents(t, corpus, 1)
	var singles []uint64
	for i, n := 0, 0; i < len(evs); n++ {
		size := []int{1, 2, 7, 64, 100, 1, 256, 3}[n%8]
		batch := evs[i:min(i+size, len(evs))]
		for k := 0; k < len(batch); { // a lone event: a batch of one, or the end of a batch past a block's bounds
			n, _ := runLen(batch[k:])
			if n == 1 {
				singles = append(singles, batch[k].Seq)
			}
			k += n
		}
		if err := j.Append(batch); err != nil {
			t.Fatal(err)
		}
		if err := j.waitCommitted(); err != nil {
			t.Fatal(err)
		}
		i += len(batch)
	}
	check := func(j *Journal, how string) {
		t.Helper()
		var got []*event.Event
		for after := uint64(0); ; {
			page, err := j.Page(after, uint64(len(evs)), store.Filter{}, 50, 1<<20)
			if err != nil {
				t.Fatalf("%s: %v", how, err)
			}
			if len(page) == 0 {
				break
			}
			got = append(got, page...)
			after = page[len(page)-1].Seq
		}
		if len(got) != len(evs) {
			t.Fatalf("%s: read %d of %d", how, len(got), len(evs))
		}
		for i, g := range got {
			if !bytes.Equal(g.Payload, corpus[i]) || !bytes.Equal(g.Wire(), evs[i].Wire()) {
				t.Fatalf("%s: event %d differs", how, i+1)
			}
		}
		// several sessions, a byte bound: read one event at a time
		var ids []string
		seen := map[string]bool{}
		for _, ev := range evs {
			if !seen[ev.SessionID] {
				seen[ev.SessionID] = true
				ids = append(ids, ev.SessionID)
			}
		}
		page, err := j.Page(100, uint64(len(evs)), store.Filter{Sessions: ids[:2]}, 40, 1<<30)
		if err != nil || len(page) == 0 {
			t.Fatalf("%s: page of two sessions: %v", how, err)
		}
		for _, g := range page {
			if !bytes.Equal(g.Payload, corpus[g.Seq-1]) {
				t.Fatalf("%s: event %d read alone differs", how, g.Seq)
			}
		}
	}
	check(j, "written")
	var blockRows, frameRows, blocks int
	if err := j.r.QueryRow(`SELECT COUNT(*) FILTER (WHERE payload_codec = 2), COUNT(*) FILTER (WHERE payload_codec = 1), (SELECT COUNT(*) FROM blocks) FROM events`).Scan(&blockRows, &frameRows, &blocks); err != nil {
		t.Fatal(err)
	}
	if frameRows != len(singles) || blockRows != len(evs)-len(singles) || blocks == 0 {
		t.Errorf("%d block rows in %d blocks and %d single frames, want every event but the %d lone ones in a block", blockRows, blocks, frameRows, len(singles))
	}
	for _, seq := range singles {
		var codec int
		if err := j.r.QueryRow(`SELECT payload_codec FROM events WHERE seq = ?`, seq).Scan(&codec); err != nil || codec == codecBlockV1 {
			t.Errorf("lone event %d: codec %d (%v), want a frame of its own", seq, codec, err)
		}
	}
	checkShares(t, j)
	total, _ := storedSizes(t, j)
	if total != j.Bytes() {
		t.Errorf("accounted %d bytes, the rows say %d", j.Bytes(), total)
	}
	j.Close()
	j2 := openT(t, dir, Options{})
	check(j2, "reopened")
	if total2, _ := storedSizes(t, j2); total2 != total || j2.Bytes() != total {
		t.Errorf("after reopen: accounted %d, rows %d, want %d", j2.Bytes(), total2, total)
	}
}

// TestBlockRetention: retention that cuts a block keeps it (its later
// events still read back), deletes it with its last event, and the byte
// count follows the rows.
func TestBlockRetention(t *testing.T) {
	defer func(d time.Duration, n, b int) { gatherDelay, blockMaxEvents, blockMaxBytes = d, n, b }(gatherDelay, blockMaxEvents, blockMaxBytes)
	// Blocks of 64 events whatever their bytes: the corpus (the
	// repository's files) changes with every edit, the block ids below
	// must not.
	gatherDelay, blockMaxEvents, blockMaxBytes = 0, 64, 1<<30
	corpus := hookCorpus(t, 9, 200, 1)
	j := openT(t, t.TempDir(), Options{RetainEvents: 150})
	evs := corpusEvents(t, corpus, 1)
	for i := 0; i < len(evs); i += 64 { // blocks 1-64, 65-128, 129-192, 193-200
		if err := j.Append(evs[i:min(i+64, len(evs))]); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.EnforceRetention(); err != nil { // keeps 51-200: cuts the first block
		t.Fatal(err)
	}
	blockIDs := func() []int64 {
		rows, err := j.r.Query(`SELECT id FROM blocks ORDER BY id`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var ids []int64
		for rows.Next() {
			var id int64
			rows.Scan(&id)
			ids = append(ids, id)
		}
		return ids
	}
	if ids := blockIDs(); fmt.Sprint(ids) != "[1 65 129 193]" {
		t.Fatalf("blocks %v after retention kept events 51-200, want [1 65 129 193]", ids)
	}
	j.blockCache = blockCache{} // read the cut block from the file
	got, err := j.Read(0, 200, store.Filter{}, 0)
	if err != nil || len(got) != 150 || got[0].Seq != 51 {
		t.Fatalf("read %d events (%v)", len(got), err)
	}
	for _, g := range got {
		if !bytes.Equal(g.Payload, corpus[g.Seq-1]) {
			t.Fatalf("event %d differs after retention", g.Seq)
		}
	}
	sum, _ := storedSizes(t, j)
	if sum != j.Bytes() {
		t.Errorf("accounted %d bytes, the rows say %d", j.Bytes(), sum)
	}
	checkShares(t, j)
	j.opts.RetainEvents = 130 // keeps 71-200: the first block's last event goes
	if err := j.EnforceRetention(); err != nil {
		t.Fatal(err)
	}
	if ids := blockIDs(); fmt.Sprint(ids) != "[65 129 193]" {
		t.Fatalf("blocks %v after retention kept events 71-200, want [65 129 193]", ids)
	}
	if sum, _ := storedSizes(t, j); sum != j.Bytes() {
		t.Errorf("accounted %d bytes, the rows say %d", j.Bytes(), sum)
	}
	j.opts.RetainEvents = 1
	if err := j.EnforceRetention(); err != nil {
		t.Fatal(err)
	}
	if ids := blockIDs(); fmt.Sprint(ids) != "[193]" {
		t.Fatalf("blocks %v after retention kept event 200, want [193]", ids)
	}
}

// TestCommitterGathers: events appended one at a time while nothing reads
// are committed together, in one block; a read does not wait for the
// gathering to end: it has them committed at once.
func TestCommitterGathers(t *testing.T) {
	defer func(d time.Duration, b int) { gatherDelay, blockMaxBytes = d, b }(gatherDelay, blockMaxBytes)
	gatherDelay = time.Hour // only a read (or gatherEvents) ends it
	blockMaxBytes = 1 << 30 // one block per commit, whatever the corpus's sizes
	corpus := hookCorpus(t, 4, 5, 1)
	j := openT(t, t.TempDir(), Options{})
	evs := corpusEvents(t, corpus, 1)
	for _, ev := range evs {
		if err := j.Append([]*event.Event{ev}); err != nil {
			t.Fatal(err)
		}
	}
	if st := j.LogStats(); st.Pending != len(evs) {
		t.Fatalf("%d events wait for the committer, want all %d (gathered)", st.Pending, len(evs))
	}
	got, err := j.Read(0, 5, store.Filter{}, 0)
	if err != nil || len(got) != 5 {
		t.Fatalf("read %d: %v", len(got), err)
	}
	var id, last int64
	var n int
	if err := j.r.QueryRow(`SELECT MIN(id), MAX(last), COUNT(*) FROM blocks`).Scan(&id, &last, &n); err != nil || n != 1 || id != 1 || last != 5 {
		t.Fatalf("blocks: %d, first %d, last %d (%v); want one block of events 1-5", n, id, last, err)
	}
	// gatherEvents events end the gathering without a read
	more := corpusEvents(t, hookCorpus(t, 5, gatherEvents, 1), 6)
	for _, ev := range more {
		if err := j.Append([]*event.Event{ev}); err != nil {
			t.Fatal(err)
		}
	}
	j.cmu.Lock()
	for j.last.Load() < uint64(5+gatherEvents) {
		j.ccond.Wait()
	}
	j.cmu.Unlock()
	if err := j.r.QueryRow(`SELECT COUNT(*) FROM blocks WHERE id = 6 AND last = ?`, 5+gatherEvents).Scan(&n); err != nil || n != 1 {
		t.Fatalf("no block of events 6-%d (%v)", 5+gatherEvents, err)
	}
}

// TestOpenLayout4FixtureBlocks: a layout-4 journal (rows of codecs 0 and 1)
// takes blocks after its old rows; both read back byte for byte, before
// and after a reopen, and retention goes through both.
func TestOpenLayout4FixtureBlocks(t *testing.T) {
	dir := t.TempDir()
	lines := copyFixture(t, "journal-v4.db", dir)
	j := openT(t, dir, Options{})
	corpus := hookCorpus(t, 8, 100, 1)
	evs := corpusEvents(t, corpus, j.LastSeq()+1)
	if err := j.Append(evs); err != nil {
		t.Fatal(err)
	}
	want := append(append([][]byte(nil), lines...), corpus...)
	check := func(j *Journal) {
		t.Helper()
		got, err := j.Read(0, uint64(len(want)), store.Filter{}, 0)
		if err != nil || len(got) != len(want) {
			t.Fatalf("read %d of %d: %v", len(got), len(want), err)
		}
		for i, g := range got {
			if !bytes.Equal(g.Payload, want[i]) {
				t.Fatalf("event %d differs", i+1)
			}
		}
	}
	check(j)
	var codecs string
	if err := j.r.QueryRow(`SELECT group_concat(DISTINCT payload_codec) FROM (SELECT payload_codec FROM events ORDER BY payload_codec)`).Scan(&codecs); err != nil || codecs != "0,1,2" && codecs != "1,2" {
		t.Errorf("codecs %q (%v), want the old rows' and blocks", codecs, err)
	}
	j.Close()
	j2 := openT(t, dir, Options{})
	check(j2)
	j2.opts.RetainEvents = 50
	if err := j2.EnforceRetention(); err != nil {
		t.Fatal(err)
	}
	got, err := j2.Read(0, uint64(len(want)), store.Filter{}, 0)
	if err != nil || len(got) != 50 || !bytes.Equal(got[49].Payload, want[len(want)-1]) {
		t.Fatalf("after retention: %d events (%v)", len(got), err)
	}
	if sum, _ := storedSizes(t, j2); sum != j2.Bytes() {
		t.Errorf("accounted %d bytes, the rows say %d", j2.Bytes(), sum)
	}
}

// TestBlockRatio prints what blocks of k corpus events compress to (the
// payloads alone), k = 1 (one frame each) to 256: the ratio an idle-ish
// stream whose bursts gather k events gets.
func TestBlockRatio(t *testing.T) {
	corpus := hookCorpus(t, 5, 2000, 1)
	raw := 0
	for _, p := range corpus {
		raw += len(p)
	}
	for _, k := range []int{1, 2, 4, 8, 16, 64, 256} {
		stored := 0
		for i := 0; i < len(corpus); i += k {
			if k == 1 {
				s, _ := encodePayload(corpus[i])
				stored += len(s)
				continue
			}
			frame, _, err := packBlock(corpus[i:min(i+k, len(corpus))])
			if err != nil {
				t.Fatal(err)
			}
			stored += len(frame)
		}
		t.Logf("blocks of %3d events: payloads stored / raw %.3f", k, float64(stored)/float64(raw))
	}
}

// FuzzBlockCodec: payloads cut from any bytes at any points, packed into a
// block, come back byte for byte through their references; any bytes read
// as a block frame or as a reference give bytes or an error, never a
// panic or bytes outside the block.
func FuzzBlockCodec(f *testing.F) {
	// short seeds: the fuzzer minimises each input it finds interesting,
	// one exec per byte
	p := []byte(`{"session_id":"s","hook_event_name":"PostToolUse","tool_name":"Read","tool_input":{"file_path":"/w/orders.go"}}`)
	f.Add(bytes.Repeat(p, 4), []byte{10, 3, 0, 7})
	f.Add([]byte{}, []byte{})
	f.Add([]byte(`{"session_id":"s"}{"session_id":"t"}`), []byte{18})
	f.Fuzz(func(t *testing.T, data, cuts []byte) {
		var payloads [][]byte
		rest := data
		for _, c := range cuts {
			n := min(int(c)*int(c), len(rest))
			payloads = append(payloads, rest[:n])
			rest = rest[n:]
		}
		payloads = append(payloads, rest)
		frame, _, err := packBlock(payloads)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := unpackBlock(frame)
		if err != nil {
			t.Fatalf("a packed block does not unpack: %v", err)
		}
		off := 0
		for i, p := range payloads {
			ref := appendBlockRef(nil, 1+int64(i), off, len(p))
			id, o, n, err := parseBlockRef(ref)
			if err != nil || id != 1+int64(i) {
				t.Fatalf("reference %d: %v", i, err)
			}
			got, err := payloadIn(raw, o, n)
			if err != nil || !bytes.Equal(got, p) {
				t.Fatalf("payload %d does not round-trip: %v", i, err)
			}
			off += len(p)
		}
		if junk, err := unpackBlock(data); err == nil {
			if id, o, n, err := parseBlockRef(cuts); err == nil {
				if p, err := payloadIn(junk, o, n); err == nil && (id <= 0 || len(p) != n || o+n > len(junk)) {
					t.Fatalf("reference %d+%d into %d bytes gave %d", o, n, len(junk), len(p))
				}
			}
		}
		if _, o, n, err := parseBlockRef(data); err == nil {
			payloadIn(raw, o, n)
		}
	})
}
