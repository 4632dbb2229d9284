package wsd

import (
	"context"
	"runtime"
	"testing"

	"github.com/hashicorp/go-hclog"
)

func TestProcsGovernorNext(t *testing.T) {
	quietRun := func(n int) []float64 {
		s := make([]float64, n)
		for i := range s {
			s[i] = 0.05
		}
		return s
	}
	for _, c := range []struct {
		name  string
		cores []float64
		want  []int
	}{
		{"idle stays on one P", []float64{0, 0.1, 0.29, 0.59}, []int{1, 1, 1, 1}},
		{"busy gets every CPU at once", []float64{0.1, 0.6}, []int{1, 4}},
		{"one quiet interval is not enough", []float64{0.9, 0.1, 0.9, 0.1}, []int{4, 4, 4, 4}},
		{"a quiet spell takes them back", append([]float64{0.9}, quietRun(procsQuietIntervals)...),
			append([]int{4}, append(repeat(4, procsQuietIntervals-1), 1)...)},
		{"a busy interval restarts the count", append(append([]float64{0.9}, quietRun(procsQuietIntervals-1)...), 0.4, 0.1),
			append([]int{4}, repeat(4, procsQuietIntervals+1)...)},
	} {
		t.Run(c.name, func(t *testing.T) {
			g := &procsGovernor{max: 4, cur: 1}
			for i, cores := range c.cores {
				if got := g.next(cores); got != c.want[i] {
					t.Fatalf("interval %d (%.2f cores): GOMAXPROCS %d, want %d", i, cores, got, c.want[i])
				}
			}
		})
	}
}

func repeat(v, n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = v
	}
	return s
}

// TestGovernProcs: the governor puts an idle process on one P and gives
// GOMAXPROCS its value back when it ends; with GOMAXPROCS set in the
// environment it leaves it alone.
func TestGovernProcs(t *testing.T) {
	if _, ok := processCPU(); !ok {
		t.Skip("no process CPU time on this OS: the governor stays off")
	}
	before := runtime.GOMAXPROCS(2)
	defer runtime.GOMAXPROCS(before)
	t.Setenv("GOMAXPROCS", "")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	started := make(chan int)
	go func() {
		defer close(done)
		GovernProcs(ctx, hclog.NewNullLogger())
	}()
	go func() {
		// The governor sets one P before its first wait: poll for it
		// without a deadline of our own (the test's timeout bounds it).
		for runtime.GOMAXPROCS(0) != 1 {
			runtime.Gosched()
		}
		started <- 1
	}()
	<-started
	cancel()
	<-done
	if got := runtime.GOMAXPROCS(0); got != 2 {
		t.Fatalf("GOMAXPROCS %d after the governor ended, want 2 back", got)
	}

	// With GOMAXPROCS in the environment it returns at once (a context
	// that never ends: it would block here if it governed).
	t.Setenv("GOMAXPROCS", "2")
	GovernProcs(context.Background(), hclog.NewNullLogger())
	if got := runtime.GOMAXPROCS(0); got != 2 {
		t.Fatalf("GOMAXPROCS %d with GOMAXPROCS=2 in the environment, want it untouched", got)
	}
}
