package journal

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
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
					if len(evs) == 64 || s == total {
						if err := j.Append(evs); err != nil {
							b.Fatal(err)
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
			}
		})
	}
}

// BenchmarkJournalSearch fills a journal with MPM_BENCH_EVENTS (default
// 100,000) events of the realistic corpus over 6 sessions, then times a
// mix of queries (common and rare words, phrases, prefixes, field filters,
// a session filter; limit 50) and prints p50 and p99.
func BenchmarkJournalSearch(b *testing.B) {
	total := 100_000
	if v, err := strconv.Atoi(os.Getenv("MPM_BENCH_EVENTS")); err == nil && v > 0 {
		total = v
	}
	corpus := hookCorpus(b, 5, 2000, 1)
	j, err := Open(Options{Path: filepath.Join(b.TempDir(), "journal.db"), RetainInterval: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
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
	}
	if err := j.catchUpIndex(); err != nil {
		b.Fatal(err)
	}
	first, _ := event.Parse(corpus[1], 1<<20)
	queries := []store.SearchQuery{
		{Query: "func"},
		{Query: "journal"},
		{Query: "tool:Edit path:journal.go"},
		{Query: `"go test"`},
		{Query: "retent*"},
		{Query: "command:git status"},
		{Query: "permission OR rounding"},
		{Query: "FAIL -journal"},
		{Query: "output:EncodeAll"},
		{Query: "func", Session: first.SessionID},
		{Query: "Append", Since: base.Add(time.Duration(total/2) * time.Second)},
		{Query: "xyzzy-not-there"},
	}
	var lat []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, q := range queries {
			q.Limit = 50
			t0 := time.Now()
			if _, err := j.Search(q); err != nil {
				b.Fatalf("%q: %v", q.Query, err)
			}
			lat = append(lat, time.Since(t0))
		}
	}
	b.StopTimer()
	sort.Slice(lat, func(x, y int) bool { return lat[x] < lat[y] })
	p50, p99 := lat[len(lat)/2], lat[(len(lat)-1)*99/100]
	b.ReportMetric(float64(p50.Microseconds())/1000, "p50_ms")
	b.ReportMetric(float64(p99.Microseconds())/1000, "p99_ms")
	fmt.Printf("search over %d events, %d queries: p50 %v p99 %v (targets 50ms / 200ms)\n", total, len(lat), p50.Round(time.Microsecond), p99.Round(time.Microsecond))
}
