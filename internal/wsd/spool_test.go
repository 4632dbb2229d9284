package wsd

import (
	"fmt"
	"testing"
	"time"

	"github.com/mpm-dev/mpm/internal/paths"
	"github.com/mpm-dev/mpm/internal/spool"
)

func TestSpoolDrainedInOrderOnce(t *testing.T) {
	dir := t.TempDir()
	sp := paths.Spool(dir)
	// Spooled while the daemon was down: 20 events, one of them twice (a
	// hook whose POST timed out but landed, then spooled), one broken.
	for i := 1; i <= 20; i++ {
		rec := spool.Record{Key: fmt.Sprintf("k%02d", i), SentAt: time.Now(), Payload: payload("s", "PreToolUse", fmt.Sprintf(`,"i":%d`, i))}
		if err := spool.Append(sp, rec); err != nil {
			t.Fatal(err)
		}
		if i == 10 {
			if err := spool.Append(sp, rec); err != nil {
				t.Fatal(err)
			}
			if err := spool.Append(sp, spool.Record{Key: "broken", SentAt: time.Now(), Payload: []byte("not json")}); err != nil {
				t.Fatal(err)
			}
		}
	}
	ts := startServer(t, func(c *Config) { c.DataDir = dir; c.SpoolInterval = 50 * time.Millisecond })
	c := ts.dial(t, "?since=0")
	c.waitFor(t, "20 spooled events", func() bool { return len(c.evs) >= 20 })
	evs := c.events()
	checkSeqs(t, evs, 1, 20)
	for i, ev := range evs {
		if want := fmt.Sprintf(`"i":%d}`, i+1); string(ev.Payload[len(ev.Payload)-len(want):]) != want {
			t.Fatalf("event %d is %s, want the spooled order", i, ev.Payload)
		}
	}
	// Spooled while it runs: picked up by the periodic drain.
	if err := spool.Append(sp, spool.Record{Key: "late", SentAt: time.Now(), Payload: payload("s", "Stop", "")}); err != nil {
		t.Fatal(err)
	}
	c.waitFor(t, "the late spooled event", func() bool { return len(c.evs) >= 21 })
	// The drain removes a segment after its last record was delivered.
	for deadline := time.Now().Add(10 * time.Second); ; {
		n, _, _, err := spool.Stats(sp)
		if err == nil && n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("spool after drain: %d records, %v", n, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if v := testutilCounter(t, ts, "mpm_spool_events_drained_total"); v != "21" {
		t.Fatalf("drained metric = %s, want 21", v)
	}
	if v := testutilCounter(t, ts, `mpm_events_rejected_total{reason="invalid_json"}`); v != "1" {
		t.Fatalf("the broken spooled record was not counted: %s", v)
	}
}
