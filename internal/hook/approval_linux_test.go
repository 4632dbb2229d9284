package hook_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mpm-dev/mpm/internal/testutil"
)

// TestHookApprovalWithoutHookctl: on Linux a waiting PermissionRequest is
// mpm-hookctl's to carry out; with none installed the hook posts the event
// without waiting and prints nothing (Claude Code then asks in the
// terminal), rather than losing it or hanging.
func TestHookApprovalWithoutHookctl(t *testing.T) {
	d := testutil.StartDaemon(t)
	alone := filepath.Join(t.TempDir(), "mpm-hook")
	b, err := os.ReadFile(testutil.Binary(t, "mpm-hook"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(alone, b, 0o755); err != nil {
		t.Fatal(err)
	}
	r := runHookBin(t, alone, d.Addr, d.DataDir, permissionPayload("s-alone"), "MPM_HOOK_APPROVAL_WAIT=1h", "PATH=/nonexistent")
	wantNeutral(t, r)
	if !strings.Contains(r.stderr, "accepted") || strings.Contains(r.stderr, "approval=") {
		t.Fatalf("stderr %q: want the event accepted, no wait", r.stderr)
	}
}
