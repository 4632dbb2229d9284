package journal

import (
	"reflect"
	"strings"
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

func appendPhraseEvents(t testing.TB, j *Journal) {
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
	{`zebra -message:café`, []uint64{6, 5, 4, 3, 2, 1}},
	{`zebra -message:cafe`, []uint64{6, 5, 4, 3, 2, 1}},
	{`zebra -message:"cafe creme"`, []uint64{6, 5, 4, 3, 2, 1}},
	{`zebra -message:"creme cafe"`, []uint64{7, 6, 5, 4, 3, 2, 1}},
	{`zebra -message:CAFÉ`, []uint64{6, 5, 4, 3, 2, 1}},
	{`zebra -message:"café crème"`, []uint64{6, 5, 4, 3, 2, 1}},
	{`message:prêt`, []uint64{7}},
	{`prompt:zebra OR message:crème`, []uint64{7, 3}},
}

// TestSearchPhraseCheck: with a detail=none index (layouts 7 and 8) a
// field filter and a phrase, and with a detail=column one (layout 6) a
// phrase, are matched exactly as FTS5 matched them with detail=full: a
// candidate with every word of the phrase but not in order, or in another
// field, is not returned, with or without a limit; the same queries
// (phraseCases, and every case of TestSearch) give the same hits on the
// journals whose index is detail=none with unicode61
// (testdata/journal-v7.db), detail=column (testdata/journal-v6.db) and
// detail=full (testdata/journal-v4.db), kept as they are.
func TestSearchPhraseCheck(t *testing.T) {
	fresh := openT(t, t.TempDir(), Options{})
	if fresh.search != searchASCII {
		t.Fatalf("a new journal's index is of kind %d, want detail=none and ascii", fresh.search)
	}
	appendPhraseEvents(t, fresh)
	kinds := []struct {
		name    string
		fixture string
		kind    searchKind
	}{{"detail=none, unicode61", "journal-v7.db", searchNone}, {"detail=column", "journal-v6.db", searchColumn}, {"detail=full", "journal-v4.db", searchFull}}
	type journalCase struct {
		name string
		j    *Journal
		base uint64
	}
	js := []journalCase{{"detail=none, ascii", fresh, 0}}
	for _, k := range kinds {
		dir := t.TempDir()
		copyFixture(t, k.fixture, dir)
		old := openT(t, dir, Options{})
		if old.search != k.kind {
			t.Fatalf("the %s journal's index was replaced (kind %d)", k.name, old.search)
		}
		base := old.LastSeq()
		appendPhraseEvents(t, old)
		js = append(js, journalCase{k.name, old, base})
	}
	for _, j := range js {
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
	// phrase) is newer than 1 and does not take its place,
	for _, j := range js[:2] {
		// and the newer events with the word in another field do not
		// take the place of a field filter's hit
		for _, c := range []struct {
			q    string
			want uint64
		}{{`command:"go test"`, 1}, {`command:zebra`, 2}, {`path:zebra -tool:Bash`, 5}} {
			hits, err := j.j.Search(store.SearchQuery{Query: c.q, Limit: 1})
			if err != nil || len(hits) != 1 || hits[0].Seq-j.base != c.want {
				t.Errorf("%s: %s, limit 1: %v %v, want event %d", j.name, c.q, hitSeqs(hits), err, c.want)
			}
		}
	}
}

// TestLatinFold: every letter latinFold folds, FTS5's tokenizer folds the
// same way: an index of the word x<letter>y is found by x<base>y, in
// upper and lower case.
func TestLatinFold(t *testing.T) {
	j := openT(t, t.TempDir(), Options{})
	if _, err := j.w.Exec(`CREATE VIRTUAL TABLE fold USING fts5(w, tokenize='unicode61 remove_diacritics 2')`); err != nil {
		t.Fatal(err)
	}
	n := int64(0)
	for r, base := range latinFold {
		n++
		if _, err := j.w.Exec(`INSERT INTO fold(rowid, w) VALUES (?, ?)`, n, "x"+string(r)+"y"); err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{"x" + string(base) + "y", "X" + strings.ToUpper(string(base)) + "Y"} {
			var got int64
			if err := j.w.QueryRow(`SELECT COUNT(*) FROM fold WHERE fold MATCH ? AND rowid = ?`, `"`+q+`"`, n).Scan(&got); err != nil || got != 1 {
				t.Errorf("%q (U+%04X): FTS5 does not fold it to %q (%v)", string(r), r, q, err)
			}
		}
		if f, ok := foldLatin("x" + string(r) + "\u0301y"); !ok || f != "x"+string(base)+"y" {
			t.Errorf("foldLatin(%q) = %q %v", string(r), f, ok)
		}
	}
}

// TestMarkWords: appendMarked puts the mark before each word as ftsWords
// cuts them (ASCII, non-ASCII letters, combining diacritics, pairs), and
// the index finds each marked word by the field's filter only.
func TestMarkWords(t *testing.T) {
	for _, s := range []string{"", "go test ./zebra/...", "/src/zebra/orders_test.go\n src\ue000zebra", "café crème", "cafe\u0301 x", "日本語 テスト", "a--b  c"} {
		var want []string
		for _, w := range ftsWords(s, nil) {
			want = append(want, fieldMark[fCommand]+w.s)
		}
		var got []string
		for _, w := range ftsWords(string(appendMarked(nil, s, fieldMark[fCommand])), nil) {
			got = append(got, w.s)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("appendMarked(%q): words %q, want %q", s, got, want)
		}
	}
	j := openT(t, t.TempDir(), Options{})
	appendPhraseEvents(t, j)
	for _, c := range []struct {
		q    string
		want []uint64
	}{{"command:zebra", []uint64{2, 1}}, {"path:zebra", []uint64{5, 4}}, {"tool:bash", []uint64{2, 1}}, {"zebra -command:zebra -path:zebra", []uint64{7, 6, 3}}, {"event:stop OR path:orders", []uint64{7, 5, 4}}} {
		hits, err := j.Search(store.SearchQuery{Query: c.q})
		if err != nil || !reflect.DeepEqual(hitSeqs(hits), c.want) {
			t.Errorf("%s: %v (%v), want %v", c.q, hitSeqs(hits), err, c.want)
		}
	}
}
