package hookcfg

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mpm-dev/mpm/internal/hook"
	"github.com/mpm-dev/mpm/internal/testutil"
)

func TestInspect(t *testing.T) {
	e := newEnv(t)
	// user: installed normally.
	if code, _, errs := e.run("install"); code != 0 {
		t.Fatal(errs)
	}
	// project: a missing binary, a non-executable one, a duplicate, an http
	// hook without token on SessionStart, a narrow matcher.
	noexec := filepath.Join(filepath.Dir(e.opts.Executable), "other", "mpm-hook")
	os.MkdirAll(filepath.Dir(noexec), 0o755)
	os.WriteFile(noexec, []byte("x"), 0o644)
	e.write(ScopeProject, `{"hooks":{
	  "Stop":[{"hooks":[{"type":"command","command":"/nowhere/mpm-hook","async":true}]}],
	  "PreToolUse":[{"matcher":"Bash","hooks":[{"type":"command","command":"`+noexec+`","async":true},{"type":"command","command":"`+e.opts.Executable+`","async":true}]}],
	  "SessionStart":[{"hooks":[{"type":"http","url":"http://127.0.0.1:8765/v1/events"}]}],
	  "WorktreeCreate":[{"hooks":[{"type":"command","command":"`+e.opts.Executable+`","async":true}]}]
	}}`, 0o644)
	// local: does not parse.
	e.write(ScopeLocal, "{\n\"hooks\": nope\n}", 0o644)

	r, err := Inspect(e.opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Scopes) != 3 || !r.Wired() {
		t.Fatalf("report: %+v", r)
	}
	user, proj, local := r.Scopes[0], r.Scopes[1], r.Scopes[2]
	if user.Err != nil || len(user.Events()) != len(Events) || len(user.Problems) != 0 {
		t.Errorf("user scope: err=%v events=%v problems=%v", user.Err, user.Events(), user.Problems)
	}
	for _, en := range user.Entries {
		spec, _ := LookupEvent(en.Event)
		if !en.BinaryExists || !en.BinaryExecutable || en.Binary != e.opts.Executable || en.Async == spec.Sync {
			t.Errorf("user entry %+v", en)
		}
	}
	if !reflectEqual(proj.Duplicates, []string{"PreToolUse"}) {
		t.Errorf("duplicates %v", proj.Duplicates)
	}
	all := proj.Problems.String()
	for _, want := range []struct {
		kind ProblemKind
		text string
	}{
		{ProblemMissingBinary, "/nowhere/mpm-hook, which does not exist"},
		{ProblemNotExecutable, "not executable"},
		{ProblemMatcher, "matcher \"Bash\""},
		{ProblemHTTPUnsupported, "SessionStart does not accept http"},
		{ProblemNoToken, "sends no token"},
		{ProblemForbiddenEvent, "WorktreeCreate"},
		{ProblemDuplicate, "more than one mpm entry"},
	} {
		found := false
		for _, p := range proj.Problems {
			found = found || (p.Kind == want.kind && strings.Contains(p.Text, want.text))
		}
		if !found {
			t.Errorf("project problems lack a %s problem saying %q:\n%s", want.kind, want.text, all)
		}
	}
	var pe *ParseError
	if !errors.As(local.Err, &pe) || pe.Line != 2 || pe.Path != e.path(ScopeLocal) {
		t.Errorf("local scope error: %#v", local.Err)
	}
	if len(r.Problems) == 0 || !strings.Contains(r.Problems[0].Text, "different mpm targets") || r.Problems[0].Kind != ProblemConflict {
		t.Errorf("cross-scope problems: %v", r.Problems)
	}
}

func reflectEqual(a, b []string) bool { return strings.Join(a, ",") == strings.Join(b, ",") }

