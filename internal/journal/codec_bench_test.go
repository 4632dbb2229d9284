package journal

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mpm-dev/mpm/internal/event"
	"github.com/mpm-dev/mpm/internal/store"
)

// BenchmarkJournalStorage stores MPM_BENCH_EVENTS (default 20,000) events
// of the realistic corpus (hookCorpus) through Append in batches of 64,
// with raw payloads and no search index (the journal before issue 21),
// compressed without the index, and compressed with it, and prints per mode: the file size over the raw payload bytes
// (the keys table, indexes and page slack included), append throughput and
// read (replay) throughput.
func BenchmarkJournalStorage(b *testing.B) {
	total := 20_000
	if v, err := strconv.Atoi(os.Getenv("MPM_BENCH_EVENTS")); err == nil && v > 0 {
		total = v
	}
	// MPM_BENCH_COMMIT=k commits every k events (each Append of k waits
	// for its commit, nothing gathered): a stream whose bursts are k
	// events apart, as an idle-ish user's are; default 64 a batch, the
	// committer free to gather (a saturated stream).
	commitEvery, _ := strconv.Atoi(os.Getenv("MPM_BENCH_COMMIT"))
	batch := 64
	if commitEvery > 0 {
		batch = commitEvery
		defer func(d time.Duration) { gatherDelay = d }(gatherDelay)
		gatherDelay = 0
	}
	corpus := hookCorpus(b, 5, 2000, 1)
	for _, mode := range []string{"raw-noindex", "compressed-noindex", "compressed-indexed"} {
		b.Run(mode, func(b *testing.B) {
			defer func(raw, noidx bool) { storeRaw, noIndex = raw, noidx }(storeRaw, noIndex)
			storeRaw = mode == "raw-noindex"
			noIndex = mode != "compressed-indexed"
			for i := 0; i < b.N; i++ {
				dir := b.TempDir()
				j, err := Open(Options{Path: filepath.Join(dir, "journal.db"), RetainInterval: time.Hour})
				if err != nil {
					b.Fatal(err)
				}
				var raw int64
				var evs []*event.Event
				t0 := time.Now()
				for s := 1; s <= total; s++ {
					p := corpus[s%len(corpus)]
					ev, err := event.Parse(p, 1<<20)
					if err != nil {
						b.Fatal(err)
					}
					ev.Seq, ev.Received, ev.Key = uint64(s), time.Now(), "k-"+strconv.Itoa(s)
					raw += int64(len(p))
					evs = append(evs, ev)
					if len(evs) == batch || s == total {
						if err := j.Append(evs); err != nil {
							b.Fatal(err)
						}
						if commitEvery > 0 {
							if err := j.waitCommitted(); err != nil {
								b.Fatal(err)
							}
						}
						evs = evs[:0]
					}
				}
				if err := j.catchUpIndex(); err != nil { // the indexer's work, counted with the appends
					b.Fatal(err)
				}
				appendTime := time.Since(t0)
				t0 = time.Now()
				var read int
				for after := uint64(0); ; {
					page, err := j.Page(after, uint64(total), store.Filter{}, 1000, 4<<20)
					if err != nil {
						b.Fatal(err)
					}
					if len(page) == 0 {
						break
					}
					read += len(page)
					after = page[len(page)-1].Seq
				}
				readTime := time.Since(t0)
				if read != total {
					b.Fatalf("read %d of %d", read, total)
				}
				breakdown := spaceByTable(b, j, raw, total)
				j.Close()
				var size int64
				for _, s := range []string{"", "-wal"} {
					if fi, err := os.Stat(j.Path() + s); err == nil {
						size += fi.Size()
					}
				}
				b.ReportMetric(float64(size)/float64(raw), "store/raw")
				b.ReportMetric(float64(total)/appendTime.Seconds(), "append_events/s")
				b.ReportMetric(float64(total)/readTime.Seconds(), "read_events/s")
				fmt.Printf("storage %-18s %d events, %.1f MiB raw payloads: file %.1f MiB = %.3f x raw; append %.0f events/s (%.1f MiB/s raw); read %.0f events/s (%.1f MiB/s)\n",
					mode, total, float64(raw)/(1<<20), float64(size)/(1<<20), float64(size)/float64(raw),
					float64(total)/appendTime.Seconds(), float64(raw)/(1<<20)/appendTime.Seconds(),
					float64(total)/readTime.Seconds(), float64(raw)/(1<<20)/readTime.Seconds())
				fmt.Print(breakdown)
			}
		})
	}
}

