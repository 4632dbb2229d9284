package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/mpm-dev/mpm/internal/svc"
	"github.com/mpm-dev/mpm/internal/testutil"
)

// TestDryRunTouchesNothing: install --dry-run prints the plan (with a
// supported service manager) or says plainly that there is none and gives
// the command to run instead, naming no library; it writes nothing.
func TestDryRunTouchesNothing(t *testing.T) {
	mgr := testutil.Binary(t, "mpm-manager")
	home, data := t.TempDir(), t.TempDir()
	cmd := exec.Command(mgr, "install", "--dry-run", "--data-dir", data, "--wsd", mgr, "--health-interval=10s")
	cmd.Env = append(os.Environ(), "HOME="+home)
	out, err := cmd.CombinedOutput()
	if svc.Supported(svc.Platform()) {
		if err != nil {
			t.Fatalf("install --dry-run: %v\n%s", err, out)
		}
		if !strings.Contains(string(out), "nothing was changed") || !strings.Contains(string(out), "--health-interval=10s") {
			t.Errorf("dry-run output lacks the plan or the recorded flag:\n%s", out)
		}
	} else {
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
			t.Errorf("install --dry-run without a service manager: %v, want exit 1", err)
		}
		for _, w := range []string{"no service manager that mpm-manager can install into", mgr + " run --addr", "--health-interval=10s", "login script"} {
			if !strings.Contains(string(out), w) {
				t.Errorf("output lacks %q:\n%s", w, out)
			}
		}
		for _, bad := range []string{"kardianos", "would the"} {
			if strings.Contains(string(out), bad) {
				t.Errorf("output has %q:\n%s", bad, out)
			}
		}
	}
	for _, d := range []string{home, data} {
		if ents, _ := os.ReadDir(d); len(ents) != 0 {
			t.Errorf("dry run wrote into %s: %v", d, ents)
		}
	}
}

func TestBadFlagsExit2(t *testing.T) {
	mgr := testutil.Binary(t, "mpm-manager")
	for _, args := range [][]string{{"run", "--health-failures=0", "--wsd", mgr}, {"run", "--nope"}, {"frobnicate"}} {
		err := exec.Command(mgr, args...).Run()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 {
			t.Errorf("%v: %v, want exit 2", args, err)
		}
	}
}
