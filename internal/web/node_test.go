package web_test

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestJSUnits runs the dashboard's pure modules' unit tests (jstest/*.test.js:
// model, params, sessions, diff, the tool renderers' text) with Node's
// built-in runner, so that go test ./... covers them. Without node it skips;
// the browser tests stay the end-to-end check.
func TestJSUnits(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not on PATH: skipping the JavaScript unit tests (jstest/)")
	}
	files, err := filepath.Glob(filepath.Join("jstest", "*.test.js"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no jstest/*.test.js: %v", err)
	}
	cmd := exec.Command(node, append([]string{"--test", "--test-reporter=tap"}, files...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node --test failed: %v\n%s", err, out)
	}
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "# ") && !strings.HasPrefix(l, "# Subtest") {
			t.Log(strings.TrimPrefix(l, "# "))
		}
	}
}
