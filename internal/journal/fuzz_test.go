package journal

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mpm-dev/mpm/internal/event"
	"github.com/mpm-dev/mpm/internal/store"
)

// FuzzOpenArbitraryFile: whatever journal.db holds, Open does not panic;
// it either opens it or moves it aside byte for byte and starts afresh, and
// the journal it returns stores and reads back an event.
func FuzzOpenArbitraryFile(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("garbage"))
	f.Add(append([]byte("SQLite format 3\x00"), bytes.Repeat([]byte{0}, 200)...))
	f.Add(append([]byte("SQLite format 3\x00\x10\x00\x02\x02"), bytes.Repeat([]byte{0xff}, 5000)...))
	f.Fuzz(func(t *testing.T, content []byte) {
		dir := t.TempDir()
		path := filepath.Join(dir, "journal.db")
		if err := os.WriteFile(path, content, 0o600); err != nil {
			t.Fatal(err)
		}
		j, err := Open(Options{Path: path, RetainInterval: time.Hour})
		if err != nil {
			return // a clear error is an acceptable outcome
		}
		defer j.Close()
		if j.Note() != "" {
			moved, _ := filepath.Glob(path + ".corrupt-*[0-9]Z")
			if len(moved) != 1 {
				t.Fatalf("note %q but moved files %v", j.Note(), moved)
			}
			if b, _ := os.ReadFile(moved[0]); !bytes.Equal(b, content) {
				t.Fatal("moved file differs from the original")
			}
		}
		next := j.LastSeq() + 1
		ev, err := event.Parse([]byte(`{"session_id":"s","hook_event_name":"Stop"}`), 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		ev.Seq, ev.Received = next, time.Now()
		if err := j.Append([]*event.Event{ev}); err != nil {
			t.Fatalf("append to the opened journal: %v", err)
		}
		got, err := j.Read(next-1, next, store.Filter{}, 0)
		if err != nil || len(got) != 1 || !bytes.Equal(got[0].Wire(), ev.Wire()) {
			t.Fatalf("read back: %v %v", got, err)
		}
	})
}
