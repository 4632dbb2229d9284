package spool

import (
	"errors"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"
)

// hangGuard fails the test when fn has not returned after a minute: the
// property is "returns without waiting for the holder", and a minute is
// far beyond any scheduling delay.
func hangGuard(t *testing.T, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); fn() }()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatalf("%s hung", what)
	}
}

// TestAppendDoesNotWaitForAStuckLockHolder: a process holding the live
// segment's lock (stuck mid-append) made every hook wait for it (7.7 s
// measured); now Append writes the record aside after LockWait and nothing
// is lost.
func TestAppendDoesNotWaitForAStuckLockHolder(t *testing.T) {
	dir := t.TempDir()
	if err := Append(dir, rec("first", `{"n":1}`)); err != nil {
		t.Fatal(err)
	}
	holder, err := os.OpenFile(filepath.Join(dir, liveName), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := lockFile(holder, true); err != nil {
		t.Fatal(err)
	}
	var aerr error
	hangGuard(t, "Append with the live lock held", func() { aerr = Append(dir, rec("second", `{"n":2}`)) })
	if aerr != nil {
		t.Fatalf("Append: %v", aerr)
	}
	// The drain must not wait for the stuck holder either: it seals "live"
	// and gives up on it for now, delivering what it can.
	var first []Record
	hangGuard(t, "Drain with the live lock held", func() {
		Drain(dir, func(r Record) error { first = append(first, r); return nil })
	})
	holder.Close() // the stuck process goes away
	got := append(first, drainAll(t, dir)...)
	ks := keys(got)
	sort.Strings(ks)
	if len(ks) != 2 || ks[0] != "first" || ks[1] != "second" {
		t.Fatalf("delivered %v, want first and second once each", keys(got))
	}
	if info, err := Inspect(dir); err != nil || info.Records != 0 {
		t.Errorf("after the drains: %+v, %v", info, err)
	}
}

// TestRecordAsideIsComplete: a record written aside appears whole or not
// at all under a segment name (never a .tmp a drainer would read).
func TestRecordAsideIsComplete(t *testing.T) {
	dir := t.TempDir()
	b, err := Encode(rec("aside", `{"x":"y"}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := appendAside(dir, b); err != nil {
		t.Fatal(err)
	}
	segs, err := listSegments(dir)
	if err != nil || len(segs) != 1 || segs[0].size != int64(len(b)) {
		t.Fatalf("segments %+v, %v", segs, err)
	}
	if got := drainAll(t, dir); len(got) != 1 || got[0].Key != "aside" {
		t.Fatalf("drained %v", keys(got))
	}
}

// TestWritableReportsAReadOnlySpool: a spool this user cannot write (one
// made by mpm-hook run as root) is reported with its path.
func TestWritableReportsAReadOnlySpool(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root writes anything; mpm-verify's end-to-end test covers a root-owned spool with a non-root user")
	}
	dir := filepath.Join(t.TempDir(), "spool")
	if err := Append(dir, rec("a", `{}`)); err != nil {
		t.Fatal(err)
	}
	if err := Writable(dir); err != nil {
		t.Fatalf("a writable spool: %v", err)
	}
	if err := os.Chmod(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o700) })
	var nw *NotWritableError
	if err := Writable(dir); !errors.As(err, &nw) || nw.Path != dir {
		t.Fatalf("Writable = %v, want a NotWritableError for %s", err, dir)
	}
}

// TestUnreadableSegmentSkipped: a segment this user may not read (written
// by mpm-hook run as root) no longer holds back the rest of the spool; the
// drain delivers the others and reports the permission error.
func TestUnreadableSegmentSkipped(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads anything")
	}
	dir := t.TempDir()
	for _, k := range []string{"a", "b"} {
		b, _ := Encode(rec(k, `{}`))
		if err := appendAside(dir, b); err != nil {
			t.Fatal(err)
		}
	}
	segs, _ := listSegments(dir)
	if err := os.Chmod(filepath.Join(dir, segs[0].name), 0); err != nil {
		t.Fatal(err)
	}
	var got []Record
	_, err := Drain(dir, func(r Record) error { got = append(got, r); return nil })
	if !errors.Is(err, os.ErrPermission) || len(got) != 1 || got[0].Key != "b" {
		t.Fatalf("Drain = %v, delivered %v; want b delivered and a permission error", err, keys(got))
	}
}
