package claudecode

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// Version is the npm version range installed (2.1.x).
const Version = "2"

// RequireEnv makes a missing Claude Code a failure instead of a skip
// (CI sets it).
const RequireEnv = "MPM_REQUIRE_CLAUDE"

// CacheDir is where Install puts the npm package: $MPM_CLAUDE_CACHE, else
// <user cache dir>/mpm-test/claude-code.
func CacheDir() string {
	if d := os.Getenv("MPM_CLAUDE_CACHE"); d != "" {
		return d
	}
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	return filepath.Join(base, "mpm-test", "claude-code")
}

var (
	installMu  sync.Mutex
	installed  string
	installErr error
)

// Install returns the path of the native claude binary, installing the
// npm package into CacheDir first if needed (once per process). When that
// is impossible (no npm, registry unreachable, unsupported platform) the
// test is skipped, or fails when MPM_REQUIRE_CLAUDE=1.
func Install(t testing.TB) string {
	t.Helper()
	installMu.Lock()
	defer installMu.Unlock()
	if installed == "" && installErr == nil {
		installed, installErr = install()
	}
	if installErr != nil {
		if os.Getenv(RequireEnv) == "1" {
			t.Fatalf("Claude Code is required (%s=1) but could not be installed: %v", RequireEnv, installErr)
		}
		t.Skipf("skipping: real Claude Code unavailable: %v (set %s=1 to make this a failure)", installErr, RequireEnv)
	}
	return installed
}

// nativePackage is the npm package holding the binary for this platform.
func nativePackage() (pkg, bin string, ok bool) {
	arch := map[string]string{"amd64": "x64", "arm64": "arm64"}[runtime.GOARCH]
	if arch == "" {
		return "", "", false
	}
	switch runtime.GOOS {
	case "linux", "darwin":
		return "@anthropic-ai/claude-code-" + runtime.GOOS + "-" + arch, "claude", true
	case "windows":
		return "@anthropic-ai/claude-code-win32-" + arch, "claude.exe", true
	}
	return "", "", false
}

func install() (string, error) {
	pkg, bin, ok := nativePackage()
	if !ok {
		return "", fmt.Errorf("no Claude Code binary for %s/%s", runtime.GOOS, runtime.GOARCH)
	}
	dir := CacheDir()
	exe := filepath.Join(dir, "node_modules", filepath.FromSlash(pkg), bin)
	if runs(exe) {
		return exe, nil
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		return "", fmt.Errorf("npm not found on PATH: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	// --ignore-scripts: the binary comes in the platform's optional
	// dependency; the wrapper's postinstall only copies it.
	cmd := exec.CommandContext(ctx, npm, "install", "--no-audit", "--no-fund", "--ignore-scripts", "--prefix", dir,
		"@anthropic-ai/claude-code@"+Version)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("npm install @anthropic-ai/claude-code@%s: %v: %s", Version, err, lastLines(string(out), 5))
	}
	if !runs(exe) {
		return "", fmt.Errorf("npm installed the package but %s does not run", exe)
	}
	return exe, nil
}

// runs reports whether exe --version works.
func runs(exe string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, "--version")
	cmd.Env = append(isolatedEnv(os.TempDir()), "HOME="+os.TempDir())
	out, err := cmd.Output()
	return err == nil && strings.Contains(string(out), "Claude Code")
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

// isolatedEnv is the environment that keeps Claude Code off the network
// and away from the real user's files (HOME is added by the caller).
func isolatedEnv(tmp string) []string {
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"TMPDIR=" + tmp,
		"DISABLE_TELEMETRY=1",
		"DISABLE_ERROR_REPORTING=1",
		"DISABLE_AUTOUPDATER=1",
		"CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1",
		"DISABLE_BUG_COMMAND=1",
		"NO_COLOR=1",
		fmt.Sprintf("CLAUDE_CODE_SESSIONEND_HOOKS_TIMEOUT_MS=%d", sessionEndBudget*1000),
	}
	if runtime.GOOS == "windows" {
		for _, k := range []string{"SystemRoot", "COMSPEC", "PATHEXT"} {
			env = append(env, k+"="+os.Getenv(k))
		}
	}
	return env
}

