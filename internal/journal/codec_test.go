package journal

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mpm-dev/mpm/internal/event"
	"github.com/mpm-dev/mpm/internal/store"
)

// TestPayloadRoundTrip: every payload of a realistic corpus (Read outputs
// with source code, Bash outputs, Edit old/new strings, prompts; 0.2 to 50
// KiB) comes back byte for byte, through the codec and through the
// journal, and the corpus compresses to at most 0.35 of its size.
func TestPayloadRoundTrip(t *testing.T) {
	corpus := hookCorpus(t, 2, 600, 1)
	var raw, stored int
	for i, p := range corpus {
		s, codec := encodePayload(p)
		raw += len(p)
		stored += len(s)
		got, err := decodePayload(s, codec)
		if err != nil || !bytes.Equal(got, p) {
			t.Fatalf("payload %d (%d bytes, codec %d) does not round-trip: %v", i, len(p), codec, err)
		}
	}
	ratio := float64(stored) / float64(raw)
	t.Logf("%d payloads, %d bytes raw, %d stored: %.3f", len(corpus), raw, stored, ratio)
	if ratio > 0.35 {
		t.Errorf("stored/raw %.3f, want <= 0.35", ratio)
	}

	j := openT(t, t.TempDir(), Options{})
	evs := parseEvents(t, corpus)
	for i := 0; i < len(evs); i += 64 {
		if err := j.Append(evs[i:min(i+64, len(evs))]); err != nil {
			t.Fatal(err)
		}
	}
	got, err := j.Read(0, uint64(len(evs)), store.Filter{}, 0)
	if err != nil || len(got) != len(evs) {
		t.Fatalf("read back %d of %d: %v", len(got), len(evs), err)
	}
	for i := range got {
		if !bytes.Equal(got[i].Payload, corpus[i]) || !bytes.Equal(got[i].Wire(), evs[i].Wire()) {
			t.Fatalf("event %d differs after the journal", i+1)
		}
	}
	var raws, compressed int
	if err := j.r.QueryRow(`SELECT COUNT(*) FILTER (WHERE payload_codec = 0), COUNT(*) FILTER (WHERE payload_codec IN (1, 2)) FROM events`).Scan(&raws, &compressed); err != nil {
		t.Fatal(err)
	}
	if compressed < len(evs)*9/10 {
		t.Errorf("%d raw and %d compressed rows: the corpus should nearly all compress", raws, compressed)
	}
}

