//go:build linux

package supervisor_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mpm-dev/mpm/internal/managerstate"
	"github.com/mpm-dev/mpm/internal/supervisor/procinfo"
	"github.com/mpm-dev/mpm/internal/testutil"
)

var (
	fakeOnce sync.Once
	fakePath string
	fakeErr  error
)

// fakeWSD builds the helper daemon as ".../mpm-wsd" (its executable name
// is what the supervisor checks before replacing an orphan).
func fakeWSD(t testing.TB) string {
	t.Helper()
	fakeOnce.Do(func() {
		dir, err := os.MkdirTemp("", "mpm-fakewsd-")
		if err != nil {
			fakeErr = err
			return
		}
		fakePath = filepath.Join(dir, "mpm-wsd")
		cmd := exec.Command("go", "build", "-o", fakePath, "./internal/supervisor/internal/fakewsd")
		cmd.Dir = testutil.ModuleRoot(t)
		if out, err := cmd.CombinedOutput(); err != nil {
			fakeErr = fmt.Errorf("build fakewsd: %v\n%s", err, out)
		}
	})
	if fakeErr != nil {
		t.Fatal(fakeErr)
	}
	return fakePath
}

// manager is a real "mpm-manager run" process.
type manager struct {
	t       testing.TB
	cmd     *exec.Cmd
	addr    string
	dataDir string
	log     *testutil.SyncBuffer
	done    chan struct{}
}

// fast are short intervals so tests finish quickly.
var fast = []string{"--health-interval=200ms", "--health-timeout=300ms", "--health-failures=2",
	"--health-grace=5s", "--stop-timeout=2s", "--backoff-min=50ms", "--backoff-max=500ms"}

func startManager(t testing.TB, wsd string, args ...string) *manager {
	t.Helper()
	m := &manager{t: t, addr: testutil.FreeAddr(t), dataDir: t.TempDir(), log: &testutil.SyncBuffer{}, done: make(chan struct{})}
	all := append([]string{"run", "--addr", m.addr, "--data-dir", m.dataDir, "--wsd", wsd, "--log-level", "debug"}, args...)
	m.cmd = exec.Command(testutil.Binary(t, "mpm-manager"), all...)
	m.cmd.Stdout, m.cmd.Stderr = m.log, m.log
	if err := m.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { m.cmd.Wait(); close(m.done) }()
	t.Cleanup(func() {
		st, _ := managerstate.Read(m.dataDir)
		m.cmd.Process.Kill()
		<-m.done
		if st.DaemonPID > 0 && procinfo.Alive(st.DaemonPID) {
			if n, _ := procinfo.ExeName(st.DaemonPID); n == "mpm-wsd" {
				syscall.Kill(st.DaemonPID, syscall.SIGKILL)
			}
		}
		if t.Failed() {
			t.Logf("manager log:\n%s", m.log.String())
		}
	})
	return m
}

// waitState polls the state file until cond holds.
func (m *manager) waitState(what string, timeout time.Duration, cond func(managerstate.State) bool) managerstate.State {
	m.t.Helper()
	deadline := time.Now().Add(timeout)
	var st managerstate.State
	var err error
	for time.Now().Before(deadline) {
		st, err = managerstate.Read(m.dataDir)
		if err == nil && cond(st) {
			return st
		}
		select {
		case <-m.done:
			m.t.Fatalf("manager exited while waiting for %s; state %+v", what, st)
		case <-time.After(20 * time.Millisecond):
		}
	}
	m.t.Fatalf("timed out waiting for %s; last state %+v (err %v)", what, st, err)
	return st
}

func (m *manager) waitRunning() managerstate.State {
	m.t.Helper()
	return m.waitState("a healthy daemon", 20*time.Second, func(s managerstate.State) bool {
		return s.Phase == managerstate.PhaseRunning && s.DaemonPID > 0
	})
}

// status runs "mpm-manager status --json" and decodes it.
func (m *manager) status() map[string]any {
	m.t.Helper()
	out, err := exec.Command(testutil.Binary(m.t, "mpm-manager"), "status", "--json", "--data-dir", m.dataDir, "--addr", m.addr).Output()
	// Exit 3 (not running) and 4 (unknown) are answers, as in statusHuman.
	var ee *exec.ExitError
	if err != nil && !(errors.As(err, &ee) && (ee.ExitCode() == 3 || ee.ExitCode() == 4)) {
		m.t.Fatalf("status --json: %v", err)
	}
	var r map[string]any
	if err := json.Unmarshal(out, &r); err != nil {
		m.t.Fatalf("status --json output: %v\n%s", err, out)
	}
	return r
}