// Options are one `claude -p` run.
type Options struct {
	// Prompt is the prompt.
	Prompt string
	// Stub is the API stub (its URL is ANTHROPIC_BASE_URL).
	Stub *Stub
	// Home is the scratch HOME; its .claude/settings.json wires the hooks.
	Home string
	// Dir is the working directory (the project).
	Dir string
	// AllowedTools is --allowedTools (a Bash call outside it fires
	// PermissionRequest).
	AllowedTools []string
	// Args are extra arguments.
	Args []string
	// Env are extra environment variables (MPM_ADDR, MPM_DATA_DIR, ...).
	Env []string
	// Timeout bounds the run (2 min).
	Timeout time.Duration
	// BeforeExit, in RunStream, runs when the turn's result has arrived,
	// before stdin is closed (which makes Claude Code exit). Async hooks
	// not yet started at exit never run: wait here for the events that
	// must arrive (Stop). RunStream then waits for the hook processes
	// still running (waitHooksDone), without which Claude Code would skip
	// SessionEnd.
	BeforeExit func()
}

// Result is a finished run.
type Result struct {
	Stdout, Stderr string
	Err            error
}

// Run runs `claude -p Prompt` with exe against the stub and returns its
// output; Err is its exit error, if any.
func Run(t testing.TB, exe string, o Options) Result {
	t.Helper()
	cmd, cancel := command(exe, o, "-p", o.Prompt)
	defer cancel()
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return Result{Stdout: out.String(), Stderr: errb.String(), Err: err}
}

// command is exe run with args, o's allowed tools and extra arguments, in
// o.Dir, with the isolated environment pointed at o's stub and home; it is
// killed after o.Timeout (2 minutes by default) or when cancel is called.
func command(exe string, o Options, args ...string) (*exec.Cmd, context.CancelFunc) {
	if o.Timeout == 0 {
		o.Timeout = 2 * time.Minute
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.Timeout)
	if len(o.AllowedTools) > 0 {
		args = append(args, "--allowedTools", strings.Join(o.AllowedTools, ","))
	}
	args = append(args, o.Args...)
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Dir = o.Dir
	tmp := filepath.Join(o.Home, "tmp")
	os.MkdirAll(tmp, 0o700)
	cmd.Env = append(isolatedEnv(tmp), "HOME="+o.Home, "USERPROFILE="+o.Home,
		"ANTHROPIC_BASE_URL="+o.Stub.URL, "ANTHROPIC_API_KEY=sk-ant-stub-not-a-key")
	cmd.Env = append(cmd.Env, o.Env...)
	return cmd, cancel
}

// WireHooks runs `mpm-hook install` (hook is its path; mpm-hookctl must be
// beside it, as testutil.Binary builds them) with HOME=home, so
// that home/.claude/settings.json sends every event to the daemon at addr
// with the token in dataDir. Run the session with Env holding
// HookEnv(addr, dataDir).
func WireHooks(t testing.TB, hook, home, addr, dataDir string, extra ...string) {
	t.Helper()
	cmd := exec.Command(hook, append([]string{"install", "--scope", "user", "--addr", addr}, extra...)...)
	cmd.Env = append(isolatedEnv(os.TempDir()), "HOME="+home, "USERPROFILE="+home)
	cmd.Env = append(cmd.Env, HookEnv(addr, dataDir)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("mpm-hook install: %v\n%s", err, out)
	}
	slowSessionEnd(t, filepath.Join(home, ".claude", "settings.json"))
}

// sessionEndBudget is the time a test's Claude Code gives its SessionEnd
// hooks (CLAUDE_CODE_SESSIONEND_HOOKS_TIMEOUT_MS) and our hook's timeout
// there. Claude Code's own budget is about 1.5 s and mpm installs a 1 s
// timeout, which a tiny process meets with a wide margin on a person's
// machine — but not always on a CI machine whose two cores run a whole
// test suite at once, where starting a process can take over a second.
const sessionEndBudget = 15

