package journal

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/mpm-dev/mpm/internal/event"
)

// BenchmarkIndexer times the search indexer's own work on the realistic
// corpus: docOf and the FTS5 inserts and commits of MPM_BENCH_EVENTS
// (default 20,000) events, indexChunk a transaction as the indexer does,
// into a fresh journal each round (on one goroutine: its wall time is its
// CPU time). It reports µs an event.
//
// The machine's noise moves these by ±20 %; an instruction count does
// not. To compare two builds, count each one's whole run under callgrind
// on one P (so no thread spins waiting for work), with 4,000 events and
// with one, on one corpus (MPM_CORPUS_ROOT), and take the difference
// (docs/benchmarks.md, issue 21; ±0.5 % between runs):
//
//	go test -c -o /tmp/j.test ./internal/journal/ && cd internal/journal &&
//	MPM_CORPUS_ROOT=<a checkout> GOMAXPROCS=1 GODEBUG=asyncpreemptoff=1 MPM_BENCH_EVENTS=4000 \
//	  valgrind --tool=callgrind /tmp/j.test -test.run '^$' -test.bench Indexer -test.benchtime 1x
//
// (Counting indexCorpus alone with --toggle-collect is not reliable: one
// binary counted 143 to 572 M in successive runs, every function alike,
// as callgrind loses the function's frame when Go switches stacks.)
func BenchmarkIndexer(b *testing.B) {
	total := 20_000
	if v, err := strconv.Atoi(os.Getenv("MPM_BENCH_EVENTS")); err == nil && v > 0 {
		total = v
	}
	payloads := hookCorpus(b, 5, 2000, 1)
	evs := make([]*event.Event, 0, total)
	for s := 1; s <= total; s++ {
		ev, err := event.Parse(payloads[s%len(payloads)], 1<<20)
		if err != nil {
			b.Fatal(err)
		}
		ev.Seq = uint64(s)
		evs = append(evs, ev)
	}
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		j, err := Open(Options{Path: filepath.Join(b.TempDir(), "journal.db"), RetainInterval: time.Hour})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		indexCorpus(b, j, evs)
		b.StopTimer()
		j.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*total), "µs/event")
}

// indexCorpus indexes evs (seqs 1 to len(evs)) into j's empty index as
// the indexer does: docOf, then indexDocs a chunk at a time.
//
// It runs locked to its thread, so that a profile sees it on one.
//
//go:noinline
func indexCorpus(b *testing.B, j *Journal, evs []*event.Event) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	for from := 0; from < len(evs); from += indexChunk {
		chunk := evs[from:min(len(evs), from+indexChunk)]
		docs := make([]searchDoc, len(chunk))
		for k, ev := range chunk {
			docs[k] = docOf(ev)
		}
		if err := j.indexDocs(uint64(from), chunk[len(chunk)-1].Seq, chunk, docs); err != nil {
			b.Fatal(err)
		}
	}
}
