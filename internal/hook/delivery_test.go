package hook_test

import (
	"os"
	"strings"
	"testing"

	"github.com/mpm-dev/mpm/internal/paths"
	"github.com/mpm-dev/mpm/internal/spool"
	"github.com/mpm-dev/mpm/internal/testutil"
)

// TestWrongTokenSpooledAndDrained: a hook whose token is not the daemon's
// (the token file replaced after the daemon started) got 401 and dropped
// the event, visible only with MPM_HOOK_DEBUG. Now it spools it, the daemon
// drains it (no token needed), counts the refusals in
// mpm_hook_deliveries_refused_total and logs them once, not per event.
func TestWrongTokenSpooledAndDrained(t *testing.T) {
	d := testutil.StartDaemon(t)
	// Over TCP: the Unix socket needs no token (see socket_unix_test.go).
	os.Remove(paths.Socket(d.DataDir))
	good := d.Token()
	tokPath := paths.Token(d.DataDir)
	if err := os.WriteFile(tokPath, []byte(strings.Repeat("f", 64)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const n = 3
	for i := 0; i < n; i++ {
		r := runHook(t, d.Addr, d.DataDir, payload("s-401", "PreToolUse", string(rune('0'+i))))
		wantNeutral(t, r)
		if !strings.Contains(r.stderr, "mpm-hook: spooled") || !strings.Contains(r.stderr, "status=401") {
			t.Fatalf("hook %d: %q, want spooled after a 401", i, r.stderr)
		}
	}
	if err := os.WriteFile(tokPath, []byte(good+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got := waitEvents(t, d, "s-401", n)
	checkOnceInOrder(t, got, n)
	if v := sumMetric(t, d, "mpm_hook_deliveries_refused_total"); v != n {
		t.Errorf("mpm_hook_deliveries_refused_total = %v, want %d", v, n)
	}
	if c := strings.Count(d.Log.String(), "refused a hook delivery"); c != 1 {
		t.Errorf("the refusal was logged %d times, want once (rate-limited):\n%s", c, d.Log.String())
	}
}

// TestNoTokenSpoolDrainedByDaemonElsewhere: a hook looking in the default
// data directory, where no daemon ever ran (no token), while the daemon runs
// with another --data-dir: the event was spooled where no daemon drained
// it. The daemon now drains the default data directory's spool while that
// directory has no token.
func TestNoTokenSpoolDrainedByDaemonElsewhere(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", t.TempDir()) // the default data directory, for the daemon and here
	t.Setenv("HOME", t.TempDir())
	t.Setenv("LocalAppData", t.TempDir())
	stray := paths.DefaultDataDir()
	d := testutil.StartDaemon(t)
	if stray == d.DataDir {
		t.Fatal("the test needs two data directories")
	}
	r := runHook(t, d.Addr, stray, payload("s-stray", "Stop", "x"))
	wantNeutral(t, r)
	if !strings.Contains(r.stderr, "mpm-hook: spooled") {
		t.Fatalf("hook: %q, want spooled (no token)", r.stderr)
	}
	if got := waitEvents(t, d, "s-stray", 1); len(got) != 1 {
		t.Fatalf("the event spooled in %s never arrived (%d events)", stray, len(got))
	}
	if recs, _, _, err := spool.Stats(paths.Spool(stray)); recs != 0 || err != nil {
		t.Errorf("stray spool after the drain: %d records, %v", recs, err)
	}
}
