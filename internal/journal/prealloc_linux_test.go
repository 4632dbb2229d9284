package journal

import (
	"os"
	"syscall"
	"testing"

	"github.com/mpm-dev/mpm/internal/store"
)

// TestIngestLogPreallocates: the active segment's blocks are reserved ahead
// of its writes (so a write skips the file system's allocation), while its
// size stays what was written: a torn-tail check or a replay never sees the
// reserved space.
func TestIngestLogPreallocates(t *testing.T) {
	noTicks(t)
	dir := t.TempDir()
	probe, err := os.CreateTemp(dir, "probe")
	if err != nil {
		t.Fatal(err)
	}
	if err := preallocate(probe, 0, 1<<20); err == syscall.EOPNOTSUPP {
		t.Skipf("the file system of %s cannot reserve blocks", dir)
	} else if err != nil {
		t.Fatalf("preallocate: %v", err)
	}
	probe.Close()

	j := openT(t, dir, Options{})
	if err := j.Append(batch(t, 1, 10, "")); err != nil {
		t.Fatal(err)
	}
	segs, _ := listSegments(j.Path())
	if len(segs) != 1 {
		t.Fatalf("segments: %v, want one", segs)
	}
	fi, err := os.Stat(segPath(j.Path(), segs[0]))
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	if fi.Size() != j.segSize || fi.Size() == 0 {
		t.Errorf("segment size %d, want the %d bytes written", fi.Size(), j.segSize)
	}
	if reserved := st.Blocks * 512; reserved < fi.Size()+preallocAhead {
		t.Errorf("segment has %d bytes of blocks for %d written, want at least %d reserved ahead", reserved, fi.Size(), preallocAhead)
	}
	// Later records follow on in the reserved space, and all read back.
	if err := j.Append(batch(t, 11, 20, "")); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(segPath(j.Path(), segs[0])); err != nil || fi.Size() != j.segSize {
		t.Errorf("segment after a second record: %v %v, want %d bytes", fi, err, j.segSize)
	}
	got, err := j.Read(0, 100, store.Filter{}, 0)
	if err != nil || !equalSeqs(seqs(got), rangeSeqs(1, 20)) {
		t.Fatalf("read back: %d events, %v", len(got), err)
	}
}
