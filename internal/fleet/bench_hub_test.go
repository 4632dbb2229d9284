package fleet

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/mpm-dev/mpm/internal/event"
)

// BenchmarkFleetTeam: a team's load, 5 edges × 20 events/s for 5 s, with
// the edges' and the hub's default settings (the tests' short polls off);
// a hub client measures edge-received → hub-client latency, p50 and p99.
func BenchmarkFleetTeam(b *testing.B) {
	ns := startNATS(b, -1, b.TempDir(), nil)
	hub := startDaemon(b, "", Consumer(Config{URL: ns.url(), HubName: "team"}))
	c := hub.subscribe(b, 0)
	const edges, rate, secs = 5, 20, 5
	var ds []*daemon
	for i := 0; i < edges; i++ {
		dir := b.TempDir()
		ds = append(ds, startDaemon(b, dir, Edge(Config{URL: ns.url(), Origin: fmt.Sprintf("e%d", i), DataDir: dir})))
	}
	b.ResetTimer()
	var wg sync.WaitGroup
	for _, e := range ds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tick := time.NewTicker(time.Second / rate)
			defer tick.Stop()
			for i := 1; i <= rate*secs; i++ {
				<-tick.C
				e.post(b, "s1", "PreToolUse", i)
			}
		}()
	}
	wg.Wait()
	c.waitCount(b, edges*rate*secs, 60*time.Second)
	b.StopTimer()
	reportLatency(b, c, fmt.Sprintf("team load, %d edges x %d ev/s, default polls", edges, rate))
}

// BenchmarkFleetHubCatchUp: the stream holds 5,000 events (two edges) and
// a hub with a fresh journal starts: it reads the stream from its start.
// Prints the rate at which the hub's client gets them.
func BenchmarkFleetHubCatchUp(b *testing.B) {
	const n = 2500
	ns := startNATS(b, -1, b.TempDir(), nil)
	var curs []string
	for _, o := range []string{"a", "b"} {
		dir := b.TempDir()
		e := startDaemon(b, dir, Edge(edgeCfg(ns.url(), o, dir)))
		for i := 1; i <= n; i++ {
			e.post(b, "s1", "PreToolUse", i)
		}
		curs = append(curs, filepath.Join(dir, CursorFile))
	}
	for _, cur := range curs {
		waitFor(b, func() bool { return cursorSeq(cur) == fmt.Sprint(n) })
	}
	b.ResetTimer()
	t0 := time.Now()
	hub := startDaemon(b, "", Consumer(Config{URL: ns.url(), HubName: "catchup"}))
	c := hub.subscribe(b, 0)
	c.waitCount(b, 2*n, 120*time.Second)
	d := time.Since(t0)
	b.StopTimer()
	b.ReportMetric(float64(2*n)/d.Seconds(), "events/s")
	fmt.Printf("hub catch-up, fresh journal: %d events in %v = %.0f events/s (includes the hub's start)\n", 2*n, d, float64(2*n)/d.Seconds())
}

// BenchmarkFleetHubLatency: the consuming side alone. Five publishers, as
// edges would, publish 20 event records/s each straight to the stream for
// 5 s; a hub client measures published → hub-client latency (the edges'
// outbox poll left out), p50 and p99.
func BenchmarkFleetHubLatency(b *testing.B) {
	ns := startNATS(b, -1, b.TempDir(), nil)
	hub := startDaemon(b, "", Consumer(Config{URL: ns.url(), HubName: "lat"}))
	c := hub.subscribe(b, 0)
	nc, err := nats.Connect(ns.url())
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	waitFor(b, func() bool { _, err := js.Stream(context.Background(), DefaultStream); return err == nil })
	const edges, rate, secs = 5, 20, 5
	b.ResetTimer()
	var wg sync.WaitGroup
	for e := 0; e < edges; e++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			origin := fmt.Sprintf("e%d", e)
			tick := time.NewTicker(time.Second / rate)
			defer tick.Stop()
			for i := 1; i <= rate*secs; i++ {
				<-tick.C
				ev, err := event.Parse([]byte(fmt.Sprintf(`{"session_id":"s1","hook_event_name":"PreToolUse","n":%d}`, i)), 1<<20)
				if err != nil {
					b.Error(err)
					return
				}
				ev.Seq, ev.Received, ev.Origin, ev.OriginSeq = uint64(i), time.Now(), origin, uint64(i)
				m := &nats.Msg{Subject: Subject(origin, "s1"), Header: nats.Header{}, Data: ev.AppendWire(nil)}
				m.Header.Set(jetstream.MsgIDHeader, fmt.Sprintf("%s:%d", origin, i))
				if _, err := js.PublishMsg(context.Background(), m); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	c.waitCount(b, edges*rate*secs, 60*time.Second)
	b.StopTimer()
	reportLatency(b, c, fmt.Sprintf("hub side, %d publishers x %d ev/s", edges, rate))
}
