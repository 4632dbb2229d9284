package verify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/mpm-dev/mpm/internal/hookcfg"
	"github.com/mpm-dev/mpm/internal/managerstate"
	"github.com/mpm-dev/mpm/internal/paths"
	"github.com/mpm-dev/mpm/internal/protocol"
	"github.com/mpm-dev/mpm/internal/spool"
	"github.com/mpm-dev/mpm/internal/testutil"
)

// These tests call Run in-process with injected directories and
// resolvers, each against real files and sockets.

func lookup(addrs ...string) func(*Config) {
	return func(c *Config) {
		c.LookupHost = func(context.Context, string) ([]string, error) { return addrs, nil }
	}
}

func TestAddress(t *testing.T) {
	free := testutil.FreeAddr(t)
	_, port, _ := strings.Cut(free, ":")
	cases := []struct {
		addr   string
		lookup []string
		st     Status
		detail string
		fix    string
	}{
		{free, []string{"127.0.0.1", "::1"}, OK, "is IPv4 loopback; localhost → 127.0.0.1, ::1", ""},
		{free, []string{"::1", "127.0.0.1"}, Warn, "::1 first", "not http://localhost:" + port},
		{"localhost:" + port, []string{"127.0.0.1"}, Warn, "names localhost", "MPM_ADDR=127.0.0.1:" + port},
		{"[::1]:" + port, []string{"127.0.0.1"}, Warn, "IPv6 loopback", "MPM_ADDR=127.0.0.1:" + port},
		{"192.0.2.1:" + port, []string{"127.0.0.1"}, Warn, "not a loopback address", "MPM_ADDR=127.0.0.1:8765"},
		{"127.0.0.1", []string{"127.0.0.1"}, Fail, "is not host:port", "MPM_ADDR=127.0.0.1:8765"},
		{"127.0.0.1:99999", []string{"127.0.0.1"}, Fail, "out of range", ""},
	}
	for _, c := range cases {
		t.Run(c.addr+"/"+strings.Join(c.lookup, ","), func(t *testing.T) {
			e := newEnv(t, c.addr, "")
			r := e.run(lookup(c.lookup...), func(cfg *Config) { cfg.Timeout = time.Second })
			want(t, r, "address", c.st, c.detail, c.fix)
			if c.st == Fail && c.detail == "is not host:port" {
				// Nothing can be dialed: the network checks are skipped.
				want(t, r, "daemon", Skip, "address is not usable", "")
				want(t, r, "websocket", Skip, "", "")
			}
		})
	}
}

func TestLocalhostUnresolvable(t *testing.T) {
	e := newEnv(t, testutil.FreeAddr(t), "")
	r := e.run(func(c *Config) {
		c.LookupHost = func(context.Context, string) ([]string, error) { return nil, errors.New("no such host") }
	})
	want(t, r, "address", OK, "localhost does not resolve (no such host)", "")
}

func TestTokenModeWarns(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no unix modes")
	}
	d := testutil.StartDaemon(t)
	if err := os.Chmod(paths.Token(d.DataDir), 0o644); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, d.Addr, d.DataDir)
	r := e.run()
	want(t, r, "token", Warn, "mode is 0644", "chmod 600 "+paths.Token(d.DataDir))
	want(t, r, "round-trip", OK, "", "") // a warning does not skip later checks
}

func TestTokenMissingWhileDaemonRuns(t *testing.T) {
	d := testutil.StartDaemon(t)
	e := newEnv(t, d.Addr, "") // another, empty data directory
	r := e.run()
	want(t, r, "token", Fail, "the running daemon uses another data directory", "--data-dir")
	want(t, r, "websocket", Skip, "no readable token", "")
	if r.ExitCode() != 1 {
		t.Errorf("exit code %d", r.ExitCode())
	}
}

func TestManagerState(t *testing.T) {
	d := testutil.StartDaemon(t)
	dead := deadPid(t)
	st := managerstate.State{
		ManagerPID: dead, Addr: d.Addr, DataDir: d.DataDir, Phase: managerstate.PhaseRunning,
		DaemonPID: d.Pid(), Restarts: 3, LastExit: "killed by signal 9 after 12.3s", LastExitAt: time.Now(),
	}
	if err := managerstate.Write(d.DataDir, st); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, d.Addr, d.DataDir)
	r := e.run(func(c *Config) {
		c.Service = func(context.Context) []ServiceState {
			return []ServiceState{{Name: "mpm (test)", State: "stopped", User: true}}
		}
	})
	c := want(t, r, "manager", Warn, "is not running", "mpm-manager start --user")
	for _, w := range []string{"3 daemon restarts", "last exit: killed by signal 9 after 12.3s", "service mpm (test): stopped", "the daemon runs without supervision"} {
		if !strings.Contains(c.Detail, w) {
			t.Errorf("manager detail lacks %q: %s", w, c.Detail)
		}
	}

	// The same with the daemon down: now the dead manager is the cause.
	d.Stop()
	r = e.run()
	want(t, r, "manager", Fail, "is not running", "mpm-manager install")
}

