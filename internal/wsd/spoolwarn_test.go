package wsd

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/mpm-dev/mpm/internal/paths"
	"github.com/mpm-dev/mpm/internal/spool"
	"github.com/mpm-dev/mpm/internal/testutil"
)

// TestSpoolWarningRateLimited: a spool that cannot be drained (here a
// segment another process keeps locked) was warned about on every drain,
// every 2 s, forever; now once per spoolWarnEvery, saying later how many
// were held back.
func TestSpoolWarningRateLimited(t *testing.T) {
	dir := t.TempDir()
	sp := paths.Spool(dir)
	if err := spool.Append(sp, spool.Record{Key: "k", SentAt: time.Now(), Payload: payload("s", "Stop", "")}); err != nil {
		t.Fatal(err)
	}
	seg := filepath.Join(sp, "seg-00000000000000000001-1")
	if err := os.Rename(filepath.Join(sp, "live"), seg); err != nil {
		t.Fatal(err)
	}
	holder, err := os.Open(seg)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	if err := lockForTest(holder); err != nil {
		t.Fatal(err)
	}
	// The spool is not the server's own: its drain loop (which drains its
	// own spool at start) must not hold the spool's drain lock while the
	// test drains, or the test's drains find it busy and say nothing.
	ts := startServer(t, nil)
	var logb testutil.SyncBuffer
	log := hclog.New(&hclog.LoggerOptions{Output: &logb, Level: hclog.Info})
	warn := newRateLog(log, spoolWarnEvery)
	for i := 0; i < 3; i++ {
		ts.drainDirs(context.Background(), []string{sp}, log, warn)
	}
	if c := strings.Count(logb.String(), "spool drain stopped"); c != 1 {
		t.Fatalf("3 failed drains logged %d warnings, want 1:\n%s", c, logb.String())
	}
	holder.Close()
	ts.drainDirs(context.Background(), []string{sp}, log, warn)
	if !strings.Contains(logb.String(), "delivered spooled events") {
		t.Errorf("the spool was not drained once the lock was gone:\n%s", logb.String())
	}
}

// TestRateLog: one line per key and interval, then the count held back;
// forget lets the next one through.
func TestRateLog(t *testing.T) {
	var logb testutil.SyncBuffer
	r := newRateLog(hclog.New(&hclog.LoggerOptions{Output: &logb}), time.Hour)
	for i := 0; i < 5; i++ {
		r.warn("a", "problem a")
	}
	r.warn("b", "problem b")
	if strings.Count(logb.String(), "problem a") != 1 || strings.Count(logb.String(), "problem b") != 1 {
		t.Fatalf("log:\n%s", logb.String())
	}
	r.last["a"] = time.Now().Add(-2 * time.Hour) // the interval has passed
	r.warn("a", "problem a")
	if !strings.Contains(logb.String(), "repeats_not_logged=4") {
		t.Errorf("the second line does not count the 4 held back:\n%s", logb.String())
	}
	r.forget("a") // the condition cleared: the next one is logged at once
	if !r.warn("a", "problem a") {
		t.Error("a warning after forget was held back")
	}
}