// TestStatusAndHTTPHookAgainstDaemon runs status against a real mpm-wsd and
// sends an event the way Claude Code sends an http hook built from our
// entry (URL, headers with $MPM_TOKEN interpolated).
func TestStatusAndHTTPHookAgainstDaemon(t *testing.T) {
	d := testutil.StartDaemon(t)
	e := newEnv(t)
	e.opts.Addr = d.Addr
	e.opts.DataDir = d.DataDir
	code, out, errs := e.run("install", "--mode", "http")
	if code != 0 {
		t.Fatal(errs)
	}
	if !strings.Contains(out, filepath.Join(d.DataDir, "token")) {
		t.Errorf("token instructions do not name the token file:\n%s", out)
	}
	code, out, _ = e.run("status")
	if code != 0 || !strings.Contains(out, "daemon: mpm-wsd") || !strings.Contains(out, "answering on "+d.Addr) {
		t.Fatalf("status with the daemon up: %d\n%s", code, out)
	}
	if !strings.Contains(out, "PreToolUse") || !strings.Contains(out, "http://"+d.Addr+"/v1/events") {
		t.Errorf("status does not list the wiring:\n%s", out)
	}

	// Build the request Claude Code would make from our PreToolUse entry.
	entry := ours(t, readFile(t, e.path(ScopeUser)), e.opts.Executable)["PreToolUse"][0]
	env := map[string]string{TokenEnvVar: d.Token()}
	req, _ := http.NewRequest(http.MethodPost, entry["url"].(string), strings.NewReader(`{"session_id":"s1","hook_event_name":"PreToolUse","tool_name":"Bash"}`))
	req.Header.Set("Content-Type", "application/json")
	allowed := map[string]bool{}
	for _, v := range entry["allowedEnvVars"].([]any) {
		allowed[v.(string)] = true
	}
	for k, v := range entry["headers"].(map[string]any) {
		req.Header.Set(k, os.Expand(v.(string), func(name string) string {
			if allowed[name] {
				return env[name]
			}
			return ""
		}))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Errorf("daemon answered %d to our http hook, want 202", resp.StatusCode)
	}

	d.Kill()
	code, out, _ = e.run("status")
	if code != 0 || !strings.Contains(out, "not answering on "+d.Addr) || !strings.Contains(out, "mpm-manager start") {
		t.Errorf("status with the daemon down: %d\n%s", code, out)
	}
}

func TestCheckDaemonNotMpm(t *testing.T) {
	d := testutil.StartDaemon(t)
	h, err := CheckDaemon(context.Background(), d.Addr, 5*time.Second)
	if err != nil || !h.OK || h.Service != "mpm-wsd" || h.Pid != d.Pid() {
		t.Fatalf("health %+v err %v", h, err)
	}
}

