package fleet

import (
	"fmt"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"
)

// reportLatency reports the p50 and p99 of c's receive-to-arrival
// latencies as metrics and prints them with what, after b.StopTimer.
func reportLatency(b *testing.B, c *collector, what string) {
	c.mu.Lock()
	lat := make([]time.Duration, len(c.evs))
	for i, ev := range c.evs {
		lat[i] = c.at[i].Sub(ev.Received)
	}
	c.mu.Unlock()
	b.ReportMetric(float64(pct(lat, 0.5).Microseconds()), "p50-µs")
	b.ReportMetric(float64(pct(lat, 0.99).Microseconds()), "p99-µs")
	fmt.Printf("%s: n=%d p50=%v p99=%v max=%v\n", what, len(lat), pct(lat, 0.5), pct(lat, 0.99), pct(lat, 1))
}

func pct(d []time.Duration, p float64) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(a, b int) bool { return s[a] < s[b] })
	return s[int(float64(len(s)-1)*p)]
}

// timedPosts posts n events to d one after another and returns each
// request's round trip.
func timedPosts(b *testing.B, d *daemon, from, n int) []time.Duration {
	out := make([]time.Duration, 0, n)
	for i := from; i < from+n; i++ {
		t0 := time.Now()
		d.post(b, "s1", "PreToolUse", i)
		out = append(out, time.Since(t0))
	}
	return out
}

// BenchmarkFleetIngest: POST /v1/events round trip on an edge whose NATS is
// up, one whose NATS is down, and a daemon without fleet mode, interleaved
// in one run (rounds of 200 posts each) so that machine noise hits all
// three alike.
func BenchmarkFleetIngest(b *testing.B) {
	up := startNATS(b, -1, b.TempDir(), nil)
	down := startNATS(b, -1, b.TempDir(), nil)
	downURL := down.url()
	down.stop()
	dirU, dirD := b.TempDir(), b.TempDir()
	ds := map[string]*daemon{
		"nats-up":   startDaemon(b, dirU, Edge(edgeCfg(up.url(), "up", dirU))),
		"nats-down": startDaemon(b, dirD, Edge(edgeCfg(downURL, "down", dirD))),
		"no-nats":   startDaemon(b, ""),
	}
	names := []string{"nats-up", "nats-down", "no-nats"}
	lat := map[string][]time.Duration{}
	for _, name := range names {
		timedPosts(b, ds[name], 1, 50) // warm up
	}
	b.ResetTimer()
	for round := 0; round < 10; round++ {
		for _, name := range names {
			lat[name] = append(lat[name], timedPosts(b, ds[name], 51+round*200, 200)...)
		}
	}
	b.StopTimer()
	for _, name := range names {
		l := lat[name]
		b.ReportMetric(float64(pct(l, 0.99).Microseconds()), name+"-p99-µs")
		fmt.Printf("edge ingest %-9s n=%d p50=%v p99=%v\n", name, len(l), pct(l, 0.5), pct(l, 0.99))
	}
}

// BenchmarkFleetEndToEnd: three edges each ingest ~333 events/s (1,000/s
// in all) for 3 s; a hub client measures edge-received → hub-client
// latency, p50 and p99.
func BenchmarkFleetEndToEnd(b *testing.B) {
	ns := startNATS(b, -1, b.TempDir(), nil)
	hub := startDaemon(b, "", Consumer(hubCfg(ns.url())))
	c := hub.subscribe(b, 0)
	const perEdge, rate = 1000, 333
	var edges []*daemon
	for i := 0; i < 3; i++ {
		dir := b.TempDir()
		edges = append(edges, startDaemon(b, dir, Edge(edgeCfg(ns.url(), fmt.Sprintf("e%d", i), dir))))
	}
	b.ResetTimer()
	var wg sync.WaitGroup
	for _, e := range edges {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tick := time.NewTicker(time.Second / rate)
			defer tick.Stop()
			for i := 1; i <= perEdge; i++ {
				<-tick.C
				e.post(b, "s1", "PreToolUse", i)
			}
		}()
	}
	wg.Wait()
	c.waitCount(b, 3*perEdge, 60*time.Second)
	b.StopTimer()
	reportLatency(b, c, fmt.Sprintf("end to end, 3 edges x %d ev/s", rate))
}

// BenchmarkFleetCatchUp: an edge ingests 5,000 events while NATS is down;
// then NATS comes back and the edge's outbox drains. Prints the rate.
func BenchmarkFleetCatchUp(b *testing.B) {
	const n = 5000
	ns := startNATS(b, -1, b.TempDir(), nil)
	dir := b.TempDir()
	e := startDaemon(b, dir, Edge(edgeCfg(ns.url(), "e", dir)))
	e.post(b, "s1", "PreToolUse", 1)
	cur := filepath.Join(dir, CursorFile)
	waitFor(b, func() bool { return cursorSeq(cur) == "1" })
	ns.stop()
	for i := 2; i <= n+1; i++ {
		e.post(b, "s1", "PreToolUse", i)
	}
	b.ResetTimer()
	t0 := time.Now()
	ns.restart(b)
	want := fmt.Sprint(n + 1)
	waitFor(b, func() bool { return cursorSeq(cur) == want })
	d := time.Since(t0)
	b.StopTimer()
	b.ReportMetric(float64(n)/d.Seconds(), "events/s")
	fmt.Printf("catch-up after an outage: %d events in %v = %.0f events/s (includes the reconnect)\n", n, d, float64(n)/d.Seconds())
}
