package verify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mpm-dev/mpm/internal/hookcfg"
	"github.com/mpm-dev/mpm/internal/testutil"
)

// env is one scenario: a temp HOME, a project directory and a data
// directory, and the address mpm-verify checks.
type env struct {
	t       *testing.T
	home    string
	project string
	dataDir string
	addr    string
}

func newEnv(t *testing.T, addr, dataDir string) *env {
	t.Helper()
	if dataDir == "" {
		dataDir = t.TempDir()
	}
	return &env{t: t, home: t.TempDir(), project: t.TempDir(), dataDir: dataDir, addr: addr}
}

// cleanEnviron is the test process's environment without anything that
// would point mpm-verify at the developer's real setup.
func (e *env) cleanEnviron() []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "HOME", "USERPROFILE", "MPM_ADDR", "MPM_DATA_DIR", "MPM_TOKEN", "CLAUDE_CONFIG_DIR", "XDG_STATE_HOME":
			continue
		}
		out = append(out, kv)
	}
	return append(out, "HOME="+e.home, "USERPROFILE="+e.home)
}

// verify runs the real mpm-verify binary and returns its exit code and
// output.
func (e *env) verify(args ...string) (code int, stdout, stderr string) {
	e.t.Helper()
	all := append([]string{"--addr", e.addr, "--data-dir", e.dataDir, "--project", e.project}, args...)
	cmd := exec.Command(testutil.Binary(e.t, "mpm-verify"), all...)
	cmd.Env = e.cleanEnviron()
	var o, s bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &s
	err := cmd.Run()
	code = 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			e.t.Fatalf("run mpm-verify: %v", err)
		}
		code = ee.ExitCode()
	}
	return code, o.String(), s.String()
}

// verifyJSON runs mpm-verify --json and decodes the report.
func (e *env) verifyJSON(args ...string) (int, Report) {
	e.t.Helper()
	code, out, errOut := e.verify(append(args, "--json")...)
	var r Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		e.t.Fatalf("--json output does not parse: %v\nstdout:\n%s\nstderr:\n%s", err, out, errOut)
	}
	for _, c := range r.Checks {
		switch c.Status {
		case OK, Fail, Warn, Skip:
		default:
			e.t.Fatalf("check %s has status %q", c.Name, c.Status)
		}
		if c.Status == Fail && c.Fix == "" {
			e.t.Errorf("check %s failed without a fix: %s", c.Name, c.Detail)
		}
	}
	n := len(r.Checks)
	if _, ok := r.Get("fleet"); ok {
		n-- // only in fleet mode
	}
	if n != 8 {
		e.t.Fatalf("want 8 checks (and fleet in fleet mode), got %d: %+v", len(r.Checks), r.Checks)
	}
	return code, r
}

// run runs the checks in-process with the scenario's directories.
func (e *env) run(mod ...func(*Config)) Report {
	e.t.Helper()
	e.t.Setenv("CLAUDE_CONFIG_DIR", "")
	cfg := Config{
		Addr: e.addr, DataDir: e.dataDir, HomeDir: e.home, ClaudeConfigDir: filepath.Join(e.home, ".claude"),
		ProjectDir: e.project, HookExecutable: filepath.Join(e.home, "no-such-mpm-hook"),
	}
	for _, m := range mod {
		m(&cfg)
	}
	return Run(context.Background(), cfg)
}

// installHooks wires mpm-hook into the env's user settings with the real
// installer (hookcfg, what `mpm-hook install` runs), pointing at the real
// built mpm-hook, or at a stand-in script while cmd/mpm-hook does not build
// (another engineer may be mid-edit). It returns the hook's path.
func (e *env) installHooks() string {
	e.t.Helper()
	hook := hookBinary(e.t)
	var out, errOut bytes.Buffer
	opts := hookcfg.Options{
		HomeDir: e.home, ConfigDir: filepath.Join(e.home, ".claude"), ProjectDir: e.project,
		Executable: hook, Addr: e.addr, DataDir: e.dataDir,
	}
	if code := hookcfg.Run([]string{"install"}, &out, &errOut, opts); code != 0 {
		e.t.Fatalf("mpm-hook install: exit %d\n%s%s", code, out.String(), errOut.String())
	}
	return hook
}