func (m *manager) statusHuman() string {
	m.t.Helper()
	out, err := exec.Command(testutil.Binary(m.t, "mpm-manager"), "status", "--data-dir", m.dataDir, "--addr", m.addr).Output()
	// status exits 0 (running), 3 (not running) or 4 (unknown), as
	// systemctl does; anything else is a failure of the command itself.
	var ee *exec.ExitError
	if err != nil && !(errors.As(err, &ee) && (ee.ExitCode() == 3 || ee.ExitCode() == 4)) {
		m.t.Fatalf("status: %v", err)
	}
	return string(out)
}

func healthPid(t testing.TB, addr string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	h, code, err := testutil.GetHealth(ctx, addr)
	if err != nil || code != 200 {
		t.Fatalf("/healthz: code %d err %v", code, err)
	}
	return h.Pid
}

func waitGone(t testing.TB, pid int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for procinfo.Alive(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("pid %d still alive after %v", pid, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// realWSD is the real daemon.
func realWSD(t testing.TB) string { return testutil.Binary(t, "mpm-wsd") }

func TestRestartAfterKill9(t *testing.T) {
	m := startManager(t, realWSD(t), fast...)
	st := m.waitRunning()
	if got := healthPid(t, m.addr); got != st.DaemonPID {
		t.Fatalf("/healthz pid %d, state pid %d", got, st.DaemonPID)
	}
	r := m.status()
	if r["manager_running"] != true || !strings.Contains(r["dashboard_url"].(string), "#token=") {
		t.Fatalf("status before kill: %v", r)
	}
	old := st.DaemonPID
	syscall.Kill(old, syscall.SIGKILL)
	st = m.waitState("a new healthy daemon", 20*time.Second, func(s managerstate.State) bool {
		return s.Phase == managerstate.PhaseRunning && s.DaemonPID > 0 && s.DaemonPID != old
	})
	if st.Restarts != 1 || !strings.Contains(st.LastExit, "killed") {
		t.Fatalf("after kill -9: restarts %d, last exit %q", st.Restarts, st.LastExit)
	}
	if got := healthPid(t, m.addr); got != st.DaemonPID {
		t.Fatalf("/healthz pid %d, state pid %d", got, st.DaemonPID)
	}
	h := m.statusHuman()
	for _, want := range []string{"restarts:      1", "killed", fmt.Sprintf("pid %d", st.DaemonPID), "#token="} {
		if !strings.Contains(h, want) {
			t.Errorf("status lacks %q:\n%s", want, h)
		}
	}
	// Daemon JSON log lines are re-levelled into the manager's log.
	if !strings.Contains(m.log.String(), "mpm-manager.wsd:") {
		t.Errorf("daemon lines not in the manager's log:\n%s", m.log.String())
	}
}

func TestStoppedDaemonIsReplaced(t *testing.T) {
	m := startManager(t, realWSD(t), fast...)
	st := m.waitRunning()
	old := st.DaemonPID
	syscall.Kill(old, syscall.SIGSTOP)
	st = m.waitState("a replacement daemon", 30*time.Second, func(s managerstate.State) bool {
		return s.Phase == managerstate.PhaseRunning && s.DaemonPID != old && s.DaemonPID > 0
	})
	if !strings.Contains(st.LastExit, "failed health checks") {
		t.Fatalf("last exit %q does not name the health checks", st.LastExit)
	}
	waitGone(t, old, 10*time.Second)
	if got := healthPid(t, m.addr); got != st.DaemonPID {
		t.Fatalf("/healthz pid %d, want %d", got, st.DaemonPID)
	}
}

func TestHealthAnswerMustBeOurChild(t *testing.T) {
	m := startManager(t, fakeWSD(t), append(fast, "--health-grace=300ms", "--crash-loop-count=100", "--wsd-arg=--mode=wrong-pid")...)
	st := m.waitState("a failed health check naming the pid", 20*time.Second, func(s managerstate.State) bool {
		return s.LastHealth != nil && !s.LastHealth.OK && strings.Contains(s.LastHealth.Detail, "not from our child")
	})
	_ = st
	m.waitState("the impostor answer replaced", 20*time.Second, func(s managerstate.State) bool {
		return s.Restarts >= 1 && strings.Contains(s.LastExit, "failed health checks")
	})
}

// TestDegradedStoreIsReportedNotRestarted: a daemon whose store cannot
// write (a full disk) answers ok with degraded: the manager logs and
// records it but does not restart the daemon, which would not help.
func TestDegradedStoreIsReportedNotRestarted(t *testing.T) {
	m := startManager(t, fakeWSD(t), append(fast, "--wsd-arg=--mode=degraded")...)
	first := m.waitState("a degraded health result", 20*time.Second, func(s managerstate.State) bool {
		return s.LastHealth != nil && s.LastHealth.OK && strings.Contains(s.LastHealth.Detail, "disk is full")
	})
	// Let more checks pass than --health-failures=2 would tolerate.
	st := m.waitState("several more health checks", 30*time.Second, func(s managerstate.State) bool {
		return s.LastHealth != nil && s.LastHealth.At.Sub(first.LastHealth.At) >= 5*200*time.Millisecond
	})
	if st.Restarts != 0 || st.DaemonPID != first.DaemonPID || st.Phase != managerstate.PhaseRunning {
		t.Fatalf("degraded daemon was restarted or not running: %+v", st)
	}
	if !strings.Contains(st.Message, "cannot store events") || !strings.Contains(m.statusHuman(), "cannot store events") {
		t.Fatalf("state message %q / status do not report the store", st.Message)
	}
	if n := strings.Count(m.log.String(), "mpm-wsd cannot store events"); n != 1 {
		t.Fatalf("%d log lines about the store, want 1 (logged when it changes):\n%s", n, m.log.String())
	}
}

func TestCrashLoopBacksOffAndReports(t *testing.T) {
	m := startManager(t, fakeWSD(t), append(fast, "--crash-loop-count=3", "--crash-loop-window=1m",
		"--crash-loop-cooldown=1h", "--wsd-arg=--mode=crash")...)
	st := m.waitState("crash loop", 20*time.Second, func(s managerstate.State) bool {
		return s.Phase == managerstate.PhaseCrashLoop
	})
	if st.Starts != 3 || st.DaemonPID != 0 || !strings.Contains(st.LastExit, "exit status 1") ||
		!strings.Contains(st.Message, "failed 3 times") || time.Until(st.NextStart) < 30*time.Minute {
		t.Fatalf("crash-loop state: %+v", st)
	}
	h := m.statusHuman()
	if !strings.Contains(h, "crash_loop") || !strings.Contains(h, "failed 3 times") {
		t.Errorf("status does not report the crash loop:\n%s", h)
	}
	if !strings.Contains(m.log.String(), "crash loop") {
		t.Errorf("log does not report the crash loop")
	}
	// It does not keep starting: the count stays put.
	// (A negative check: 300 ms spans several 50-500 ms backoff steps, so
	// a manager that ignored the cool-down would have started again.)
	time.Sleep(300 * time.Millisecond)
	if st2, _ := managerstate.Read(m.dataDir); st2.Starts != 3 {
		t.Fatalf("still restarting during the cool-down: %d starts", st2.Starts)
	}
}

func TestRecoversAfterEarlyCrashes(t *testing.T) {
	m := startManager(t, fakeWSD(t), append(fast, "--wsd-arg=--crash-first=2")...)
	st := m.waitState("healthy after two crashes", 20*time.Second, func(s managerstate.State) bool {
		return s.Phase == managerstate.PhaseRunning && s.Starts == 3
	})
	if st.Restarts != 2 {
		t.Fatalf("restarts %d, want 2", st.Restarts)
	}
	// Re-levelled: the fake's JSON warn line arrives at WARN, its plain
	// stdout line at INFO.
	log := m.log.String()
	if !strings.Contains(log, "[WARN]  mpm-manager.wsd: a warning from the daemon") ||
		!strings.Contains(log, "[INFO]  mpm-manager.wsd: plain stdout line from fakewsd") {
		t.Errorf("daemon lines not re-levelled:\n%s", log)
	}
}

func TestStopLeavesNoProcess(t *testing.T) {
	for _, mode := range []string{"real", "ignore-term"} {
		t.Run(mode, func(t *testing.T) {
			wsd, args := realWSD(t), fast
			if mode != "real" {
				wsd, args = fakeWSD(t), append(fast, "--stop-timeout=500ms", "--wsd-arg=--mode="+mode)
			}
			m := startManager(t, wsd, args...)
			pid := m.waitRunning().DaemonPID
			m.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-m.done:
			case <-time.After(20 * time.Second):
				t.Fatal("manager did not exit within 20s of SIGTERM")
			}
			if code := m.cmd.ProcessState.ExitCode(); code != 0 {
				t.Errorf("manager exit code %d", code)
			}
			if procinfo.Alive(pid) {
				t.Fatalf("daemon pid %d survived the manager's stop", pid)
			}
			st, err := managerstate.Read(m.dataDir)
			if err != nil || st.Phase != managerstate.PhaseStopped || st.DaemonPID != 0 {
				t.Fatalf("state after stop: %+v %v", st, err)
			}
			if r := m.status(); r["manager_running"] != false {
				t.Errorf("status says the manager runs: %v", r)
			}
			if _, err := net.DialTimeout("tcp", m.addr, time.Second); err == nil {
				t.Error("something still listens on the address")
			}
		})
	}
}

func TestManagerKilledTakesDaemonAlong(t *testing.T) {
	m := startManager(t, realWSD(t), fast...)
	pid := m.waitRunning().DaemonPID
	m.cmd.Process.Kill()
	<-m.done
	waitGone(t, pid, 10*time.Second)
}

func TestStrangerOnPortIsReportedNotKilled(t *testing.T) {
	for _, kind := range []string{"tcp", "http"} {
		t.Run(kind, func(t *testing.T) {
			addr := testutil.FreeAddr(t)
			l, err := net.Listen("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			if kind == "http" {
				srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.Write([]byte(`{"ok":true,"service":"something-else","pid":1}`))
				})}
				go srv.Serve(l)
				defer srv.Close()
			} else {
				defer l.Close()
			}
			mm := startManagerAt(t, addr, fakeWSD(t), fast...)
			st := mm.waitState("port_busy", 20*time.Second, func(s managerstate.State) bool {
				return s.Phase == managerstate.PhasePortBusy
			})
			if !strings.Contains(st.PortHolder, fmt.Sprintf("pid %d", os.Getpid())) {
				t.Errorf("port holder %q does not name our pid %d", st.PortHolder, os.Getpid())
			}
			if h := mm.statusHuman(); !strings.Contains(h, "port held by") {
				t.Errorf("status does not say who holds the port:\n%s", h)
			}
			// We are still alive and still own the port.
			c, err := net.DialTimeout("tcp", addr, time.Second)
			if err != nil {
				t.Fatalf("our listener was disturbed: %v", err)
			}
			c.Close()
			// Once the stranger leaves, the manager takes the port.
			l.Close()
			mm.waitRunning()
		})
	}
}