// TestManagerServiceFailed: a service the service manager gave up on
// (systemd's "failed") is a failure whose fix is start, which resets it;
// install, which would refuse, is not suggested.
func TestManagerServiceFailed(t *testing.T) {
	e := newEnv(t, testutil.FreeAddr(t), "")
	failed := func(c *Config) {
		c.Service = func(context.Context) []ServiceState {
			return []ServiceState{{Name: "mpm (test)", State: "failed", User: true, Err: errors.New("systemd stopped restarting it")}}
		}
	}
	r := e.run(failed)
	c := want(t, r, "manager", Fail, "failed", "mpm-manager start --user")
	if strings.Contains(c.Fix, "install") || !strings.Contains(c.Detail, "systemd stopped restarting it") {
		t.Errorf("manager check: %+v", c)
	}
	dead := deadPid(t)
	if err := managerstate.Write(e.dataDir, managerstate.State{ManagerPID: dead, Phase: managerstate.PhaseRunning}); err != nil {
		t.Fatal(err)
	}
	r = e.run(failed)
	c = want(t, r, "manager", Fail, "is not running", "mpm-manager start --user")
	if strings.Contains(c.Fix, "install") {
		t.Errorf("manager fix suggests install: %s", c.Fix)
	}
}

func TestManagerStateUnreadable(t *testing.T) {
	e := newEnv(t, testutil.FreeAddr(t), "")
	if err := os.WriteFile(paths.ManagerState(e.dataDir), []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := e.run()
	want(t, r, "manager", Warn, "cannot read the manager state", "mpm-manager restart")
}

// deadPid returns the pid of a process that has exited.
func deadPid(t *testing.T) int {
	t.Helper()
	d := testutil.StartDaemon(t)
	pid := d.Pid()
	d.Kill()
	return pid
}

func TestSpool(t *testing.T) {
	e := newEnv(t, testutil.FreeAddr(t), "")
	r := e.run()
	want(t, r, "spool", OK, "is empty", "")

	dir := paths.Spool(e.dataDir)
	for i := 0; i < 3; i++ {
		rec := spool.Record{Key: "k" + string(rune('a'+i)), SentAt: time.Now(), Payload: []byte(`{"session_id":"s","hook_event_name":"Stop"}`)}
		if err := spool.Append(dir, rec); err != nil {
			t.Fatal(err)
		}
	}
	big := spool.Record{Key: "big", SentAt: time.Now(), Payload: bytes.Repeat([]byte("x"), 4096)}
	if err := spool.AppendLimit(dir, big, 1024); !errors.Is(err, spool.ErrTooLarge) {
		t.Fatalf("want a dropped record, got %v", err)
	}
	r = e.run()
	want(t, r, "spool", Warn, "3 events", "")
	want(t, r, "spool", Warn, "1 events were dropped", "")
}

func TestHooksSettingsProblems(t *testing.T) {
	hook := fakeHook(t, 0)
	e := newEnv(t, testutil.FreeAddr(t), "")

	// Unparseable user settings: Claude Code cannot read them either.
	p := filepath.Join(e.home, ".claude", "settings.json")
	os.MkdirAll(filepath.Dir(p), 0o700)
	os.WriteFile(p, []byte(`{"hooks": {`), 0o600)
	r := e.run()
	want(t, r, "hooks", Fail, "cannot be read", "fix the JSON")

	// Two mpm entries on one event: a warning with the installer as fix.
	doc := map[string]any{"hooks": map[string]any{"PreToolUse": []any{
		map[string]any{"matcher": "*", "hooks": []any{map[string]any{"type": "command", "command": "MPM_ADDR=" + e.addr + " " + hook, "async": true}}},
		map[string]any{"matcher": "*", "hooks": []any{map[string]any{"type": "command", "command": "MPM_ADDR=" + e.addr + " " + hook + " --x", "async": true}}},
	}}}
	b, _ := json.Marshal(doc)
	os.WriteFile(p, b, 0o600)
	r = e.run()
	c := want(t, r, "hooks", Warn, "PreToolUse holds more than one mpm entry", "install")
	if !strings.Contains(c.Detail, hook+" runs") {
		t.Errorf("the binary's run is not reported: %s", c.Detail)
	}

	// An http hook aimed at another port and without a token.
	doc = map[string]any{"hooks": map[string]any{"Stop": []any{
		map[string]any{"hooks": []any{map[string]any{"type": "http", "url": "http://127.0.0.1:1/v1/events"}}},
	}}}
	b, _ = json.Marshal(doc)
	os.WriteFile(p, b, 0o600)
	r = e.run()
	want(t, r, "hooks", Fail, "posts to http://127.0.0.1:1/v1/events, not to "+e.addr, "")
	want(t, r, "hooks", Fail, "sends no token", "")
}

func TestHooksProjectIsHome(t *testing.T) {
	hook := fakeHook(t, 0)
	e := newEnv(t, testutil.FreeAddr(t), "")
	e.project = e.home
	e.writeSettings(hook)
	r := e.run()
	c := want(t, r, "hooks", Warn, "the same file as user", "install")
	want(t, r, "hooks", Warn, "no settings file wires SessionStart, UserPromptSubmit, PermissionRequest,", "")
	if strings.Count(c.Detail, "1 events (PreToolUse)") != 1 {
		t.Errorf("one file reported twice: %s", c.Detail)
	}
}

func TestHooksLocalScope(t *testing.T) {
	hook := fakeHook(t, 0)
	e := newEnv(t, testutil.FreeAddr(t), "")
	p := filepath.Join(e.project, ".claude", "settings.local.json")
	os.MkdirAll(filepath.Dir(p), 0o700)
	doc := `{"hooks":{"Stop":[{"hooks":[{"type":"command","command":"MPM_ADDR=` + e.addr + ` ` + hook + `","async":true}]}]}}`
	os.WriteFile(p, []byte(doc), 0o600)
	r := e.run()
	want(t, r, "hooks", Warn, "local "+p+": 1 events (Stop) → "+hook+" (command)", "--scope local")
	want(t, r, "hooks", Warn, "which the session state needs", "")
}

// TestHooksCommandCarriesAddr: a command hook without MPM_ADDR=… sends to
// 127.0.0.1:8765 from a Claude Code whose environment lacks MPM_ADDR,
// whatever mpm-verify's own environment says: with the daemon elsewhere
// that is a failure, fixed by installing with --addr (it used to pass).
func TestHooksCommandCarriesAddr(t *testing.T) {
	hook := fakeHook(t, 0)
	e := newEnv(t, testutil.FreeAddr(t), "")
	p := filepath.Join(e.home, ".claude", "settings.json")
	os.MkdirAll(filepath.Dir(p), 0o700)
	doc := `{"hooks":{"Stop":[{"hooks":[{"type":"command","command":"` + hook + `","async":true}]}]}}`
	os.WriteFile(p, []byte(doc), 0o600)
	r := e.run()
	want(t, r, "hooks", Fail, "sends to 127.0.0.1:8765", "install --addr "+e.addr)
}

func TestTextOutput(t *testing.T) {
	r := Report{Version: "v1", Addr: "127.0.0.1:1", DataDir: "/d", Checks: []Result{
		{Name: "daemon", Status: Fail, Detail: "down", Fix: "start it"},
		{Name: "websocket", Status: Skip, Detail: "skipped"},
		{Name: "spool", Status: Warn, Detail: "3 waiting", Fix: "wait"},
	}}
	var b bytes.Buffer
	WriteText(&b, r)
	out := b.String()
	for _, w := range []string{"✗ daemon      down\n              fix: start it\n", "- websocket   skipped\n", "! spool       3 waiting\n              fix: wait\n", "1 failed, 1 warning, 1 skipped"} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	if r.ExitCode() != 1 {
		t.Error("a failure must give exit code 1")
	}
	r.Checks = r.Checks[1:]
	if r.ExitCode() != 0 {
		t.Error("warnings and skips alone must give exit code 0")
	}
	if got := DashboardURL("127.0.0.1:8765", "a b&c", "t0k"); got != "http://127.0.0.1:8765/?session=a+b%26c#token=t0k" {
		t.Errorf("session URL %q", got)
	}
}

func TestRoundTripTimesOutWithoutDelivery(t *testing.T) {
	d := testutil.StartDaemon(t)
	e := newEnv(t, d.Addr, d.DataDir)
	// The WebSocket subscribes to another session than the probe's: the
	// daemon never delivers the probe to it, and the check must say so
	// within the timeout rather than hang.
	r := e.run(func(c *Config) {
		c.Timeout = 2 * time.Second
		c.subscribeTo = []string{"someone-else"}
	})
	want(t, r, "websocket", OK, "", "")
	want(t, r, "round-trip", Fail, "did not come back over the WebSocket within 2s", "mpm-manager restart")
}

// fakeDaemon serves /healthz and /v1/sessions like mpm-wsd (accepting the
// token in dataDir) and answers /v1/ws with ws.
func fakeDaemon(t *testing.T, dataDir string, ws http.HandlerFunc) string {
	t.Helper()
	tok := strings.Repeat("cd", 32)
	if err := os.WriteFile(paths.Token(dataDir), []byte(tok+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(protocol.Health{OK: true, Service: protocol.ServiceName, Version: "dev", Store: "memory"})
	})
	mux.HandleFunc("/v1/sessions", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+tok {
			http.Error(w, "bad token", http.StatusUnauthorized)
			return
		}
		w.Write([]byte(`{"sessions":[]}`))
	})
	mux.HandleFunc("/v1/ws", ws)
	return serve(t, mux)
}

