package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mpm-dev/mpm/internal/client"
	"github.com/mpm-dev/mpm/internal/testutil"
)

// TestRestartMidStream posts 10,000 events while mpm-monitor --json
// follows, restarts the daemon (SIGTERM, start again on the same address
// and data directory) after about half of them, and checks that the
// monitor printed every acknowledged event exactly once.
//
// With the journal (the default) the check is exact on seq too: 1..10000,
// in order. Without it (--journal=false) the daemon forgets everything at
// the restart and seq starts again at 1: the monitor has printed the first
// instance's events before the restart (the daemon flushes every client
// before it exits) and says "restarted ... without a journal", then prints
// the new instance's events from its first; the payload's n identifies
// each event exactly once, but seq repeats across the two instances.
func TestRestartMidStream(t *testing.T) {
	for _, tc := range []struct {
		name  string
		kill  bool
		flags []string
	}{
		{"journal", false, nil},
		{"journal-kill-9", true, nil},
		{"memory", false, []string{"--journal=false", "--history", "20000"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const total = 10000
			d := testutil.StartDaemon(t, tc.flags...)
			c := newClient(t, d)
			h, err := c.Health(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			m := start(t, d, "--json", "--since", "0")

			var acked atomic.Int64
			next := make(chan int)
			var wg sync.WaitGroup
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			var postErr atomic.Value
			for w := 0; w < 4; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for n := range next {
						body := []byte(fmt.Sprintf(`{"session_id":"s%d","hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"command":"echo %d"},"n":%d}`, n%3, n, n))
						for {
							_, err := c.Post(ctx, body, client.PostOptions{IdempotencyKey: "n" + strconv.Itoa(n)})
							if err == nil {
								acked.Add(1)
								break
							}
							if ctx.Err() != nil {
								postErr.Store(err)
								return
							}
							time.Sleep(5 * time.Millisecond) // daemon restarting: retry
						}
					}
				}()
			}
			go func() {
				defer close(next)
				for n := 1; n <= total; n++ {
					select {
					case next <- n:
					case <-ctx.Done():
						return
					}
				}
			}()
			// Restart in the middle, while posts keep coming.
			for acked.Load() < total/2 {
				if ctx.Err() != nil {
					t.Fatal("posting stalled")
				}
				time.Sleep(5 * time.Millisecond)
			}
			if tc.kill {
				d.Kill()
			} else {
				d.Stop()
			}
			d.Start()
			wg.Wait()
			if err := postErr.Load(); err != nil {
				t.Fatalf("posting failed: %v", err)
			}
			if got := acked.Load(); got != total {
				t.Fatalf("%d events acknowledged, want %d", got, total)
			}
			m.waitLines(t, total, 2*time.Minute)
			// A sentinel: any duplicate of an earlier event would come before it.
			post(t, c, `{"session_id":"end","hook_event_name":"Stop","n":-1}`)
			m.waitLines(t, total+1, 30*time.Second)

			recs := parse(t, m.stdout.String())
			seen := make(map[int]int, total)
			for i, r := range recs[:len(recs)-1] {
				seen[r.Payload.N]++
				if h.Store == "journal" && r.Seq != uint64(i+1) {
					t.Fatalf("line %d has seq %d: with the journal seq must be 1..%d in order", i+1, r.Seq, total)
				}
			}
			for n := 1; n <= total; n++ {
				if seen[n] != 1 {
					t.Fatalf("event n=%d printed %d times", n, seen[n])
				}
			}
			if len(recs) != total+1 {
				t.Fatalf("%d lines, want %d", len(recs), total+1)
			}
			notes := m.stderr.String()
			if !strings.Contains(notes, "restarted") {
				t.Fatalf("no restart note on stderr: %q", notes)
			}
			if (h.Store == "journal") == strings.Contains(notes, "without a journal") {
				t.Fatalf("store %s, notes %q", h.Store, notes)
			}
			t.Logf("store %s; monitor notes:\n%s", h.Store, notes)
		})
	}
}
