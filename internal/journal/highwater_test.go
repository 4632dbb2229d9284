package journal

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/mpm-dev/mpm/internal/event"
	"github.com/mpm-dev/mpm/internal/store"
)

// noTicks stops the checkpoint tick for the test: nothing checkpoints the
// WAL or renews the seq lease but the test.
func noTicks(t *testing.T) {
	ci := checkpointInterval
	checkpointInterval = time.Hour
	t.Cleanup(func() { checkpointInterval = ci })
}

// appendBatches appends n batches of size events after the journal's last,
// each committed to SQLite in its own transaction before the next (the
// WAL the tests scribble on; crashCopy leaves the ingest log out, so the
// WAL's damage is what the journal must report).
func appendBatches(t *testing.T, j *Journal, n, size int) {
	t.Helper()
	for b := 0; b < n; b++ {
		var evs []*event.Event
		for i := 0; i < size; i++ {
			s := j.LastSeq() + uint64(i) + 1
			evs = append(evs, mkEvent(t, s, "s"+uitoa(s%3), "PreToolUse", "Bash", "t"+uitoa(s), "k"+uitoa(s), time.Now(), 200))
		}
		if err := j.Append(evs); err != nil {
			t.Fatal(err)
		}
		if err := j.waitCommitted(); err != nil {
			t.Fatal(err)
		}
	}
}

// crashCopy copies the journal's files as they are on disk now, the state a
// kill -9 of the process would leave, into a new directory.
func crashCopy(t *testing.T, j *Journal) string {
	t.Helper()
	dst := t.TempDir()
	for _, suffix := range []string{"", "-wal", ".seq"} {
		src, err := os.Open(j.Path() + suffix)
		if err != nil {
			t.Fatal(err)
		}
		out, err := os.Create(filepath.Join(dst, "journal.db"+suffix))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(out, src); err != nil {
			t.Fatal(err)
		}
		src.Close()
		out.Close()
	}
	return dst
}

// scribbleWALFrame overwrites 64 bytes in the page of WAL frame i.
func scribbleWALFrame(t *testing.T, walPath string, i int) {
	t.Helper()
	f, err := os.OpenFile(walPath, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	hdr := make([]byte, walHeaderSize)
	if _, err := f.ReadAt(hdr, 0); err != nil {
		t.Fatal(err)
	}
	pageSize := int64(binary.BigEndian.Uint32(hdr[8:]))
	off := walHeaderSize + int64(i)*(walFrameHeaderSize+pageSize) + walFrameHeaderSize + 100
	if _, err := f.WriteAt(bytes.Repeat([]byte{0x5A}, 64), off); err != nil {
		t.Fatal(err)
	}
}

// loggedOpen opens the journal in dir with a logger into a buffer.
func loggedOpen(t *testing.T, dir string) (*Journal, *bytes.Buffer) {
	t.Helper()
	var buf bytes.Buffer
	j := openT(t, dir, Options{Logger: hclog.New(&hclog.LoggerOptions{Output: &buf, Level: hclog.Info})})
	return j, &buf
}

func readHW(t *testing.T, dir string) highWater {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "journal.db.seq"))
	if err != nil {
		t.Fatal(err)
	}
	var hw highWater
	if err := json.Unmarshal(b, &hw); err != nil {
		t.Fatal(err)
	}
	return hw
}

// TestDamagedWALIsReportedAndSeqIsNeverReused is the audit's case: events
// acknowledged, the process killed, bytes overwritten in a WAL frame.
// SQLite drops every frame after the damaged one; the journal must say so
// and continue above every seq it handed out.
func TestDamagedWALIsReportedAndSeqIsNeverReused(t *testing.T) {
	noTicks(t)
	j := openT(t, t.TempDir(), Options{})
	appendBatches(t, j, 20, 50) // 1000 events, 20 commits, all in the WAL
	handedOut := j.LastSeq()
	dir := crashCopy(t, j)
	sc, err := scanWAL(filepath.Join(dir, "journal.db-wal"))
	if err != nil || sc.badFrame != -1 || sc.frames < 20 {
		t.Fatalf("intact WAL scans as %+v, %v", sc, err)
	}
	scribbleWALFrame(t, filepath.Join(dir, "journal.db-wal"), sc.frames/2)

	j2, logs := loggedOpen(t, dir)
	note := j2.Note()
	if !strings.Contains(note, "write-ahead log") || !strings.Contains(note, "damaged") {
		t.Fatalf("note %q, want it to say the WAL was damaged", note)
	}
	if !strings.Contains(logs.String(), "[ERROR]") {
		t.Fatalf("no ERROR line:\n%s", logs)
	}
	if kept, _ := filepath.Glob(filepath.Join(dir, "journal.db-wal.damaged-*")); len(kept) != 1 {
		t.Fatalf("damaged WAL copies %v, want one", kept)
	}
	stored, _ := j2.Read(0, j2.LastSeq(), store.Filter{}, 2000)
	if len(stored) >= int(handedOut) {
		t.Fatalf("%d events survived: the damage was meant to drop some", len(stored))
	}
	if j2.LastSeq() < handedOut {
		t.Fatalf("journal continues after seq %d: seqs up to %d were handed out and would be reused", j2.LastSeq(), handedOut)
	}
	next := j2.LastSeq() + 1
	if err := j2.Append([]*event.Event{mkEvent(t, next, "a", "Stop", "", "", "", time.Now(), 0)}); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d of %d events survived; note: %s", len(stored), handedOut, note)
}

