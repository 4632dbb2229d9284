//go:build unix

package hook_test

import (
	"strings"
	"syscall"
	"testing"

	"github.com/mpm-dev/mpm/internal/testutil"
)

func TestSIGSTOPDaemonBoundedThenDeliveredOnce(t *testing.T) {
	d := testutil.StartDaemon(t)
	d.Freeze(t)
	stopped := true
	defer func() {
		if stopped {
			d.Cmd.Process.Signal(syscall.SIGCONT)
		}
	}()
	for i, p := range [][]byte{payload("s-stop", "PreToolUse", "small"), payload("s-stop", "PostToolUse", strings.Repeat("z", 256<<10))} {
		r := runHook(t, d.Addr, d.DataDir, p)
		wantNeutral(t, r)
		if !strings.Contains(r.stderr, "mpm-hook: spooled") {
			t.Fatalf("hook %d against a stopped daemon: %q, want spooled", i, r.stderr)
		}
		t.Logf("hook %d returned after %v against a stopped daemon", i, r.took)
	}
	d.Cmd.Process.Signal(syscall.SIGCONT)
	stopped = false
	// The daemon may have read the small request from its socket backlog
	// after SIGCONT; the spooled copy carries the same key. Either way:
	// once after a restart's drain.
	d.Stop()
	d.Start()
	got := waitEvents(t, d, "s-stop", 2)
	checkOnceInOrder(t, got, 2)
}