// TestDaemonStoreProblems: a store note (a journal that lost events or was
// moved aside) is a warning with the note; a store that cannot write is a
// failure with the fix.
func TestDaemonStoreProblems(t *testing.T) {
	for _, tc := range []struct {
		name   string
		h      protocol.Health
		status Status
		detail string
		fix    string
	}{
		{"note", protocol.Health{StoreNote: "the journal's write-ahead log was damaged"}, Warn, "store: the journal's write-ahead log was damaged", ""},
		{"cannot write", protocol.Health{Degraded: true, StoreError: "the event store cannot write since X: disk is full"}, Fail, "cannot store events; the event store cannot write", "free disk space"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := tc.h
			h.OK, h.Service, h.Version, h.Store = true, protocol.ServiceName, "dev", "journal"
			mux := http.NewServeMux()
			mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { json.NewEncoder(w).Encode(h) })
			r := newEnv(t, serve(t, mux), t.TempDir()).run()
			want(t, r, "daemon", tc.status, tc.detail, tc.fix)
		})
	}
}

func TestWebSocketRefusedOrWithoutHello(t *testing.T) {
	dataDir := t.TempDir()
	addr := fakeDaemon(t, dataDir, func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "origin not allowed", http.StatusForbidden)
	})
	r := newEnv(t, addr, dataDir).run()
	want(t, r, "token", OK, "the daemon accepts it", "")
	want(t, r, "websocket", Fail, "the handshake was refused with HTTP 403; origin not allowed", "refused the Origin or Host")
	want(t, r, "round-trip", Skip, "handshake failed", "")

	up := websocket.Upgrader{}
	dataDir = t.TempDir()
	addr = fakeDaemon(t, dataDir, func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		c.WriteJSON(map[string]string{"type": "welcome"})
		c.ReadMessage()
	})
	r = newEnv(t, addr, dataDir).run()
	want(t, r, "websocket", Fail, `the first message is not a hello: "welcome"`, "another protocol version")
}

