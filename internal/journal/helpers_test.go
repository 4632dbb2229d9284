package journal

import (
	"bytes"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/mpm-dev/mpm/internal/event"
)

// mkEvent builds a parsed hook event like the daemon's ingest does.
func mkEvent(t testing.TB, seq uint64, session, name, tool, toolUseID, key string, received time.Time, pad int) *event.Event {
	t.Helper()
	payload := fmt.Sprintf(`{"session_id":%q,"hook_event_name":%q,"cwd":"/home/dev/proj","transcript_path":"/home/dev/.claude/t.jsonl"`, session, name)
	if tool != "" {
		payload += fmt.Sprintf(`,"tool_name":%q,"tool_use_id":%q`, tool, toolUseID)
	}
	if name == "SessionEnd" {
		payload += `,"reason":"exit"`
	}
	payload += fmt.Sprintf(`,"tool_input":{"command":"echo <é> & \"q\"","pad":%q}}`, noise(pad, seq))
	ev, err := event.Parse([]byte(payload), 1<<20)
	if err != nil {
		t.Fatalf("parse %s: %v", payload, err)
	}
	ev.Seq, ev.Key, ev.Received = seq, key, received
	if seq%2 == 0 {
		ev.Sent = received.Add(-time.Millisecond)
	}
	return ev
}

// openT opens a journal in dir with opts, closing it at cleanup.
func openT(t testing.TB, dir string, opts Options) *Journal {
	t.Helper()
	opts.Path = filepath.Join(dir, "journal.db")
	if opts.RetainInterval == 0 {
		opts.RetainInterval = time.Hour // tests call EnforceRetention themselves
	}
	j, err := Open(opts)
	if err != nil {
		t.Fatalf("open journal: %v", err)
	}
	t.Cleanup(func() { j.Close() })
	// The retention pass made at open must not run after the test's own
	// events are in (it would prune them before the test's assertions).
	<-j.retainedAtOpen
	return j
}

// wires concatenates the events' wire encodings, one per line.
func wires(evs []*event.Event) []byte {
	var b bytes.Buffer
	for _, ev := range evs {
		b.Write(ev.Wire())
		b.WriteByte('\n')
	}
	return b.Bytes()
}

func seqs(evs []*event.Event) []uint64 {
	out := make([]uint64, len(evs))
	for i, ev := range evs {
		out[i] = ev.Seq
	}
	return out
}

func rangeSeqs(from, to uint64) []uint64 {
	var out []uint64
	for s := from; s <= to; s++ {
		out = append(out, s)
	}
	return out
}

// rawJournal opens a new journal.db in a temporary directory with
// database/sql alone, for a test to write an older layout by hand; it
// returns the handle and the directory (for openT).
func rawJournal(t *testing.T) (*sql.DB, string) {
	t.Helper()
	dir := t.TempDir()
	db, err := sql.Open("sqlite", filepath.Join(dir, "journal.db"))
	if err != nil {
		t.Fatal(err)
	}
	return db, dir
}

// eventSize is what ev counts against the byte limit once stored.
func eventSize(ev *event.Event) int64 {
	r := rowOf(ev)
	return rowSize(&r)
}

// noise is n characters that do not compress (64 symbols, pseudo-random from
// seed): tests that reason about sizes and pages keep their meaning with
// compressed payloads.
func noise(n int, seed uint64) string {
	const sym = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	b := make([]byte, n)
	x := seed*0x9e3779b97f4a7c15 + 1
	for i := range b {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b[i] = sym[x&63]
	}
	return string(b)
}

// parseEvents parses payloads into events numbered seq 1, 2, ..., received
// now.
func parseEvents(t testing.TB, payloads [][]byte) []*event.Event {
	t.Helper()
	evs := make([]*event.Event, 0, len(payloads))
	for i, p := range payloads {
		ev, err := event.Parse(p, 1<<20)
		if err != nil {
			t.Fatalf("payload %d does not parse: %v: %.200s", i, err, p)
		}
		ev.Seq, ev.Received = uint64(i+1), time.Now()
		evs = append(evs, ev)
	}
	return evs
}
