package hookcfg

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/mpm-dev/mpm/internal/client"
	"github.com/mpm-dev/mpm/internal/testutil"
)

// TestInstalledHookReachesTheInstallersDaemon: mpm-hook install --addr A
// --data-dir D writes a command that reaches the daemon on A with D's
// token, run the way Claude Code runs it (sh -c, an environment without
// MPM_ADDR or MPM_DATA_DIR). It used to write the bare binary and only
// print an `export MPM_ADDR` hint, so the events went to 127.0.0.1:8765.
func TestInstalledHookReachesTheInstallersDaemon(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("runs the command with sh")
	}
	d := testutil.StartDaemon(t)
	hook := testutil.Binary(t, "mpm-hook")
	ctl := testutil.Binary(t, "mpm-hookctl")
	home := t.TempDir()
	env := []string{"HOME=" + home, "PATH=" + os.Getenv("PATH")}
	cmd := exec.Command(ctl, "install", "--addr", d.Addr, "--data-dir", d.DataDir, "--events", "Stop")
	cmd.Env = append(env, "MPM_HOOK_BIN="+hook)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("install: %v\n%s", err, out)
	}
	var s struct {
		Hooks map[string][]struct {
			Hooks []struct{ Command string } `json:"hooks"`
		} `json:"hooks"`
	}
	if err := json.Unmarshal(readFile(t, filepath.Join(home, ".claude", "settings.json")), &s); err != nil {
		t.Fatal(err)
	}
	command := s.Hooks["Stop"][0].Hooks[0].Command
	if !strings.Contains(command, "MPM_ADDR="+d.Addr) || !strings.Contains(command, "MPM_DATA_DIR="+d.DataDir) {
		t.Fatalf("command %q does not carry the address and data directory", command)
	}
	// Claude Code's way: sh -c COMMAND, the event on stdin.
	run := exec.Command("sh", "-c", command)
	run.Env = env
	run.Stdin = bytes.NewReader([]byte(`{"session_id":"carry-1","hook_event_name":"Stop"}`))
	if out, err := run.CombinedOutput(); err != nil {
		t.Fatalf("hook: %v\n%s", err, out)
	}
	c, err := client.New(client.Config{Addr: d.Addr, DataDir: d.DataDir})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	infos, err := c.Sessions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(infos) != 1 || infos[0].SessionID != "carry-1" {
		t.Errorf("the daemon on %s has sessions %+v, want carry-1", d.Addr, infos)
	}
	// Inspect (status, mpm-verify) reads the address back from the command.
	r, err := Inspect(Options{HomeDir: home, ConfigDir: filepath.Join(home, ".claude"), ProjectDir: t.TempDir(), Executable: hook, Addr: d.Addr, DataDir: d.DataDir})
	if err != nil {
		t.Fatal(err)
	}
	if e := r.Scopes[0].Entries[0]; e.Addr != d.Addr || e.DataDir != d.DataDir || len(r.Scopes[0].Problems) != 0 {
		t.Errorf("inspect: addr %q data dir %q problems %v", e.Addr, e.DataDir, r.Scopes[0].Problems)
	}
}

// TestInstallRefusesGoRunBinary: a binary of `go run` is deleted when go
// run exits; wiring it would leave Claude Code running nothing.
func TestInstallRefusesGoRunBinary(t *testing.T) {
	e := newEnv(t)
	e.opts.Executable = filepath.Join(os.TempDir(), "go-build1234", "b001", "exe", "mpm-hook")
	code, out, errs := e.run("install")
	if code != 1 || !strings.Contains(errs, "go run") || !strings.Contains(errs, "go install") {
		t.Errorf("exit %d\nstdout %s\nstderr %s", code, out, errs)
	}
	if _, err := os.Stat(e.path(ScopeUser)); !os.IsNotExist(err) {
		t.Errorf("settings written: %v", err)
	}
	if !GoRunBuild(filepath.FromSlash("/tmp/go-build1/b001/exe/mpm-hook")) {
		t.Error("GoRunBuild of a go run binary is false")
	}
	if GoRunBuild("/home/me/go/bin/mpm-hook") {
		t.Error("GoRunBuild of an installed binary")
	}
}
