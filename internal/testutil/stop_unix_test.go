//go:build unix

package testutil

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

// TestRemoveStaleBuildDirs: the build directory of a test process that has
// exited goes; one of a live process, and one without a pid, stay.
func TestRemoveStaleBuildDirs(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	dead := cmd.Process.Pid  // exited and reaped
	dirs := map[string]bool{ // name: kept
		"mpm-test-bin-" + strconv.Itoa(dead) + "-123":        false,
		"mpm-test-bin-" + strconv.Itoa(os.Getppid()) + "-45": true,
		"mpm-test-bin-678": true,
	}
	for name := range dirs {
		if err := os.MkdirAll(filepath.Join(tmp, name, "sub"), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	removeStaleBuildDirs()
	for name, kept := range dirs {
		_, err := os.Stat(filepath.Join(tmp, name))
		if kept != (err == nil) {
			t.Errorf("%s: exists %v, want %v", name, err == nil, kept)
		}
	}
}
