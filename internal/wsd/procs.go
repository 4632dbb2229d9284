package wsd

import (
	"context"
	"os"
	"runtime"
	"time"

	"github.com/hashicorp/go-hclog"
)

// The daemon runs the Go scheduler on one P (GOMAXPROCS=1) while it is
// mostly idle, and on every CPU while it is busy. An event posted to an
// idle daemon passes through several goroutines (the accept loop, the
// connection's, net/http's and database/sql's helpers, the ingest loop);
// with a second P idle, each one made runnable wakes a parked OS thread to
// run or steal it: a futex wake, an inter-processor interrupt, tens of µs
// on a virtual machine, on the path of the hook's wait for its answer. On
// one P they run one after the other on one thread. Measured on the
// daemon's answer to a 1 KiB post on the socket: about 50 µs less
// (docs/benchmarks.md, mpm-hook). Fan-out at saturation needs every core:
// once the process uses most of one core the governor gives it all of
// them, and takes them back after a quiet spell.

// procsGovernor decides GOMAXPROCS from the process's CPU use.
type procsGovernor struct {
	// max is GOMAXPROCS when busy (the value at start).
	max int
	// cur is the current GOMAXPROCS.
	cur int
	// quiet counts the consecutive quiet intervals at max.
	quiet int
}

const (
	// procsInterval is how often the governor looks at the CPU use.
	procsInterval = 500 * time.Millisecond
	// procsBusy is the CPU use (cores) over one interval on one P above
	// which the daemon gets every CPU.
	procsBusy = 0.6
	// procsQuiet is the CPU use below which an interval counts as quiet.
	procsQuiet = 0.3
	// procsQuietIntervals quiet intervals in a row take the daemon back
	// to one P (5 s: a burst's gaps do not flap it).
	procsQuietIntervals = 10
)

// next returns GOMAXPROCS for the next interval, given the cores the
// process used over the last one.
func (g *procsGovernor) next(cores float64) int {
	switch {
	case g.cur < g.max && cores >= procsBusy:
		g.cur, g.quiet = g.max, 0
	case g.cur == g.max && cores < procsQuiet:
		g.quiet++
		if g.quiet >= procsQuietIntervals {
			g.cur, g.quiet = 1, 0
		}
	default:
		g.quiet = 0
	}
	return g.cur
}

// GovernProcs runs the governor until ctx ends, then gives GOMAXPROCS its
// value back. It does nothing when the GOMAXPROCS environment variable is
// set (the user chose), with a single CPU, or where the OS does not tell
// the process's CPU time (Windows). mpm-wsd runs it beside the server (a
// process-wide setting: not in Server, of which tests run several).
func GovernProcs(ctx context.Context, log hclog.Logger) {
	max := runtime.GOMAXPROCS(0)
	last, ok := processCPU()
	if !ok || max < 2 || os.Getenv("GOMAXPROCS") != "" {
		return
	}
	g := &procsGovernor{max: max, cur: 1}
	runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(max)
	log.Debug("running on one P while idle", "max_procs", max)
	t := time.NewTicker(procsInterval)
	defer t.Stop()
	lastAt := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			cpu, _ := processCPU()
			cores := float64(cpu-last) / float64(now.Sub(lastAt))
			last, lastAt = cpu, now
			prev := g.cur
			if n := g.next(cores); n != prev {
				runtime.GOMAXPROCS(n)
				log.Debug("GOMAXPROCS changed", "procs", n, "cores_used", cores)
			}
		}
	}
}
