package journal

import (
	"strconv"
	"testing"
	"time"

	"github.com/mpm-dev/mpm/internal/event"
)

// waitKeyFilter waits until the background build has installed the filter.
func waitKeyFilter(t *testing.T, j *Journal) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		j.kf.mu.Lock()
		built := j.kf.f != nil
		j.kf.mu.Unlock()
		if built {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the key filter was not built within 30 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// The filter holds every key stored before open (read in the background)
// and since; it rules out nearly every fresh key, so those cost no query.
func TestKeyFilter(t *testing.T) {
	dir := t.TempDir()
	j := openT(t, dir, Options{})
	now := time.Now()
	var evs []*event.Event
	for i := 1; i <= 300; i++ {
		evs = append(evs, mkEvent(t, uint64(i), "s", "Stop", "", "", "old-"+strconv.Itoa(i), now, 0))
	}
	if err := j.Append(evs); err != nil {
		t.Fatal(err)
	}
	j.Close()

	j = openT(t, dir, Options{})
	waitKeyFilter(t, j)
	if err := j.Append([]*event.Event{mkEvent(t, 301, "s", "Stop", "", "", "new-1", now, 0)}); err != nil {
		t.Fatal(err)
	}
	stored := []string{"new-1"}
	for i := 1; i <= 300; i++ {
		stored = append(stored, "old-"+strconv.Itoa(i))
	}
	if got := j.kf.maybeStored(stored); len(got) != len(stored) {
		t.Fatalf("the filter ruled out %d stored keys", len(stored)-len(got))
	}
	found, err := j.LookupKeys(append([]string{"fresh"}, stored...))
	if err != nil || len(found) != len(stored) || found["new-1"] != 301 || found["old-7"] != 7 {
		t.Fatalf("LookupKeys found %d of %d (%v)", len(found), len(stored), err)
	}
	var fresh []string
	for i := 0; i < 10000; i++ {
		fresh = append(fresh, "fresh-"+strconv.Itoa(i))
	}
	if maybe := j.kf.maybeStored(fresh); len(maybe) > len(fresh)/20 {
		t.Fatalf("the filter let %d of %d fresh keys through, want about 1%%", len(maybe), len(fresh))
	}
}