// TestLocalhostAddrWarnsOnly: --addr localhost:PORT with a daemon answering
// there is a warning in present terms, not a failure (it used to mark ✗
// and exit 1 with words about "the old hooks").
func TestLocalhostAddrWarnsOnly(t *testing.T) {
	d := testutil.StartDaemon(t)
	_, port, _ := strings.Cut(d.Addr, ":")
	e := newEnv(t, "localhost:"+port, d.DataDir)
	r := e.run(lookup("127.0.0.1", "::1"))
	c := want(t, r, "address", Warn, "names localhost", "127.0.0.1:"+port)
	if strings.Contains(c.Detail, "old") {
		t.Errorf("the detail refers to history: %s", c.Detail)
	}
	want(t, r, "daemon", OK, "", "")
}

// TestHooksOlderInstall: every state event wired, but SessionEnd async (as
// installs before session state wrote it): a warning that says so.
func TestHooksOlderInstall(t *testing.T) {
	hook := fakeHook(t, 0)
	e := newEnv(t, testutil.FreeAddr(t), "")
	hooks := map[string]any{}
	for _, ev := range hookcfg.StateEvents {
		hooks[ev] = []any{map[string]any{"hooks": []any{map[string]any{"type": "command", "command": "MPM_ADDR=" + e.addr + " " + hook, "async": true}}}}
	}
	b, _ := json.Marshal(map[string]any{"hooks": hooks})
	p := filepath.Join(e.home, ".claude", "settings.json")
	os.MkdirAll(filepath.Dir(p), 0o700)
	os.WriteFile(p, b, 0o600)
	r := e.run()
	c := want(t, r, "hooks", Warn, "the mpm hook on SessionEnd is async, so Claude Code cuts it off", "install")
	if strings.Contains(c.Detail, "no settings file wires") {
		t.Errorf("nothing is missing: %s", c.Detail)
	}
}
