package main

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mpm-dev/mpm/internal/managerstate"
	"github.com/mpm-dev/mpm/internal/paths"
	"github.com/mpm-dev/mpm/internal/svc"
	"github.com/mpm-dev/mpm/internal/testutil"
)

// startRun starts "mpm-manager run" on a free address and a fresh data
// directory with stderr going to stderr, and waits until its daemon
// answers. It returns the address, the data directory and the process.
func startRun(t *testing.T, stderr *os.File, log *testutil.SyncBuffer) (string, string, *exec.Cmd) {
	t.Helper()
	mgr := testutil.Binary(t, "mpm-manager")
	wsd := testutil.Binary(t, "mpm-wsd")
	addr, dir := testutil.FreeAddr(t), t.TempDir()
	cmd := exec.Command(mgr, "run", "--addr", addr, "--data-dir", dir, "--wsd", wsd)
	if stderr != nil {
		cmd.Stderr = stderr
	} else {
		cmd.Stderr = log
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	deadline := time.Now().Add(30 * time.Second)
	for {
		if st, err := managerstate.Read(dir); err == nil && st.Phase == managerstate.PhaseRunning {
			return addr, dir, cmd
		}
		if time.Now().After(deadline) {
			t.Fatalf("the manager's daemon did not answer within 30s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func readToken(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(paths.Token(dir))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// TestRunNeverLogsToken: the manager's log (stderr, not a terminal: a
// service's goes to the system journal) never holds the token, and the
// daemon's dashboard line ends with the URL ("…: module=mpm-wsd" after it
// broke copying).
func TestRunNeverLogsToken(t *testing.T) {
	var log testutil.SyncBuffer
	addr, dir, cmd := startRun(t, nil, &log)
	tok := readToken(t, dir)
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	s := log.String()
	if strings.Contains(s, tok) || strings.Contains(s, "#token=") {
		t.Fatalf("the manager's log holds the token:\n%s", s)
	}
	if !regexp.MustCompile(`(?m)dashboard.*url=http://` + regexp.QuoteMeta(addr) + `/$`).MatchString(s) {
		t.Errorf("the dashboard line does not end with the URL:\n%s", s)
	}
	if strings.Contains(s, "module=mpm-wsd\n") || strings.Contains(s, "module=mpm-wsd ") {
		t.Errorf("the daemon's root module is repeated in the manager's log:\n%s", s)
	}
}

// TestStatusExitCodes: status exits as LSB init scripts and systemctl do:
// 0 when mpm-wsd runs under a live manager, 3 when nothing runs.
func TestStatusExitCodes(t *testing.T) {
	mgr := testutil.Binary(t, "mpm-manager")
	status := func(dir, addr string, args ...string) int {
		cmd := exec.Command(mgr, append([]string{"status", "--data-dir", dir, "--addr", addr}, args...)...)
		cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
		out, err := cmd.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatalf("status: %v\n%s", err, out)
		}
		return 0
	}
	empty := t.TempDir()
	for _, args := range [][]string{nil, {"--json"}} {
		if code := status(empty, testutil.FreeAddr(t), args...); code != svc.ExitNotRunning {
			t.Errorf("status %v of a data dir no manager ever used: exit %d, want %d", args, code, svc.ExitNotRunning)
		}
	}
	addr, dir, cmd := startRun(t, nil, &testutil.SyncBuffer{})
	if code := status(dir, addr); code != svc.ExitRunning {
		t.Errorf("status with a running manager: exit %d, want 0", code)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	if code := status(dir, addr); code != svc.ExitNotRunning {
		t.Errorf("status after the manager stopped: exit %d, want %d", code, svc.ExitNotRunning)
	}
}
