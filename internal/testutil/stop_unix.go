//go:build unix

package testutil

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Freeze stops the daemon (SIGSTOP) and returns once it is stopped: its
// sockets stay open and it says nothing, like a hung daemon. kill(2)
// returns before a running process has stopped; a test that went on at
// once could still be answered (seen under load). On Linux Freeze waits
// until /proc says the process is stopped (up to 10 s); elsewhere it
// returns after the signal.
func (d *Daemon) Freeze(t testing.TB) {
	t.Helper()
	if err := d.Cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatalf("SIGSTOP the daemon: %v", err)
	}
	WaitStopped(t, d.Cmd.Process.Pid)
}

// WaitStopped waits until process pid is stopped (state T in
// /proc/<pid>/stat, Linux), up to 10 s; where there is no /proc it
// returns at once.
func WaitStopped(t testing.TB, pid int) {
	t.Helper()
	path := "/proc/" + strconv.Itoa(pid) + "/stat"
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, err := os.ReadFile(path)
		if err != nil {
			return // no /proc (or the process is gone: the caller finds out)
		}
		// pid (comm) state ...: comm may hold spaces and parentheses.
		if i := bytes.LastIndexByte(b, ')'); i >= 0 && i+2 < len(b) && (b[i+2] == 'T' || b[i+2] == 't') {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("process %d did not stop within 10 s of SIGSTOP", pid)
		}
		time.Sleep(time.Millisecond)
	}
}

// removeStaleBuildDirs removes the build directories (mpm-test-bin-<pid>-*)
// of test processes that have exited: nothing removes a package's
// binaries when its test process ends (there is no TestMain to do it), and
// each left ~60 MB in the temporary directory (1,900 of them filled a CI
// machine's disk). A directory whose pid is alive, or that has no pid in
// its name, is kept. (Elsewhere than on unix nothing is removed.)
func removeStaleBuildDirs() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "mpm-test-bin-*"))
	for _, d := range dirs {
		rest := strings.TrimPrefix(filepath.Base(d), "mpm-test-bin-")
		pidText, _, ok := strings.Cut(rest, "-")
		if !ok {
			continue
		}
		pid, err := strconv.Atoi(pidText)
		if err != nil || pid <= 0 || pid == os.Getpid() {
			continue
		}
		if err := syscall.Kill(pid, 0); err == syscall.ESRCH {
			os.RemoveAll(d)
		}
	}
}
