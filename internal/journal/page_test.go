package journal

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mpm-dev/mpm/internal/event"
	"github.com/mpm-dev/mpm/internal/store"
)

// TestPageAndTailStart: both stores page through history in byte-bounded
// pages that together are exactly Read's answer, and a tail found with
// TailStart and read page by page is exactly Tail's answer, for every
// filter, tail length and byte bound.
func TestPageAndTailStart(t *testing.T) {
	j := openT(t, t.TempDir(), Options{})
	mem := store.NewMemory(1000)
	base := time.Now()
	var all []*event.Event
	for i := uint64(1); i <= 120; i++ {
		sess := []string{"a", "b", "c"}[i%3]
		if i%7 == 0 {
			sess = "d"
		}
		ev := mkEvent(t, i, sess, "PreToolUse", "Bash", "", "", base, int(i%5)*300)
		all = append(all, ev)
	}
	for _, st := range []store.Store{j, mem} {
		if err := st.Append(all); err != nil {
			t.Fatal(err)
		}
	}
	const last = 120
	for _, st := range []store.Store{j, mem} {
		for _, f := range [][]string{nil, {"d"}, {"a", "d"}, {"d", "a", "d"}, {"nope"}, {"b", "nope"}} {
			filter := store.Filter{Sessions: f}
			want, err := st.Read(5, last-3, filter, 0)
			if err != nil {
				t.Fatal(err)
			}
			for _, maxBytes := range []int{1, 700, 5000} {
				var got []*event.Event
				for after := uint64(5); ; {
					page, err := st.Page(after, last-3, filter, 40, maxBytes)
					if err != nil {
						t.Fatal(err)
					}
					if len(page) == 0 {
						break
					}
					size := 0
					for _, ev := range page[:len(page)-1] {
						size += store.EventBytes(ev)
					}
					if len(page) > 40 || size >= maxBytes {
						t.Fatalf("%s %v: a page of %d events, %d bytes before its last, over 40 events / %d bytes", st.Kind(), f, len(page), size, maxBytes)
					}
					got = append(got, page...)
					after = page[len(page)-1].Seq
				}
				if !reflect.DeepEqual(seqs(got), seqs(want)) {
					t.Fatalf("%s %v %d bytes: pages = %v, want %v", st.Kind(), f, maxBytes, seqs(got), seqs(want))
				}
			}
			for _, n := range []int{0, 1, 13, 1000} {
				tail, err := st.Tail(5, last-3, filter, n)
				if err != nil {
					t.Fatal(err)
				}
				start, err := st.TailStart(5, last-3, filter, n)
				if err != nil {
					t.Fatal(err)
				}
				got, err := st.Read(start, last-3, filter, 0)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(seqs(got), seqs(tail)) {
					t.Fatalf("%s %v: Read(TailStart(%d)=%d) = %v, want Tail %v", st.Kind(), f, n, start, seqs(got), seqs(tail))
				}
			}
		}
	}
	// TailStart over sessions reads the index alone, never an event row.
	rows, err := j.r.Query(`EXPLAIN QUERY PLAN SELECT seq FROM events WHERE session_id IN (SELECT value FROM json_each(?)) AND seq > ? AND seq <= ? ORDER BY seq DESC LIMIT 1 OFFSET ?`, `["a","b"]`, 0, 10, 5)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		rows.Scan(&id, &parent, &notused, &detail)
		plan = append(plan, detail)
	}
	if len(plan) == 0 || !strings.Contains(plan[0], "COVERING INDEX") {
		t.Fatalf("TailStart's plan reads event rows: %q", plan)
	}
}
