package journal

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/mpm-dev/mpm/internal/event"
	"github.com/mpm-dev/mpm/internal/store"
)

// BenchmarkJournalStorage stores MPM_BENCH_EVENTS (default 20,000) events
// of the realistic corpus (hookCorpus) through Append in batches of 64,
// once with raw payloads (the layout before compression) and once
// compressed, and prints per mode: the file size over the raw payload bytes
// (the keys table, indexes and page slack included), append throughput and
// read (replay) throughput.
func BenchmarkJournalStorage(b *testing.B) {
	total := 20_000
	if v, err := strconv.Atoi(os.Getenv("MPM_BENCH_EVENTS")); err == nil && v > 0 {
		total = v
	}
	corpus := hookCorpus(b, 5, 2000, 1)
	for _, mode := range []string{"raw", "compressed"} {
		b.Run(mode, func(b *testing.B) {
			defer func(old bool) { storeRaw = old }(storeRaw)
			storeRaw = mode == "raw"
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
				fmt.Printf("storage %-10s %d events, %.1f MiB raw payloads: file %.1f MiB = %.3f x raw; append %.0f events/s (%.1f MiB/s raw); read %.0f events/s (%.1f MiB/s)\n",
					mode, total, float64(raw)/(1<<20), float64(size)/(1<<20), float64(size)/float64(raw),
					float64(total)/appendTime.Seconds(), float64(raw)/(1<<20)/appendTime.Seconds(),
					float64(total)/readTime.Seconds(), float64(raw)/(1<<20)/readTime.Seconds())
			}
		})
	}
}
