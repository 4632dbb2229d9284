package journal

import (
	"os"
	"path/filepath"
	"testing"
)

// TestJournalID: a journal keeps its id across reopens; a new journal in
// the same place (the old one moved aside) gets another.
func TestJournalID(t *testing.T) {
	dir := t.TempDir()
	j := openT(t, dir, Options{})
	id := j.ID()
	if len(id) != 16 {
		t.Fatalf("id %q, want 16 hex digits", id)
	}
	j.Close()
	j = openT(t, dir, Options{})
	if j.ID() != id {
		t.Errorf("reopened journal has id %q, want %q", j.ID(), id)
	}
	j.Close()
	for _, f := range []string{"journal.db", "journal.db-wal", "journal.db-shm"} {
		os.Remove(filepath.Join(dir, f))
	}
	j = openT(t, dir, Options{})
	if j.ID() == id || len(j.ID()) != 16 {
		t.Errorf("new journal has id %q (old %q)", j.ID(), id)
	}
}