// slowSessionEnd gives the SessionEnd hooks in the settings file at path
// sessionEndBudget seconds, so that a loaded test machine does not lose the
// event (what the tests check is that Claude Code sends it).
func slowSessionEnd(t testing.TB, path string) {
	t.Helper()
	EditHooks(t, path, "SessionEnd", func(h map[string]any) { h["timeout"] = sessionEndBudget })
}

// EditHooks calls edit with each hook entry (a JSON object) of event in
// the settings file at path and writes the file back; it returns how many
// there were.
func EditHooks(t testing.TB, path, event string, edit func(h map[string]any)) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	n := 0
	hooks, _ := doc["hooks"].(map[string]any)
	groups, _ := hooks[event].([]any)
	for _, g := range groups {
		hs, _ := g.(map[string]any)["hooks"].([]any)
		for _, h := range hs {
			if h, ok := h.(map[string]any); ok {
				edit(h)
				n++
			}
		}
	}
	if b, err = json.MarshalIndent(doc, "", "  "); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return n
}

// HookEnv is the environment that points mpm-hook at a test daemon.
func HookEnv(addr, dataDir string) []string {
	return []string{"MPM_ADDR=" + addr, "MPM_DATA_DIR=" + dataDir}
}

// Decision answers a tool permission request in a streamed run: allow it
// (true) or deny it.
type Decision func(tool string, input json.RawMessage) bool

// RunStream runs one prompt the way the Agent SDK does (stream-json on
// stdin and stdout, --permission-prompt-tool stdio), so that a tool call
// outside AllowedTools asks for permission — firing PermissionRequest —
// and decide answers it. It returns when Claude Code has exited.
func RunStream(t testing.TB, exe string, o Options, decide Decision) Result {
	t.Helper()
	cmd, cancel := command(exe, o, "-p", "--input-format", "stream-json", "--output-format", "stream-json", "--verbose",
		"--permission-prompt-tool", "stdio")
	defer cancel()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errb strings.Builder
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatalf("start claude: %v", err)
	}
	var mu sync.Mutex
	write := func(v any) {
		b, _ := json.Marshal(v)
		mu.Lock()
		stdin.Write(append(b, '\n'))
		mu.Unlock()
	}
	write(map[string]any{"type": "user", "session_id": "", "parent_tool_use_id": nil,
		"message": map[string]any{"role": "user", "content": o.Prompt}})
	var out strings.Builder
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		out.Write(line)
		out.WriteByte('\n')
		var msg struct {
			Type      string `json:"type"`
			RequestID string `json:"request_id"`
			Request   struct {
				Subtype  string          `json:"subtype"`
				ToolName string          `json:"tool_name"`
				Input    json.RawMessage `json:"input"`
			} `json:"request"`
		}
		if json.Unmarshal(line, &msg) != nil {
			continue
		}
		switch {
		case msg.Type == "control_request" && msg.Request.Subtype == "can_use_tool":
			resp := map[string]any{"behavior": "deny", "message": "denied by the test"}
			if decide != nil && decide(msg.Request.ToolName, msg.Request.Input) {
				resp = map[string]any{"behavior": "allow", "updatedInput": msg.Request.Input}
			}
			write(map[string]any{"type": "control_response", "response": map[string]any{
				"subtype": "success", "request_id": msg.RequestID, "response": resp}})
		case msg.Type == "result":
			if o.BeforeExit != nil {
				o.BeforeExit()
			}
			if left := waitHooksDone(cmd.Process.Pid, 20*time.Second); len(left) > 0 {
				t.Errorf("Claude Code's hook processes %v still run 20 s after the turn's result", left)
			}
			stdin.Close()
		}
	}
	stdin.Close()
	err = cmd.Wait()
	return Result{Stdout: out.String(), Stderr: errb.String(), Err: err}
}
