package client

import (
	"context"
	"testing"

	"github.com/mpm-dev/mpm/internal/protocol"
	"github.com/mpm-dev/mpm/internal/testutil"
)

// BenchmarkStreamReplay measures how fast Stream delivers a replay of
// retained events from a real daemon (events/s).
func BenchmarkStreamReplay(b *testing.B) {
	d := testutil.StartDaemon(b, "--journal=false", "--history", "20000")
	c := newClient(b, d)
	const n = 10000
	for i := 0; i < n; i++ {
		post(b, c, payload("s", "PreToolUse", i))
	}
	b.ResetTimer()
	for b.Loop() {
		got := 0
		zero := uint64(0)
		err := c.Stream(context.Background(), Subscription{Since: &zero}, Handlers{
			Event: func(protocol.Event) error { got++; return nil },
			Live:  func(uint64) error { return ErrStop },
		})
		if err != nil || got != n {
			b.Fatalf("got %d, err %v", got, err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "events/s")
}
