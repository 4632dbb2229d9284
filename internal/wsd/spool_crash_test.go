package wsd

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/mpm-dev/mpm/internal/paths"
	"github.com/mpm-dev/mpm/internal/spool"
	"github.com/mpm-dev/mpm/internal/testutil"
)

// TestSpoolDrainCrashExactlyOnce kills the real daemon (journal on) with
// SIGKILL in the middle of draining a large spool, restarts it, and checks
// that every spooled event is stored exactly once, in spool order.
func TestSpoolDrainCrashExactlyOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns the daemon")
	}
	d := testutil.StartDaemon(t, "--journal")
	d.Stop()
	const n = 20000
	sp := paths.Spool(d.DataDir)
	for i := 1; i <= n; i++ {
		rec := spool.Record{Key: fmt.Sprintf("key-%06d", i), SentAt: time.Now(), Payload: payload("s", "PreToolUse", fmt.Sprintf(`,"i":%d`, i))}
		if err := spool.Append(sp, rec); err != nil {
			t.Fatal(err)
		}
	}
	// Start, and kill -9 as soon as the drain has stored something but not all.
	d.Start()
	killedAt := uint64(0)
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		h, _, err := testutil.GetHealth(ctx, d.Addr)
		cancel()
		if err == nil && h.LastSeq > 0 {
			d.Cmd.Process.Signal(syscall.SIGKILL)
			killedAt = h.LastSeq
			break
		}
	}
	<-d.Done()
	d.Cmd = nil
	if killedAt == 0 {
		t.Fatal("the drain never started")
	}
	if killedAt >= n {
		t.Logf("the drain finished before the kill (%d events): the restart still must not duplicate", killedAt)
	}
	d.Start()
	// Every event once, in spool order: page through history.
	tok := d.Token()
	var since uint64
	next := 1
	deadline := time.Now().Add(60 * time.Second)
	for next <= n {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d spooled events arrived (killed at seq %d)", next-1, n, killedAt)
		}
		req, _ := http.NewRequest(http.MethodGet, d.URL(fmt.Sprintf("/v1/events?since=%d&limit=5000", since)), nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var page struct {
			Events []struct {
				Seq     uint64 `json:"seq"`
				Payload struct {
					I int `json:"i"`
				} `json:"payload"`
			} `json:"events"`
		}
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Events) == 0 {
			time.Sleep(50 * time.Millisecond) // the restarted drain is still running
			continue
		}
		for _, ev := range page.Events {
			if ev.Seq != since+1 {
				t.Fatalf("seq %d after %d: gap", ev.Seq, since)
			}
			if ev.Payload.I != next {
				t.Fatalf("seq %d holds spooled event %d, want %d (duplicate or reordered; killed at seq %d)", ev.Seq, ev.Payload.I, next, killedAt)
			}
			since = ev.Seq
			next++
		}
	}
	if recs, _, _, err := spool.Stats(sp); err != nil || recs != 0 {
		t.Fatalf("spool not empty after the drain: %d records, %v", recs, err)
	}
	t.Logf("killed at seq %d of %d; after restart all %d present once, in order", killedAt, n, n)
}
