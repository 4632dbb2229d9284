package journal

import (
	"reflect"
	"testing"
	"time"

	"github.com/mpm-dev/mpm/internal/event"
	"github.com/mpm-dev/mpm/internal/store"
)

// phraseEvents are events whose text has the words of a phrase in order,
// out of order, apart, in another column, and inside longer words.
var phraseEvents = []string{
	`{"session_id":"p","hook_event_name":"PreToolUse","tool_name":"Bash","tool_use_id":"a","tool_input":{"command":"go test ./zebra/..."}}`,                                           // 1: command "go test"
	`{"session_id":"p","hook_event_name":"PreToolUse","tool_name":"Bash","tool_use_id":"b","tool_input":{"command":"test that go builds zebra"}}`,                                     // 2: both words, not as the phrase
	`{"session_id":"p","hook_event_name":"UserPromptSubmit","prompt":"go and test the zebra crossing"}`,                                                                               // 3: apart
	`{"session_id":"p","hook_event_name":"PreToolUse","tool_name":"Edit","tool_use_id":"c","tool_input":{"file_path":"/src/zebra/orders_test.go","old_string":"x","new_string":"y"}}`, // 4: path orders_test.go: orders, test, go
	`{"session_id":"p","hook_event_name":"PreToolUse","tool_name":"Edit","tool_use_id":"d","tool_input":{"file_path":"/src/zebra/orders.go","old_string":"x","new_string":"y"}}`,      // 5: path orders.go
	`{"session_id":"p","hook_event_name":"Notification","message":"Zebra: go, test! Now go testing"}`,                                                                                 // 6: message "go test" (punctuation between), "go testing"
	`{"session_id":"p","hook_event_name":"Stop","last_assistant_message":"le café crème est prêt pour zebra"}`,                                                                        // 7: diacritics
}

func appendPhraseEvents(t *testing.T, j *Journal) {
	t.Helper()
	first := j.LastSeq() + 1
	var evs []*event.Event
	for i, p := range phraseEvents {
		ev, err := event.Parse([]byte(p), 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		ev.Seq, ev.Received = first+uint64(i), time.Now()
		evs = append(evs, ev)
	}
	if err := j.Append(evs); err != nil {
		t.Fatal(err)
	}
}

// phraseCases are queries over phraseEvents and the events (1-based in
// phraseEvents) they find, newest first.
var phraseCases = []struct {
	q    string
	want []uint64
}{
	{`"go test"`, []uint64{6, 1}},
	{`command:"go test"`, []uint64{1}},
	{`"test go"`, []uint64{4}}, // orders_test.go
	{`"go test" zebra`, []uint64{6, 1}},
	{`"go test" OR crossing`, []uint64{6, 3, 1}},
	{`zebra -"go test"`, []uint64{7, 5, 4, 3, 2}},
	{`path:orders.go`, []uint64{5}},
	{`orders.go`, []uint64{5}},
	{`tool:Edit path:orders.go`, []uint64{5}},
	{`path:"zebra/ord*"`, []uint64{5, 4}},
	{`path:"src/zebra/orders"`, []uint64{5, 4}},
	{`path:"zebra/src"`, []uint64{}},
	{`path:"go zebra"`, []uint64{}},
	{`command:"test ./zebra"`, []uint64{1}},
	{`command:"go test" -command:"go test ./zebra"`, []uint64{}},
	{`"go tes*"`, []uint64{6, 1}},
	{`"go testi*"`, []uint64{6}},
	{`"now go testi*"`, []uint64{6}},
	{`"zebra crossing"`, []uint64{3}},
	{`"crossing zebra"`, []uint64{}},
	{`"cafe creme"`, []uint64{7}},
	{`"café crème est"`, []uint64{7}},
	{`"creme cafe"`, []uint64{}},
	{`"cafe crem*"`, []uint64{7}},
	{`"cafe crim*"`, []uint64{}},
	{`"CAFE CRÈME"`, []uint64{7}},
}

// TestSearchPhraseCheck: with a detail=column index a phrase is matched
// exactly as FTS5 matched it with detail=full: a candidate with every word
// of the phrase but not in order (or in another column) is not returned,
// with or without a limit, and the same queries give the same hits on a
// journal whose index is detail=full (made before layout 6, kept as it
// is: testdata/journal-v4.db).
func TestSearchPhraseCheck(t *testing.T) {
	fresh := openT(t, t.TempDir(), Options{})
	if !fresh.searchColumn {
		t.Fatal("a new journal's index is not detail=column")
	}
	appendPhraseEvents(t, fresh)
	dir := t.TempDir()
	copyFixture(t, "journal-v4.db", dir)
	old := openT(t, dir, Options{})
	if old.searchColumn {
		t.Fatal("the layout-4 journal's detail=full index was replaced")
	}
	base := old.LastSeq()
	appendPhraseEvents(t, old)
	for _, j := range []struct {
		name string
		j    *Journal
		base uint64
	}{{"detail=column", fresh, 0}, {"detail=full", old, base}} {
		for _, tc := range phraseCases {
			hits, err := j.j.Search(store.SearchQuery{Query: tc.q})
			if err != nil {
				t.Fatalf("%s: %q: %v", j.name, tc.q, err)
			}
			got := []uint64{}
			for _, h := range hits {
				got = append(got, h.Seq-j.base)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("%s: %q: hits %v, want %v", j.name, tc.q, got, tc.want)
			}
		}
	}
	// The limit counts hits, not candidates: event 2 (both words, not the
	// phrase) is newer than 1 and does not take its place.
	for _, j := range []*Journal{fresh} {
		hits, err := j.Search(store.SearchQuery{Query: `command:"go test"`, Limit: 1})
		if err != nil || len(hits) != 1 || hits[0].Seq != 1 {
			t.Errorf("limit 1: %v %v, want event 1", hitSeqs(hits), err)
		}
	}
}