var (
	hookOnce sync.Once
	hookPath string
	hookErr  string
)

// hookBinary builds the real mpm-hook once; when it does not build, it
// returns a stand-in executable that answers `help` with exit 0.
func hookBinary(t *testing.T) string {
	t.Helper()
	hookOnce.Do(func() {
		dir, err := os.MkdirTemp("", "mpm-verify-hook-")
		if err != nil {
			hookErr = err.Error()
			return
		}
		exe := filepath.Join(dir, "mpm-hook")
		if runtime.GOOS == "windows" {
			exe += ".exe"
		}
		cmd := exec.Command("go", "build", "-o", exe, "./cmd/mpm-hook")
		cmd.Dir = testutil.ModuleRoot(t)
		if out, err := cmd.CombinedOutput(); err != nil {
			hookErr = fmt.Sprintf("%v\n%s", err, out)
			return
		}
		hookPath = exe
	})
	if hookPath != "" {
		return hookPath
	}
	t.Logf("cmd/mpm-hook does not build, using a stand-in script: %s", hookErr)
	return fakeHook(t, 0)
}

// writeSettings writes the user settings.json with one command hook,
// carrying the daemon's address as mpm-hook install writes it, on
// PreToolUse running command.
func (e *env) writeSettings(command string) string {
	e.t.Helper()
	p := filepath.Join(e.home, ".claude", "settings.json")
	doc := map[string]any{"hooks": map[string]any{"PreToolUse": []any{map[string]any{
		"matcher": "*",
		"hooks":   []any{map[string]any{"type": "command", "command": "MPM_ADDR=" + e.addr + " " + command, "async": true, "timeout": 5}},
	}}}}
	b, _ := json.MarshalIndent(doc, "", "  ")
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		e.t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o600); err != nil {
		e.t.Fatal(err)
	}
	return p
}

// fakeHook writes an executable named mpm-hook that exits with code.
func fakeHook(t *testing.T, code int) string {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("shell-script stand-in for mpm-hook needs a unix shell")
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "mpm-hook")
	script := "#!/bin/sh\necho 'fake mpm-hook exiting with " + strconv.Itoa(code) + "' >&2\nexit " + strconv.Itoa(code) + "\n"
	if err := os.WriteFile(p, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// serve runs h on a free 127.0.0.1 port until the test ends and returns
// the address.
func serve(t *testing.T, h http.Handler) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return l.Addr().String()
}

// stranger serves a plain HTTP "hello" on a free 127.0.0.1 port.
func stranger(t *testing.T) string {
	t.Helper()
	return serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("hello"))
	}))
}

// rawStranger accepts TCP connections on a free port and answers each
// with a line that is not HTTP, then closes it.
func rawStranger(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.SetDeadline(time.Now().Add(5 * time.Second))
			c.Write([]byte("SSH-2.0-OpenSSH_9.6\r\n"))
			c.Close()
		}
	}()
	t.Cleanup(func() { l.Close() })
	return l.Addr().String()
}

// must returns the named check or fails the test.
func must(t *testing.T, r Report, name string) Result {
	t.Helper()
	c, ok := r.Get(name)
	if !ok {
		t.Fatalf("no check %q in %+v", name, r.Checks)
	}
	return c
}

// want checks a result's status and that detail (and fix) contain the
// given substrings.
func want(t *testing.T, r Report, name string, st Status, detail, fix string) Result {
	t.Helper()
	c := must(t, r, name)
	if c.Status != st {
		t.Errorf("%s: status %s, want %s (detail: %s; fix: %s)", name, c.Status, st, c.Detail, c.Fix)
	}
	if detail != "" && !strings.Contains(c.Detail, detail) {
		t.Errorf("%s: detail %q does not contain %q", name, c.Detail, detail)
	}
	if fix != "" && !strings.Contains(c.Fix, fix) {
		t.Errorf("%s: fix %q does not contain %q", name, c.Fix, fix)
	}
	return c
}