// TestLostWALIsReportedByTheHighWaterFile: the whole WAL is gone (no damage
// to scan); the seq file's last seq says events were lost.
func TestLostWALIsReportedByTheHighWaterFile(t *testing.T) {
	noTicks(t)
	j := openT(t, t.TempDir(), Options{})
	appendBatches(t, j, 4, 100)
	j.tickHighWater() // what the checkpoint tick does about once a second
	dir := crashCopy(t, j)
	if hw := readHW(t, dir); hw.LastSeq != 400 || hw.Reserved < 400 || hw.Clean {
		t.Fatalf("seq file %+v, want last 400, a lease above it, not clean", hw)
	}
	os.Remove(filepath.Join(dir, "journal.db-wal"))

	j2, logs := loggedOpen(t, dir)
	if !strings.Contains(j2.Note(), "ends at seq 0 but had reached seq 400") || !strings.Contains(logs.String(), "[ERROR]") {
		t.Fatalf("note %q, log:\n%s", j2.Note(), logs)
	}
	if j2.LastSeq() < 400 || j2.OldestSeq() != j2.LastSeq()+1 {
		t.Fatalf("last %d oldest %d, want to continue above 400", j2.LastSeq(), j2.OldestSeq())
	}
}

// TestSeqContinuesWithoutGapWhenNothingWasLost: a clean close, and a
// crash of the process alone with an intact journal, continue right after
// the last seq, without a note.
func TestSeqContinuesWithoutGapWhenNothingWasLost(t *testing.T) {
	noTicks(t)
	dir := t.TempDir()
	j := openT(t, dir, Options{})
	appendBatches(t, j, 3, 10)
	crashed := crashCopy(t, j)
	j.Close()
	if hw := readHW(t, dir); !hw.Clean || hw.LastSeq != 30 || hw.Reserved != 30 {
		t.Fatalf("seq file after Close: %+v", hw)
	}
	for name, d := range map[string]string{"clean close": dir, "kill -9": crashed} {
		j2 := openT(t, d, Options{})
		if j2.LastSeq() != 30 || j2.Note() != "" {
			t.Fatalf("%s: last %d note %q, want 30 and no note", name, j2.LastSeq(), j2.Note())
		}
		j2.Close()
	}
}

// TestSeqSkipsTheLeaseAfterARebootWithoutCleanShutdown: after an OS crash
// the unsynced end of the WAL may be gone without a trace; seq continues
// above the lease.
func TestSeqSkipsTheLeaseAfterARebootWithoutCleanShutdown(t *testing.T) {
	noTicks(t)
	j := openT(t, t.TempDir(), Options{})
	appendBatches(t, j, 1, 10)
	dir := crashCopy(t, j)
	hw := readHW(t, dir)
	hw.Boot = "another boot"
	if err := writeHighWater(filepath.Join(dir, "journal.db.seq"), hw); err != nil {
		t.Fatal(err)
	}
	j2 := openT(t, dir, Options{})
	if j2.LastSeq() != hw.Reserved || j2.Note() != "" {
		t.Fatalf("last %d note %q, want to continue after the lease %d without a note", j2.LastSeq(), j2.Note(), hw.Reserved)
	}
}

// TestMovedAsideJournalContinuesAboveTheLease: a journal damaged beyond
// salvage is moved aside; the fresh one starts above every seq handed out
// (it used to start at 1).
func TestMovedAsideJournalContinuesAboveTheLease(t *testing.T) {
	noTicks(t)
	j := openT(t, t.TempDir(), Options{})
	appendBatches(t, j, 5, 20)
	dir := crashCopy(t, j)
	path := filepath.Join(dir, "journal.db")
	os.Remove(path + "-wal")
	if err := os.WriteFile(path, bytes.Repeat([]byte("garbage "), 1000), 0o600); err != nil {
		t.Fatal(err)
	}
	j2 := openT(t, dir, Options{})
	if !strings.Contains(j2.Note(), "moved to") || !strings.Contains(j2.Note(), "seq continues after") {
		t.Fatalf("note %q", j2.Note())
	}
	if j2.LastSeq() < 100 {
		t.Fatalf("fresh journal continues after %d: seqs up to 100 were handed out", j2.LastSeq())
	}
}

// TestSeqLeaseIsRenewedByABurst: a burst larger than the lease renews it
// before the commit, and the seq file always covers the last seq.
func TestSeqLeaseIsRenewedByABurst(t *testing.T) {
	noTicks(t)
	dir := t.TempDir()
	j := openT(t, dir, Options{})
	first := readHW(t, dir).Reserved
	appendBatches(t, j, 3, minReserve)
	hw := readHW(t, dir)
	if hw.Reserved < j.LastSeq() || hw.Reserved == first {
		t.Fatalf("lease %d after %d events (first lease %d)", hw.Reserved, j.LastSeq(), first)
	}
}
