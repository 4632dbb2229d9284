package hook_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/mpm-dev/mpm/internal/hook"
	"github.com/mpm-dev/mpm/internal/testutil"
)

// runCmd runs bin with args in a home of its own and returns the exit code,
// stdout and stderr.
func runCmd(t *testing.T, home, bin string, env []string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "HOME="+home, "CLAUDE_CONFIG_DIR="+filepath.Join(home, ".claude"))
	cmd.Env = append(cmd.Env, env...)
	cmd.Dir = home
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), stdout.String(), stderr.String()
	}
	if err != nil {
		t.Fatalf("%s: %v", bin, err)
	}
	return 0, stdout.String(), stderr.String()
}

// `mpm-hook install` is carried out by the mpm-hookctl beside it, and wires
// in mpm-hook's own path, not mpm-hookctl's.
func TestSubcommandsRunMpmHookctl(t *testing.T) {
	hookBin := testutil.Binary(t, "mpm-hook")
	ctl := testutil.Binary(t, hook.CtlName)
	if filepath.Dir(ctl) != filepath.Dir(hookBin) {
		t.Fatalf("test binaries are not side by side: %s, %s", hookBin, ctl)
	}
	home := t.TempDir()
	code, out, errs := runCmd(t, home, hookBin, nil, "install")
	if code != 0 {
		t.Fatalf("mpm-hook install: exit %d\n%s%s", code, out, errs)
	}
	settings, err := os.ReadFile(filepath.Join(home, ".claude", "settings.json"))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := filepath.EvalSymlinks(hookBin)
	if !bytes.Contains(settings, []byte(strings.ReplaceAll(want, `\`, `\\`))) || bytes.Contains(settings, []byte(hook.CtlName)) {
		t.Fatalf("settings.json does not name %s (alone):\n%s", want, settings)
	}
	if code, out, _ := runCmd(t, home, hookBin, nil, "status"); code != 0 || !strings.Contains(out, "settings.json") {
		t.Fatalf("mpm-hook status: exit %d\n%s", code, out)
	}
	if code, out, _ := runCmd(t, home, hookBin, nil, "help"); code != 0 || !strings.Contains(out, "uninstall") {
		t.Fatalf("mpm-hook help: exit %d\n%s", code, out)
	}
}

// Without mpm-hookctl, mpm-hook still answers help and says what is missing
// for the rest; forwarding needs nothing else.
func TestSubcommandsWithoutMpmHookctl(t *testing.T) {
	dir := t.TempDir()
	name := "mpm-hook"
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	lone := filepath.Join(dir, name)
	b, err := os.ReadFile(testutil.Binary(t, "mpm-hook"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(lone, b, 0o755); err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	noPath := []string{"PATH=" + dir}
	if code, out, _ := runCmd(t, home, lone, noPath, "help"); code != 0 || !strings.Contains(out, hook.CtlName) {
		t.Fatalf("lone mpm-hook help: exit %d\n%s", code, out)
	}
	code, _, errs := runCmd(t, home, lone, noPath, "install")
	if code != 1 || !strings.Contains(errs, hook.CtlName+", which is neither beside") {
		t.Fatalf("lone mpm-hook install: exit %d, stderr %q", code, errs)
	}
	if _, err := os.Stat(filepath.Join(home, ".claude", "settings.json")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("lone mpm-hook install wrote settings anyway: %v", err)
	}
}
