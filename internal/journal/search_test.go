package journal

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mpm-dev/mpm/internal/event"
	"github.com/mpm-dev/mpm/internal/store"
)

// searchEvents stores a small history with every searchable field and
// returns the journal and the time of the first event (one second apart).
func searchEvents(t *testing.T, opts Options) (*Journal, time.Time) {
	return searchEventsKind(t, opts, searchASCII)
}

// oldSearchDefs are the search index definitions of the layouts before 8.
var oldSearchDefs = map[searchKind]string{
	searchNone: `CREATE VIRTUAL TABLE search USING fts5(
	text, content='', contentless_delete=1, detail=none, tokenize='unicode61 remove_diacritics 2'
)`,
	searchFull: `CREATE VIRTUAL TABLE search USING fts5(
	event, tool, prompt, command, path, input, output, message,
	content='', contentless_delete=1, tokenize='unicode61 remove_diacritics 2'
)`,
	searchColumn: `CREATE VIRTUAL TABLE search USING fts5(
	event, tool, prompt, command, path, input, output, message,
	content='', contentless_delete=1, detail=column, tokenize='unicode61 remove_diacritics 2'
)`,
}

// openKind opens a new journal in dir whose search index is of kind k: a
// new journal's, or one of the kinds an older layout made (oldSearchDefs),
// which is kept as it is.
func openKind(t *testing.T, dir string, opts Options, k searchKind) *Journal {
	t.Helper()
	if def := oldSearchDefs[k]; def != "" {
		j := openT(t, dir, Options{})
		if _, err := j.w.Exec(`DROP TABLE search; ` + def); err != nil {
			t.Fatal(err)
		}
		j.Close()
	}
	j := openT(t, dir, opts)
	if j.search != k {
		t.Fatalf("search index of kind %d, want %d", j.search, k)
	}
	return j
}