func startManagerAt(t testing.TB, addr, wsd string, args ...string) *manager {
	t.Helper()
	m := startManager(t, wsd, append(args, "--addr", addr)...)
	m.addr = addr
	return m
}

func TestOrphanDaemonIsReplaced(t *testing.T) {
	addr := testutil.FreeAddr(t)
	dataDir := t.TempDir()
	orphan := exec.Command(fakeWSD(t), "--addr", addr, "--data-dir", dataDir)
	if err := orphan.Start(); err != nil {
		t.Fatal(err)
	}
	orphanDone := make(chan struct{})
	go func() { orphan.Wait(); close(orphanDone) }()
	t.Cleanup(func() { orphan.Process.Kill(); <-orphanDone })
	if err := testutil.WaitHealthy(addr, 10*time.Second, orphanDone); err != nil {
		t.Fatal(err)
	}
	m := startManagerAt(t, addr, fakeWSD(t), fast...)
	st := m.waitRunning()
	if st.DaemonPID == orphan.Process.Pid {
		t.Fatal("the orphan was adopted, not replaced")
	}
	select {
	case <-orphanDone:
	case <-time.After(10 * time.Second):
		t.Fatal("the orphan mpm-wsd is still running")
	}
	if !strings.Contains(m.log.String(), "replacing an mpm-wsd") {
		t.Errorf("log does not say it replaced the orphan:\n%s", m.log.String())
	}
}