// TestMainProcess runs the real command line in a child process, finding
// the user settings through HOME and CLAUDE_CONFIG_DIR as users do.
func TestMainProcess(t *testing.T) {
	root := t.TempDir()
	home := filepath.Join(root, "home")
	cfg := filepath.Join(root, "claude-config")
	proj := filepath.Join(root, "proj")
	for _, d := range []string{home, proj} {
		os.MkdirAll(d, 0o755)
	}
	run := func(extraEnv []string, args ...string) (string, string, int) {
		cmd := exec.Command(os.Args[0], append([]string{"--"}, args...)...)
		cmd.Dir = proj
		cmd.Env = append(os.Environ(), envRunMain+"=1", "HOME="+home, "USERPROFILE="+home, "MPM_ADDR=127.0.0.1:1", EnvClaudeConfigDir+"=")
		cmd.Env = append(cmd.Env, extraEnv...)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return out.String(), errb.String(), code
	}
	if out, errs, code := run(nil, "install"); code != 0 {
		t.Fatalf("%d %s %s", code, out, errs)
	}
	b := readFile(t, filepath.Join(home, ".claude", "settings.json"))
	self, _ := filepath.EvalSymlinks(os.Args[0])
	self, _ = filepath.Abs(self)
	type settings struct {
		Hooks map[string][]struct {
			Hooks []struct{ Command string } `json:"hooks"`
		} `json:"hooks"`
	}
	// Run directly (as mpm-hookctl), it installs the mpm-hook beside it.
	beside := filepath.Join(filepath.Dir(self), HookBinaryName)
	if runtime.GOOS == "windows" {
		beside += ".exe"
	}
	var v settings
	if err := json.Unmarshal(b, &v); err != nil || v.Hooks["Stop"][0].Hooks[0].Command != "MPM_ADDR=127.0.0.1:1 "+shellQuote(beside) {
		t.Fatalf("command is not the mpm-hook beside the running binary, %s: %v\n%s", beside, err, b)
	}
	// Run by mpm-hook, it installs that mpm-hook (MPM_HOOK_BIN).
	other := filepath.Join(t.TempDir(), "elsewhere", "mpm-hook")
	if out, errs, code := run([]string{hook.EnvHookBin + "=" + other}, "install", "--scope", "project", "--events", "Stop"); code != 0 {
		t.Fatalf("%d %s %s", code, out, errs)
	}
	v = settings{}
	b = readFile(t, filepath.Join(proj, ".claude", "settings.json"))
	if err := json.Unmarshal(b, &v); err != nil || v.Hooks["Stop"][0].Hooks[0].Command != "MPM_ADDR=127.0.0.1:1 "+shellQuote(other) {
		t.Fatalf("command is not MPM_HOOK_BIN %s: %v\n%s", other, err, b)
	}
	// CLAUDE_CONFIG_DIR moves the user scope.
	if out, errs, code := run([]string{EnvClaudeConfigDir + "=" + cfg}, "install", "--events", "Stop"); code != 0 {
		t.Fatalf("%d %s %s", code, out, errs)
	}
	if _, err := os.Stat(filepath.Join(cfg, "settings.json")); err != nil {
		t.Errorf("CLAUDE_CONFIG_DIR not honoured: %v", err)
	}
	// The local scope is relative to the working directory.
	if out, errs, code := run(nil, "install", "--scope", "local", "--events", "Stop"); code != 0 {
		t.Fatalf("%d %s %s", code, out, errs)
	}
	if _, err := os.Stat(filepath.Join(proj, ".claude", "settings.local.json")); err != nil {
		t.Errorf("local scope not in the working directory: %v", err)
	}
	out, _, code := run(nil, "status")
	if code != 0 || !strings.Contains(out, "user: "+filepath.Join(home, ".claude", "settings.json")+" ("+strconv.Itoa(len(Events))+" events wired)") || !strings.Contains(out, "not answering") {
		t.Errorf("status: %d\n%s", code, out)
	}
	if out, _, code := run(nil, "help"); code != 0 || !strings.Contains(out, "mpm-hook install") {
		t.Errorf("help: %d %s", code, out)
	}
	if _, errs, code := run(nil, "frobnicate"); code != 2 || !strings.Contains(errs, "--help)") {
		t.Errorf("unknown command: %d %s", code, errs)
	}
	if _, _, code := run(nil, "install", "--mode", "carrier-pigeon"); code != 2 {
		t.Errorf("bad mode: exit %d", code)
	}
}

func TestInspectPolicyKeys(t *testing.T) {
	e := newEnv(t)
	if code, _, errs := e.run("install", "--mode", "http"); code != 0 {
		t.Fatal(errs)
	}
	e.write(ScopeProject, `{"allowedHttpHookUrls":["https://hooks.example.com/*"],"httpHookAllowedEnvVars":["OTHER"]}`, 0o644)
	r, err := Inspect(e.opts)
	if err != nil {
		t.Fatal(err)
	}
	all := r.Problems.String()
	if !strings.Contains(all, `"allowedHttpHookUrls" does not allow`) || !strings.Contains(all, `"httpHookAllowedEnvVars" does not list MPM_TOKEN`) {
		t.Errorf("policy problems not reported:\n%s", all)
	}
	e.write(ScopeProject, `{"allowedHttpHookUrls":["http://127.0.0.1:*"],"httpHookAllowedEnvVars":["MPM_TOKEN"]}`, 0o644)
	if r, _ := Inspect(e.opts); len(r.Problems) != 0 {
		t.Errorf("problems with a permissive policy: %v", r.Problems)
	}
}

func TestUninstallDryRun(t *testing.T) {
	e := newEnv(t)
	if code, _, errs := e.run("install", "--scope", "local"); code != 0 {
		t.Fatal(errs)
	}
	before := readFile(t, e.path(ScopeLocal))
	code, out, _ := e.run("uninstall", "--scope", "local", "--dry-run")
	if code != 0 || !strings.Contains(out, "-            \"command\": \""+e.opts.Executable) || !strings.Contains(out, "Dry run") {
		t.Errorf("dry-run uninstall: %d\n%s", code, out)
	}
	if !bytes.Equal(readFile(t, e.path(ScopeLocal)), before) {
		t.Error("dry run changed the file")
	}
}
