package journal_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/mpm-dev/mpm/internal/testutil"
)

// BenchmarkDaemonAnswer measures what the hook waits for with the daemon
// up: a real mpm-wsd (journal on, the tree's build), one POST per
// connection on its Unix socket as mpm-hook makes it, posted one after
// the other (back to back, and spaced out so that the daemon is idle
// between events, as between a session's hooks); p50 and p99 of the round
// trip. Run it in two trees to compare
// builds:
//
//	go test -run '^$' -bench DaemonAnswer -benchtime 2000x ./internal/journal/
func BenchmarkDaemonAnswer(b *testing.B) {
	d := testutil.StartDaemon(b)
	sock := filepath.Join(d.DataDir, "wsd.sock")
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DisableKeepAlives: true,
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", sock)
		},
	}}
	for _, c := range []struct {
		size int
		gap  time.Duration
	}{{1 << 10, 0}, {256 << 10, 0}, {1 << 10, 2 * time.Millisecond}, {256 << 10, 2 * time.Millisecond}} {
		size := c.size
		name := fmt.Sprintf("%dKiB/back-to-back", size>>10)
		if c.gap > 0 {
			name = fmt.Sprintf("%dKiB/every-%v", size>>10, c.gap)
		}
		b.Run(name, func(b *testing.B) {
			body := hookBody("bench-answer", "m", size)
			durs := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if c.gap > 0 {
					time.Sleep(c.gap) // a hook's cadence: the daemon idle between events
				}
				start := time.Now()
				resp, err := client.Post("http://mpm/v1/events", "application/json", bytes.NewReader(body))
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusAccepted {
					b.Fatalf("status %d", resp.StatusCode)
				}
				durs = append(durs, time.Since(start))
			}
			b.StopTimer()
			sort.Slice(durs, func(i, j int) bool { return durs[i] < durs[j] })
			b.ReportMetric(float64(durs[len(durs)/2].Microseconds()), "p50_µs")
			b.ReportMetric(float64(durs[len(durs)*99/100].Microseconds()), "p99_µs")
		})
	}
}