// searchEventsKind is searchEvents with a search index of kind k.
func searchEventsKind(t *testing.T, opts Options, k searchKind) (*Journal, time.Time) {
	t.Helper()
	j := openKind(t, t.TempDir(), opts, k)
	base := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	payloads := []string{
		`{"session_id":"s1","hook_event_name":"UserPromptSubmit","prompt":"fix the rounding bug in orders.go, please"}`,
		`{"session_id":"s1","hook_event_name":"PreToolUse","tool_name":"Edit","tool_use_id":"t1","tool_input":{"file_path":"/src/shop/orders.go","old_string":"math.Floor(x)","new_string":"math.Round(x)"}}`,
		`{"session_id":"s1","hook_event_name":"PostToolUse","tool_name":"Bash","tool_use_id":"t2","tool_input":{"command":"go test ./shop/..."},"tool_response":{"stdout":"--- FAIL: TestTotals (0.00s)\n    orders_test.go:40: total 9.99, want 10.00","stderr":""}}`,
		`{"session_id":"s2","hook_event_name":"Notification","message":"Claude needs your permission to use Bash"}`,
		`{"session_id":"s2","hook_event_name":"PostToolUse","tool_name":"Read","tool_use_id":"t3","tool_input":{"file_path":"/src/shop/invoice.go"},"tool_response":{"type":"text","file":{"filePath":"/src/shop/invoice.go","content":"package shop\n\n// Invoice totals the orders of a month (orders.go has the rounding).\nfunc Invoice() {}\n"}}}`,
		`{"session_id":"s2","hook_event_name":"Stop","last_assistant_message":"Le café est prêt: the totals are fixed."}`,
	}
	var evs []*event.Event
	for i, p := range payloads {
		ev, err := event.Parse([]byte(p), 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		ev.Seq, ev.Received = uint64(i+1), base.Add(time.Duration(i)*time.Second)
		if i == 5 {
			ev.Origin, ev.OriginSeq = "laptop", 77
		}
		evs = append(evs, ev)
	}
	if err := j.Append(evs[:3]); err != nil {
		t.Fatal(err)
	}
	if err := j.Append(evs[3:]); err != nil {
		t.Fatal(err)
	}
	return j, base
}

func hitSeqs(h []store.SearchHit) []uint64 {
	out := []uint64{}
	for _, x := range h {
		out = append(out, x.Seq)
	}
	return out
}

// TestSearch: the query syntax, on each kind of search index (a new
// journal's detail=none with the ascii tokenizer over folded text, and the
// unicode61 detail=none, detail=column and detail=full indexes of journals
// made before layout 8): the same hits on every case.
func TestSearch(t *testing.T) {
	for _, k := range []struct {
		name string
		kind searchKind
	}{{"ascii", searchASCII}, {"detail=none", searchNone}, {"detail=column", searchColumn}, {"detail=full", searchFull}} {
		t.Run(k.name, func(t *testing.T) { testSearch(t, k.kind) })
	}
}

func testSearch(t *testing.T, kind searchKind) {
	j, base := searchEventsKind(t, Options{}, kind)
	for _, tc := range []struct {
		name string
		q    store.SearchQuery
		want []uint64
	}{
		{"word in prompt, path, output", store.SearchQuery{Query: "orders.go"}, []uint64{5, 2, 1}},
		{"field filters", store.SearchQuery{Query: "tool:Edit path:orders.go"}, []uint64{2}},
		{"field is case-insensitive", store.SearchQuery{Query: "TOOL:edit"}, []uint64{2}},
		{"phrase", store.SearchQuery{Query: `"needs your permission"`}, []uint64{4}},
		{"phrase out of order misses", store.SearchQuery{Query: `"permission your needs"`}, []uint64{}},
		{"prefix", store.SearchQuery{Query: "round*"}, []uint64{5, 2, 1}},
		{"command", store.SearchQuery{Query: `command:"go test"`}, []uint64{3}},
		{"output", store.SearchQuery{Query: "output:TestTotals"}, []uint64{3}},
		{"input strings", store.SearchQuery{Query: "input:Floor"}, []uint64{2}},
		{"last assistant message, diacritics folded", store.SearchQuery{Query: "message:cafe"}, []uint64{6}},
		{"event name", store.SearchQuery{Query: "event:Notification"}, []uint64{4}},
		{"and", store.SearchQuery{Query: "rounding orders"}, []uint64{5, 1}},
		{"or", store.SearchQuery{Query: "TestTotals OR Invoice"}, []uint64{5, 3}},
		{"not", store.SearchQuery{Query: "orders.go -tool:Read"}, []uint64{2, 1}},
		{"session", store.SearchQuery{Query: "orders.go", Session: "s2"}, []uint64{5}},
		{"origin", store.SearchQuery{Query: "totals", Origin: "laptop"}, []uint64{6}},
		{"since", store.SearchQuery{Query: "orders.go", Since: base.Add(time.Second)}, []uint64{5, 2}},
		{"until", store.SearchQuery{Query: "orders.go", Until: base.Add(time.Second)}, []uint64{2, 1}},
		{"limit", store.SearchQuery{Query: "orders.go", Limit: 1}, []uint64{5}},
		{"no match", store.SearchQuery{Query: "kubernetes"}, []uint64{}},
		{"field: the word in other fields too", store.SearchQuery{Query: "output:orders"}, []uint64{5, 3}},
		{"field: the word only in other fields", store.SearchQuery{Query: "input:orders"}, []uint64{}},
		{"not in a field", store.SearchQuery{Query: "orders -path:orders"}, []uint64{5, 3, 1}},
		{"fields or'ed", store.SearchQuery{Query: "prompt:orders OR message:totals"}, []uint64{6, 1}},
		{"field prefix", store.SearchQuery{Query: "tool:Rea*"}, []uint64{5}},
		{"not an event", store.SearchQuery{Query: "totals -event:Stop"}, []uint64{5}},
		{"field filter and limit", store.SearchQuery{Query: "output:orders", Limit: 1}, []uint64{5}},
		{"field filter and session", store.SearchQuery{Query: "path:shop", Session: "s1"}, []uint64{2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hits, err := j.Search(tc.q)
			if err != nil {
				t.Fatal(err)
			}
			if got := hitSeqs(hits); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("%q: hits %v, want %v", tc.q.Query, got, tc.want)
			}
		})
	}

	hits, err := j.Search(store.SearchQuery{Query: "tool:Edit path:orders.go"})
	if err != nil || len(hits) != 1 {
		t.Fatalf("%v %v", hits, err)
	}
	h := hits[0]
	if h.SessionID != "s1" || h.Event != "PreToolUse" || h.Tool != "Edit" || !h.Received.Equal(base.Add(time.Second)) {
		t.Errorf("hit %+v", h)
	}
	if !strings.Contains(h.Snippet, "/src/shop/<mark>orders.go</mark>") {
		t.Errorf("snippet %q does not mark orders.go", h.Snippet)
	}
	hits, _ = j.Search(store.SearchQuery{Query: "round*"})
	if len(hits) != 3 || !strings.Contains(hits[2].Snippet, "the <mark>rounding</mark> bug") {
		t.Errorf("prefix snippet %q", hits[2].Snippet)
	}
	hits, _ = j.Search(store.SearchQuery{Query: "TestTotals"})
	if len(hits) != 1 || !strings.Contains(hits[0].Snippet, "--- FAIL: <mark>TestTotals</mark> (0.00s)     orders_test.go") {
		t.Errorf("output snippet %q: want newlines folded", hits[0].Snippet)
	}
}

func TestSearchBadQueries(t *testing.T) {
	j := openT(t, t.TempDir(), Options{})
	for _, q := range []string{"", "   ", `"unclosed phrase`, "*", "OR foo", "foo OR", "-foo", `tool:"..."`, strings.Repeat("a ", 600)} {
		_, err := j.Search(store.SearchQuery{Query: q})
		var qe *store.QueryError
		if !errors.As(err, &qe) || qe.Msg == "" {
			t.Errorf("query %.30q: error %v, want a *store.QueryError", q, err)
		}
	}
	// FTS5 syntax in the input is searched for, never interpreted.
	for _, q := range []string{`NEAR(a b)`, `a AND`, `{tool}: x`, `^start`, `a + b`, `col:x`, `"a""b"`} {
		if _, err := j.Search(store.SearchQuery{Query: q}); err != nil {
			t.Errorf("query %q: %v, want it searched as words", q, err)
		}
	}
}