// spaceByTable returns what each table and index of j's file takes
// (SQLite's dbstat, after a checkpoint), per event and over the raw
// payload bytes: where the file's bytes go.
func spaceByTable(b *testing.B, j *Journal, raw int64, events int) string {
	if _, err := j.ck.Exec("PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		b.Fatal(err)
	}
	rows, err := j.r.Query(`SELECT CASE WHEN name LIKE 'search%' THEN 'search (FTS5, all tables)' WHEN name LIKE 'sqlite_autoindex_keys%' THEN 'keys' ELSE name END AS n,
		SUM(pgsize), SUM(unused) FROM dbstat GROUP BY n ORDER BY 2 DESC`)
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	var out strings.Builder
	var stored int64
	if err := j.r.QueryRow(`SELECT (SELECT COALESCE(SUM(length(payload)), 0) FROM events WHERE payload_codec != 2) + (SELECT COALESCE(SUM(length(data)), 0) FROM blocks)`).Scan(&stored); err != nil {
		b.Fatal(err)
	}
	fmt.Fprintf(&out, "  %-26s %7.0f B/event  %.3f x raw\n", "(stored payloads alone)", float64(stored)/float64(events), float64(stored)/float64(raw))
	for rows.Next() {
		var name string
		var size, unused int64
		if err := rows.Scan(&name, &size, &unused); err != nil {
			b.Fatal(err)
		}
		if size/int64(events) == 0 {
			continue
		}
		fmt.Fprintf(&out, "  %-26s %7.0f B/event  %.3f x raw  (%.0f B/event unused page space)\n", name, float64(size)/float64(events), float64(size)/float64(raw), float64(unused)/float64(events))
	}
	var free int64
	j.r.QueryRow(`SELECT freelist_count * page_size FROM pragma_freelist_count, pragma_page_size`).Scan(&free)
	fmt.Fprintf(&out, "  %-26s %7.0f B/event  %.3f x raw\n", "free pages", float64(free)/float64(events), float64(free)/float64(raw))
	return out.String()
}

// searchJournal returns a journal holding total events of the realistic
// corpus over its 6 sessions, one a second up to now, every one indexed.
// It is built once and kept in the temporary directory
// (mpm-bench-search-<layout>-<total>-<corpus hash>.db) for the next run: a million
// events take several minutes to store and index.
func searchJournal(b *testing.B, corpus [][]byte, total int) (*Journal, time.Time) {
	h := fnv.New32a() // the corpus follows the repository's files: a new one, a new journal
	for _, p := range corpus {
		h.Write(p)
	}
	path := filepath.Join(os.TempDir(), fmt.Sprintf("mpm-bench-search-v%d-%d-%08x.db", schemaVersion, total, h.Sum32()))
	opts := Options{Path: path, RetainInterval: time.Hour}
	if j, err := Open(opts); err == nil {
		var first int64
		j.r.QueryRow(`SELECT received_ns FROM events WHERE seq = 1`).Scan(&first)
		err := j.catchUpIndex()
		if j.LastSeq() == uint64(total) && err == nil {
			fmt.Printf("search journal: reusing %s\n", path)
			return j, time.Unix(0, first).Add(-time.Second)
		}
		fmt.Printf("search journal: not reusing %s: last seq %d, index: %v\n", path, j.LastSeq(), err)
		j.Close()
	}
	for _, s := range []string{"", "-wal", "-shm", ".seq"} {
		os.Remove(path + s)
	}
	j, err := Open(opts)
	if err != nil {
		b.Fatal(err)
	}
	t0 := time.Now()
	base := time.Now().Add(-time.Duration(total) * time.Second)
	var evs []*event.Event
	for s := 1; s <= total; s++ {
		ev, err := event.Parse(corpus[s%len(corpus)], 1<<20)
		if err != nil {
			b.Fatal(err)
		}
		ev.Seq, ev.Received = uint64(s), base.Add(time.Duration(s)*time.Second)
		evs = append(evs, ev)
		if len(evs) == 256 || s == total {
			if err := j.Append(evs); err != nil {
				b.Fatal(err)
			}
			evs = evs[:0]
		}
		if s%100_000 == 0 {
			fmt.Printf("search journal: %d events stored (%v)\n", s, time.Since(t0).Round(time.Second))
		}
	}
	if err := j.catchUpIndex(); err != nil {
		b.Fatal(err)
	}
	fmt.Printf("search journal: %d events stored and indexed in %v\n", total, time.Since(t0).Round(time.Second))
	return j, base
}