// TestDecodePayloadErrors: a damaged compressed row or an unknown codec is
// a clear error, not a panic or wrong bytes.
func TestDecodePayloadErrors(t *testing.T) {
	s, codec := encodePayload(bytes.Repeat([]byte(`{"session_id":"s","hook_event_name":"Stop"}`), 10))
	if codec != codecZstdV1 {
		t.Fatalf("codec %d, want %d", codec, codecZstdV1)
	}
	for name, c := range map[string]struct {
		b     []byte
		codec int64
	}{
		"truncated": {s[:len(s)/2], codecZstdV1},
		"garbage":   {[]byte("not zstd at all"), codecZstdV1},
		"unknown":   {s, 99},
	} {
		if _, err := decodePayload(c.b, c.codec); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// FuzzPayloadCodec: any payload round-trips byte for byte, and decoding
// any bytes as a compressed payload returns bytes or an error, never panics.
func FuzzPayloadCodec(f *testing.F) {
	for _, p := range hookCorpus(f, 3, 20, 1) {
		f.Add(p)
	}
	f.Add([]byte{})
	f.Add([]byte(`{"session_id":"s"}`))
	f.Fuzz(func(t *testing.T, p []byte) {
		s, codec := encodePayload(p)
		got, err := decodePayload(s, codec)
		if err != nil || !bytes.Equal(got, p) {
			t.Fatalf("round trip: %v", err)
		}
		decodePayload(p, codecZstdV1)
	})
}

// TestOpenLayout3Fixture: a journal written by the previous layout
// (testdata/journal-v3.db, payloads stored as they came) opens, is
// migrated to the current layout without rewriting its rows, its events
// read back byte for byte, and new events are stored compressed next to
// them.
func TestOpenLayout3Fixture(t *testing.T) {
	dir := t.TempDir()
	lines := copyFixture(t, "journal-v3.db", dir)

	j := openT(t, dir, Options{})
	if j.LastSeq() != uint64(len(lines)) {
		t.Fatalf("last seq %d, want %d", j.LastSeq(), len(lines))
	}
	if infos, _ := j.Sessions(); len(infos) != 3 {
		t.Fatalf("%d sessions, want 3", len(infos))
	}
	if seq, ok := j.LookupKey("key-7"); !ok || seq != 7 {
		t.Errorf("key-7: %d %v, want 7", seq, ok)
	}
	next := j.LastSeq() + 1
	ev := mkEvent(t, next, "sess-new", "PostToolUse", "Bash", "toolu_x", "", time.Now(), 2000)
	if err := j.Append([]*event.Event{ev}); err != nil {
		t.Fatal(err)
	}
	got, err := j.Read(0, next, store.Filter{}, 0)
	if err != nil || len(got) != len(lines)+1 {
		t.Fatalf("read %d events: %v", len(got), err)
	}
	for i, l := range lines {
		if !bytes.Equal(got[i].Payload, l) {
			t.Fatalf("old event %d differs:\n%s\nwant\n%s", i+1, got[i].Payload, l)
		}
	}
	if !bytes.Equal(got[len(lines)].Payload, ev.Payload) {
		t.Fatal("new event differs")
	}
	var v int
	var newCodec int64
	j.w.QueryRow("PRAGMA user_version").Scan(&v)
	j.r.QueryRow("SELECT payload_codec FROM events WHERE seq = ?", int64(next)).Scan(&newCodec)
	if v != schemaVersion || newCodec != codecZstdV1 {
		t.Errorf("layout %d, new row codec %d; want %d, %d", v, newCodec, schemaVersion, codecZstdV1)
	}

	// In the background, the old events are indexed and compressed; they
	// read back the same, and the byte count follows their new sizes.
	select {
	case <-j.backfilled:
	case <-time.After(30 * time.Second):
		t.Fatal("backfill did not finish")
	}
	hits, err := j.Search(store.SearchQuery{Query: "event:Notification"})
	if err != nil || len(hits) == 0 || hits[0].Seq > uint64(len(lines)) {
		t.Fatalf("old events not searchable after backfill: %v %v", hits, err)
	}
	var raws, sum int64
	j.r.QueryRow("SELECT COUNT(*) FILTER (WHERE payload_codec = 0), SUM(size) FROM events").Scan(&raws, &sum)
	if raws != 0 || sum != j.Bytes() {
		t.Errorf("after backfill: %d raw rows, sizes sum %d, accounted %d", raws, sum, j.Bytes())
	}
	got, _ = j.Read(0, next, store.Filter{}, 0)
	for i, l := range lines {
		if !bytes.Equal(got[i].Payload, l) {
			t.Fatalf("old event %d differs after backfill", i+1)
		}
	}
	j.Close()
	j2 := openT(t, dir, Options{})
	if j2.Bytes() != sum {
		t.Errorf("reopened: bytes %d, want %d", j2.Bytes(), sum)
	}
}

// copyFixture copies testdata/name to dir/journal.db and returns the
// payloads its events hold (testdata/journal-v3.payloads, one a line).
func copyFixture(t *testing.T, name, dir string) [][]byte {
	t.Helper()
	in, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(filepath.Join(dir, "journal.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("testdata/journal-v3.payloads")
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Split(bytes.TrimSuffix(want, []byte("\n")), []byte("\n"))
}

// TestOpenLayout4Fixture: a journal written by layout 4
// (testdata/journal-v4.db: the events of journal-v3.payloads with keys
// key-N, one a second from 2026-11-30 10:00 UTC, compressed and indexed,
// every field also in its column) opens at once as layout 5; its events
// read back byte for byte with the fields their columns hold, the same as
// the fields the payload gives a new row, and stay searchable; a new event
// is stored without the fields its payload has, and reads back with them.
func TestOpenLayout4Fixture(t *testing.T) {
	dir := t.TempDir()
	lines := copyFixture(t, "journal-v4.db", dir)
	j := openT(t, dir, Options{})
	var v int
	if err := j.w.QueryRow("PRAGMA user_version").Scan(&v); err != nil || v != schemaVersion {
		t.Fatalf("layout %d (%v), want %d", v, err, schemaVersion)
	}
	var oldCols int
	if err := j.r.QueryRow(`SELECT COUNT(*) FROM events WHERE cwd != '' AND transcript_path != ''`).Scan(&oldCols); err != nil || oldCols != len(lines) {
		t.Fatalf("%d old rows keep their cwd and transcript_path columns (%v), want %d", oldCols, err, len(lines))
	}
	if seq, ok := j.LookupKey("key-7"); !ok || seq != 7 {
		t.Errorf("key-7: %d %v, want 7", seq, ok)
	}
	got, err := j.Read(0, uint64(len(lines)), store.Filter{}, 0)
	if err != nil || len(got) != len(lines) {
		t.Fatalf("read %d of %d events: %v", len(got), len(lines), err)
	}
	for i, l := range lines {
		want, err := event.Parse(l, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		g := got[i]
		if !bytes.Equal(g.Payload, l) || g.SessionID != want.SessionID || g.Name != want.Name || g.Tool != want.Tool ||
			g.ToolUseID != want.ToolUseID || g.Cwd != want.Cwd || g.TranscriptPath != want.TranscriptPath || g.Reason != want.Reason {
			t.Fatalf("old event %d reads back as %+v, want the fields of\n%s", i+1, g, l)
		}
	}
	hits, err := j.Search(store.SearchQuery{Query: "event:Notification"})
	if err != nil || len(hits) == 0 {
		t.Fatalf("old events not searchable: %v %v", hits, err)
	}

	next := j.LastSeq() + 1
	ev := mkEvent(t, next, "sess-new", "SessionEnd", "", "", "", time.Now(), 100)
	if err := j.Append([]*event.Event{ev}); err != nil {
		t.Fatal(err)
	}
	if err := j.waitCommitted(); err != nil { // the row is written by the committer
		t.Fatal(err)
	}
	var cwd, tp, reason string
	if err := j.r.QueryRow("SELECT cwd, transcript_path, reason FROM events WHERE seq = ?", int64(next)).Scan(&cwd, &tp, &reason); err != nil || cwd+tp+reason != "" {
		t.Errorf("new row keeps cwd %q transcript_path %q reason %q (%v): want them read from the payload", cwd, tp, reason, err)
	}
	j.Close()
	j2 := openT(t, dir, Options{})
	got, err = j2.Read(next-1, next, store.Filter{}, 0)
	if err != nil || len(got) != 1 {
		t.Fatalf("read the new event: %v %v", got, err)
	}
	if g := got[0]; g.Cwd != ev.Cwd || g.TranscriptPath != ev.TranscriptPath || g.Reason != "exit" || !bytes.Equal(g.Wire(), ev.Wire()) {
		t.Errorf("new event reads back as %+v, want %+v", g, ev)
	}
}
