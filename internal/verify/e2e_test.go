package verify

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mpm-dev/mpm/internal/managerstate"
	"github.com/mpm-dev/mpm/internal/paths"
	"github.com/mpm-dev/mpm/internal/testutil"
)

// These tests run the real mpm-verify binary against a real mpm-wsd, real
// settings files written by the real mpm-hook, and real strangers on the
// port, as a user would.

func TestE2EHealthy(t *testing.T) {
	d := testutil.StartDaemon(t)
	e := newEnv(t, d.Addr, d.DataDir)
	hook := e.installHooks()

	code, r := e.verifyJSON("--session", "s-1")
	if code != 0 {
		t.Fatalf("exit %d on a healthy setup: %+v", code, r.Checks)
	}
	if !r.OK {
		t.Error("ok is false on a healthy setup")
	}
	want(t, r, "daemon", OK, "mpm-wsd", "")
	want(t, r, "token", OK, "the daemon accepts it", "")
	want(t, r, "websocket", OK, "hello: protocol 1", "")
	want(t, r, "round-trip", OK, "came back over the WebSocket in", "")
	want(t, r, "manager", Warn, "no manager state", "mpm-manager install")
	want(t, r, "hooks", OK, hook+" runs", "")
	want(t, r, "spool", OK, "empty", "")
	if c := must(t, r, "address"); c.Status == Fail {
		t.Errorf("address failed for %s: %s", d.Addr, c.Detail)
	}
	tok := d.Token()
	if r.DashboardURL != "http://"+d.Addr+"/#token="+tok {
		t.Errorf("dashboard URL %q", r.DashboardURL)
	}
	if r.SessionURL != "http://"+d.Addr+"/?session=s-1#token="+tok {
		t.Errorf("session URL %q", r.SessionURL)
	}

	// The probe left no trace in the user's sessions.
	req, _ := http.NewRequest(http.MethodGet, d.URL("/v1/sessions"), nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var s struct{ Sessions []json.RawMessage }
	json.NewDecoder(resp.Body).Decode(&s)
	resp.Body.Close()
	if len(s.Sessions) != 0 {
		t.Errorf("the probe is visible in /v1/sessions: %d sessions", len(s.Sessions))
	}

	// The human output: marks, the URLs, exit 0.
	code, out, _ := e.verify("--session", "s-1")
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	for _, w := range []string{"✓ daemon", "✓ round-trip", "! manager", "✓ hooks", "Dashboard: http://" + d.Addr + "/#token=" + tok, "Session:   http://" + d.Addr + "/?session=s-1#token="} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}

func TestE2EDaemonDown(t *testing.T) {
	e := newEnv(t, testutil.FreeAddr(t), "")
	e.installHooks()
	code, r := e.verifyJSON()
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	want(t, r, "daemon", Fail, "nothing listens on "+e.addr, "mpm-manager start")
	// One cause, one failure: the rest is skipped, not failed.
	want(t, r, "token", Skip, "first start", "")
	want(t, r, "websocket", Skip, "not answering", "")
	want(t, r, "round-trip", Skip, "", "")
	want(t, r, "hooks", OK, "", "")
	if r.DashboardURL != "" {
		t.Errorf("dashboard URL without a token: %q", r.DashboardURL)
	}

	code, out, _ := e.verify()
	if code != 1 || !strings.Contains(out, "✗ daemon") || !strings.Contains(out, "fix: start it: mpm-manager start") || !strings.Contains(out, "- websocket") {
		t.Errorf("exit %d, output:\n%s", code, out)
	}
}

func TestE2EDaemonStoppedTokenKept(t *testing.T) {
	d := testutil.StartDaemon(t)
	d.Stop()
	e := newEnv(t, d.Addr, d.DataDir)
	e.installHooks()
	code, r := e.verifyJSON()
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	want(t, r, "daemon", Fail, "nothing listens", "mpm-manager start")
	want(t, r, "token", OK, "not tried against the daemon", "")
	want(t, r, "websocket", Skip, "", "")
	if r.DashboardURL == "" {
		t.Error("the token is readable, the dashboard URL must be printed")
	}
}

func TestE2EWrongToken(t *testing.T) {
	d := testutil.StartDaemon(t)
	other := t.TempDir()
	if err := os.WriteFile(paths.Token(other), []byte(strings.Repeat("ab", 32)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, d.Addr, other)
	e.installHooks()
	code, r := e.verifyJSON()
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	want(t, r, "daemon", OK, "", "")
	want(t, r, "token", Fail, "refuses it (401)", "--data-dir")
	want(t, r, "websocket", Skip, "does not accept the token", "")
	want(t, r, "round-trip", Skip, "", "")
}

func TestE2EStrangerOnThePort(t *testing.T) {
	addr := stranger(t)
	e := newEnv(t, addr, "")
	e.installHooks()
	code, r := e.verifyJSON()
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	c := want(t, r, "daemon", Fail, `HTTP 200 "hello", not mpm-wsd`, "another program holds "+addr)
	if runtime.GOOS == "linux" && !strings.Contains(c.Detail, "the port is held by pid "+strconv.Itoa(os.Getpid())) {
		t.Errorf("the stranger (this test, pid %d) is not named: %s", os.Getpid(), c.Detail)
	}
	want(t, r, "token", Skip, "", "")
	want(t, r, "websocket", Skip, "another program holds the address", "")
	want(t, r, "round-trip", Skip, "", "")
}

func TestE2ENonHTTPStranger(t *testing.T) {
	e := newEnv(t, rawStranger(t), "")
	code, r := e.verifyJSON()
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	want(t, r, "daemon", Fail, "does not answer HTTP /healthz like mpm-wsd", "another program holds")
	want(t, r, "websocket", Skip, "", "")
}

func TestE2EHooksNotInstalled(t *testing.T) {
	d := testutil.StartDaemon(t)
	e := newEnv(t, d.Addr, d.DataDir)
	code, r := e.verifyJSON()
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	want(t, r, "round-trip", OK, "", "")
	c := want(t, r, "hooks", Fail, "not wired into any Claude Code settings file", "mpm-hook install")
	if !strings.Contains(c.Detail, filepath.Join(e.home, ".claude", "settings.json")+": no file") {
		t.Errorf("the user settings path is not named: %s", c.Detail)
	}
}

func TestE2EDanglingHookPath(t *testing.T) {
	d := testutil.StartDaemon(t)
	e := newEnv(t, d.Addr, d.DataDir)
	gone := filepath.Join(t.TempDir(), "moved-away", "mpm-hook")
	e.writeSettings(gone)
	code, r := e.verifyJSON()
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	want(t, r, "hooks", Fail, gone+", which does not exist", "mpm-hook install")
	want(t, r, "round-trip", OK, "", "")
}

func TestE2EHookBinaryDoesNotRun(t *testing.T) {
	d := testutil.StartDaemon(t)
	e := newEnv(t, d.Addr, d.DataDir)
	bad := fakeHook(t, 3)
	e.writeSettings(bad)
	code, r := e.verifyJSON()
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	want(t, r, "hooks", Fail, bad+", which fails", "install")
	want(t, r, "hooks", Fail, "fake mpm-hook exiting with 3", "")
}

func TestE2EUsage(t *testing.T) {
	e := newEnv(t, "127.0.0.1:1", "")
	if code, _, errOut := e.verify("--bogus"); code != 2 || !strings.Contains(errOut, "bogus") {
		t.Errorf("bad flag: exit %d, stderr %q", code, errOut)
	}
	if code, out, _ := e.verify("--help"); code != 0 || !strings.Contains(out, "round-trip") {
		t.Errorf("--help: exit %d, %q", code, out)
	}
}

func TestE2EUnderManager(t *testing.T) {
	testutil.Binary(t, "mpm-wsd") // the manager finds it next to itself
	mgr := testutil.Binary(t, "mpm-manager")
	e := newEnv(t, testutil.FreeAddr(t), "")
	e.installHooks()
	cmd := exec.Command(mgr, "run", "--addr", e.addr, "--data-dir", e.dataDir, "--backoff-min", "50ms", "--backoff-max", "100ms")
	cmd.Env = e.cleanEnviron()
	log := &testutil.SyncBuffer{}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	// Kill the manager's daemon once, wait for the replacement.
	st := waitState(t, e.dataDir, log, func(s managerstate.State) bool { return s.Phase == managerstate.PhaseRunning && s.DaemonPID > 0 })
	if p, err := os.FindProcess(st.DaemonPID); err == nil {
		p.Kill()
	}
	waitState(t, e.dataDir, log, func(s managerstate.State) bool {
		return s.Phase == managerstate.PhaseRunning && s.Restarts == 1 && s.DaemonPID != st.DaemonPID
	})
	if err := testutil.WaitHealthy(e.addr, 20*time.Second, nil); err != nil {
		t.Fatal(err)
	}
	code, r := e.verifyJSON()
	if code != 0 {
		t.Fatalf("exit %d under the manager: %+v", code, r.Checks)
	}
	want(t, r, "manager", OK, "1 daemon restart, last exit:", "")
	want(t, r, "manager", OK, "phase running", "")
	want(t, r, "round-trip", OK, "", "")
}

// waitState polls the manager state file until ok accepts it.
func waitState(t *testing.T, dataDir string, log *testutil.SyncBuffer, ok func(managerstate.State) bool) managerstate.State {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if s, err := managerstate.Read(dataDir); err == nil && ok(s) {
			return s
		}
		time.Sleep(20 * time.Millisecond)
	}
	s, err := managerstate.Read(dataDir)
	t.Fatalf("manager state never reached the wanted condition: %+v (%v)\nmanager log:\n%s", s, err, log.String())
	return s
}