// BenchmarkJournalSearch times a mix of queries (common and rare words, a
// phrase, a prefix, field filters, a session filter, a time range; limit
// 50) over a journal of MPM_BENCH_EVENTS (default 1,000,000) events of
// the realistic corpus (searchJournal, built once and kept), and prints
// p50 and p99 over all of them and each query's median. It also times
// reopening that journal (journal.Open + Sessions), the journal's part of
// start to healthy.
func BenchmarkJournalSearch(b *testing.B) {
	total := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("MPM_BENCH_EVENTS")); err == nil && v > 0 {
		total = v
	}
	corpus := hookCorpus(b, 5, 2000, 1)
	j, base := searchJournal(b, corpus, total)
	j.Close()
	t0 := time.Now()
	j, err := Open(Options{Path: j.Path(), RetainInterval: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	if infos, _ := j.Sessions(); j.LastSeq() != uint64(total) || len(infos) != 6 {
		b.Fatalf("reopened: last seq %d, %d sessions", j.LastSeq(), len(infos))
	}
	openTime := time.Since(t0)
	defer j.Close()
	if fi, err := os.Stat(j.Path()); err == nil {
		fmt.Printf("search journal: %d events, file %.0f MiB; journal.Open + Sessions %v\n", total, float64(fi.Size())/(1<<20), openTime.Round(time.Millisecond))
	}
	first, _ := event.Parse(corpus[1], 1<<20)
	edited := "" // a file the corpus edits in first's session, for the field queries
	for _, p := range corpus {
		ev, _ := event.Parse(p, 1<<20)
		if ev.SessionID != first.SessionID {
			continue
		}
		var in struct {
			Input struct {
				Path string `json:"file_path"`
			} `json:"tool_input"`
		}
		if ev.Tool == "Edit" && json.Unmarshal(p, &in) == nil && in.Input.Path != "" {
			edited = filepath.Base(in.Input.Path)
			break
		}
	}
	queries := []store.SearchQuery{
		{Query: "func"},
		{Query: "journal"},
		{Query: "tool:Edit path:" + edited},
		{Query: "tool:Edit path:journal.go"}, // no such file in this half: no hits, the whole scan
		{Query: `"go test"`},
		{Query: `"the retention limits"`},
		{Query: "retent*"},
		{Query: "command:git status"},
		{Query: "permission OR rounding"},
		{Query: "FAIL -journal"},
		{Query: "output:EncodeAll"},
		{Query: "func", Session: first.SessionID},
		{Query: "tool:Edit path:" + edited, Session: first.SessionID},
		{Query: "Append", Since: base.Add(time.Duration(total/2) * time.Second)},
		{Query: "xyzzy-not-there"},
	}
	var lat []time.Duration
	per := make([][]time.Duration, len(queries))
	hits := make([]int, len(queries))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for k, q := range queries {
			q.Limit = 50
			t0 := time.Now()
			h, err := j.Search(q)
			if err != nil {
				b.Fatalf("%q: %v", q.Query, err)
			}
			d := time.Since(t0)
			lat = append(lat, d)
			per[k] = append(per[k], d)
			hits[k] = len(h)
		}
	}
	b.StopTimer()
	sort.Slice(lat, func(x, y int) bool { return lat[x] < lat[y] })
	p50, p99 := lat[len(lat)/2], lat[(len(lat)-1)*99/100]
	b.ReportMetric(float64(p50.Microseconds())/1000, "p50_ms")
	b.ReportMetric(float64(p99.Microseconds())/1000, "p99_ms")
	fmt.Printf("search over %d events, %d queries: p50 %v p99 %v (targets 50ms / 200ms)\n", total, len(lat), p50.Round(time.Microsecond), p99.Round(time.Microsecond))
	for k, q := range queries {
		d := per[k]
		sort.Slice(d, func(x, y int) bool { return d[x] < d[y] })
		filter := ""
		if q.Session != "" {
			filter = " session=" + q.Session[:8]
		}
		if !q.Since.IsZero() {
			filter = " since=half"
		}
		fmt.Printf("  %-32s median %9v max %9v  %d hits\n", q.Query+filter, d[len(d)/2].Round(time.Microsecond), d[len(d)-1].Round(time.Microsecond), hits[k])
	}
}