// TestSearchRetention: events dropped by retention leave the index in the
// same transaction.
func TestSearchRetention(t *testing.T) {
	j, _ := searchEvents(t, Options{RetainEvents: 2})
	if hits, _ := j.Search(store.SearchQuery{Query: "orders.go"}); len(hits) != 3 {
		t.Fatalf("before retention: %v", hitSeqs(hits))
	}
	if err := j.EnforceRetention(); err != nil {
		t.Fatal(err)
	}
	hits, err := j.Search(store.SearchQuery{Query: "orders.go OR totals OR permission"})
	if err != nil || !reflect.DeepEqual(hitSeqs(hits), []uint64{6, 5}) {
		t.Fatalf("after retention: %v %v, want [6 5]", hitSeqs(hits), err)
	}
	var n int
	if err := j.r.QueryRow(`SELECT COUNT(*) FROM search`).Scan(&n); err != nil || n != 2 {
		t.Fatalf("index rows %d (%v), want 2", n, err)
	}
}

func FuzzParseQuery(f *testing.F) {
	for _, q := range []string{"orders.go", `tool:Edit path:"a b"`, "x* OR -y", `"`, "OR", ":", "tool:", "-", `""`, `message:"café crè*" -command:go`, "output:z* OR prompt:zebra"} {
		f.Add(q)
	}
	j := openT(f, f.TempDir(), Options{})
	appendPhraseEvents(f, j) // candidates to check (phraseCheck, sameWord)
	f.Fuzz(func(t *testing.T, q string) {
		_, err := j.Search(store.SearchQuery{Query: q})
		var qe *store.QueryError
		if err != nil && !errors.As(err, &qe) {
			t.Fatalf("query %q: %v: every failure must be a QueryError (FTS5 syntax reached SQLite)", q, err)
		}
	})
}

var _ = fmt.Sprint

// TestIndexerPaths: the events the indexer does not have in memory (its
// queue overflowed) are read from the file, and events retention deleted
// before the indexer reached them never enter the index.
func TestIndexerPaths(t *testing.T) {
	defer func(n int) { maxPendingBytes = n }(maxPendingBytes)
	maxPendingBytes = 300 // the second Append overflows the queue
	j, _ := searchEvents(t, Options{RetainEvents: 4})
	j.pmu.Lock()
	queued := len(j.pend)
	j.pmu.Unlock()
	if queued != 0 {
		t.Fatalf("%d events queued, want the queue dropped", queued)
	}
	if err := j.EnforceRetention(); err != nil { // before the indexer: seqs 1 and 2 go
		t.Fatal(err)
	}
	hits, err := j.Search(store.SearchQuery{Query: "orders.go OR totals OR permission"})
	if err != nil || !reflect.DeepEqual(hitSeqs(hits), []uint64{6, 5, 4}) {
		t.Fatalf("hits %v (%v), want [6 5 4]", hitSeqs(hits), err)
	}
	var n int
	if err := j.r.QueryRow(`SELECT COUNT(*) FROM search`).Scan(&n); err != nil || n != 4 {
		t.Fatalf("index rows %d (%v), want 4", n, err)
	}

	maxPendingBytes = 32 << 20
	j2, _ := searchEvents(t, Options{RetainEvents: 4})
	if err := j2.EnforceRetention(); err != nil {
		t.Fatal(err)
	}
	if _, err := j2.Search(store.SearchQuery{Query: "totals"}); err != nil {
		t.Fatal(err)
	}
	if err := j2.r.QueryRow(`SELECT COUNT(*) FROM search`).Scan(&n); err != nil || n != 4 {
		t.Fatalf("from memory: index rows %d (%v), want 4 (the deleted events skipped)", n, err)
	}
}

// TestIndexerWokenByQueuedBytes: committed events whose payloads fill half
// the indexer's queue wake the indexer before its tick, so that it indexes
// them from memory; without the wake a few large events overflowed the
// queue between ticks and were read back from the file.
func TestIndexerWokenByQueuedBytes(t *testing.T) {
	defer func(n int, d time.Duration) { maxPendingBytes, indexInterval = n, d }(maxPendingBytes, indexInterval)
	maxPendingBytes, indexInterval = 64<<10, time.Hour // only a wake-up indexes
	j := openT(t, t.TempDir(), Options{})
	base := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	ev := mkEvent(t, 1, "s1", "PostToolUse", "Read", "t1", "", base, 40<<10) // over half the queue
	if err := j.Append([]*event.Event{ev}); err != nil {
		t.Fatal(err)
	}
	if _, err := j.Read(0, 1, store.Filter{}, 0); err != nil { // commits now (the committer gathers)
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for j.indexedTo.Load() < 1 {
		if time.Now().After(deadline) {
			t.Fatal("the indexer was not woken by a queue half full of payload bytes")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
