package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/mpm-dev/mpm/internal/testutil"
)

func TestDryRunTouchesNothing(t *testing.T) {
	mgr := testutil.Binary(t, "mpm-manager")
	home, data := t.TempDir(), t.TempDir()
	cmd := exec.Command(mgr, "install", "--dry-run", "--data-dir", data, "--wsd", mgr, "--health-interval=10s")
	cmd.Env = append(os.Environ(), "HOME="+home)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("install --dry-run: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "nothing was changed") || !strings.Contains(string(out), "--health-interval=10s") {
		t.Errorf("dry-run output lacks the plan or the recorded flag:\n%s", out)
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
