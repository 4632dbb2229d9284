package hookcfg

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const othersHooks = `{
  "hooks": {
    "PreToolUse": [
      {
        "matcher": "Bash",
        "hooks": [
          {"type": "command", "command": "/usr/local/bin/guard.sh", "if": "Bash(git push*)", "args": ["--strict"], "async": false, "timeout": 30}
        ]
      }
    ],
    "Stop": [
      {"hooks": [{"type": "command", "command": "notify-send done"}]}
    ]
  }
}`

const unknownKeys = `{
  "zeta": 1,
  "model": "opus",
  "futureFeature": {"nested": {"deep": [1, 2.50, "x<y"]}, "flag": true},
  "hooks": {
    "PreToolUse": [
      {"matcher": "*", "hooks": [{"type": "command", "command": "echo", "newField": {"a": 1}}], "groupExtra": "kept"}
    ],
    "SomeFutureEvent": [{"hooks": [{"type": "prompt", "prompt": "hi"}]}]
  },
  "alpha": null
}`

// TestInstallFiles runs `install` on real files in temp directories.
func TestInstallFiles(t *testing.T) {
	type check func(t *testing.T, e *testEnv, path string, before []byte, stdout, stderr string)
	cases := []struct {
		name     string
		content  *string // nil: no file
		mode     os.FileMode
		args     []string
		wantCode int
		check    check
	}{
		{
			name: "missing file is created", content: nil, wantCode: 0,
			check: func(t *testing.T, e *testEnv, path string, _ []byte, _, _ string) {
				got := ours(t, readFile(t, path), e.opts.Executable)
				if len(got) != len(Events) {
					t.Fatalf("wired %d events, want %d: %v", len(got), len(Events), got)
				}
				if b := backups(t, filepath.Dir(path)); len(b) != 0 {
					t.Errorf("backup of a file that did not exist: %v", b)
				}
				fi, _ := os.Stat(path)
				if fi.Mode().Perm() != newFileMode {
					t.Errorf("new file mode %v", fi.Mode().Perm())
				}
			},
		},
		{
			name: "empty file", content: ptr(""), mode: 0o644, wantCode: 0,
			check: func(t *testing.T, e *testEnv, path string, _ []byte, _, _ string) {
				if len(ours(t, readFile(t, path), e.opts.Executable)) != len(Events) {
					t.Fatal("not all events wired")
				}
				if b := backups(t, filepath.Dir(path)); len(b) != 1 || b[0] != "settings.json"+fixedBackupSuffix {
					t.Errorf("backups = %v", b)
				}
			},
		},
		{
			name: "empty object", content: ptr("{}"), mode: 0o644, wantCode: 0,
			check: func(t *testing.T, e *testEnv, path string, _ []byte, _, _ string) {
				v := decode(t, readFile(t, path))
				if len(v) != 1 {
					t.Errorf("top-level keys: %v, want only hooks", v)
				}
				h := v["hooks"].(map[string]any)
				pre := h["PreToolUse"].([]any)[0].(map[string]any)
				if pre["matcher"] != "*" {
					t.Errorf("PreToolUse matcher = %v, want *", pre["matcher"])
				}
				stop := h["Stop"].([]any)[0].(map[string]any)
				if _, has := stop["matcher"]; has {
					t.Errorf("Stop group has a matcher: %v", stop)
				}
				entry := stop["hooks"].([]any)[0].(map[string]any)
				want := map[string]any{"type": "command", "command": e.opts.Executable, "async": true, "timeout": json.Number("5")}
				if !reflect.DeepEqual(entry, want) {
					t.Errorf("Stop entry = %v, want %v", entry, want)
				}
				end := h["SessionEnd"].([]any)[0].(map[string]any)["hooks"].([]any)[0].(map[string]any)
				if end["timeout"] != json.Number("1") {
					t.Errorf("SessionEnd timeout = %v, want 1 (its 1.5 s budget)", end["timeout"])
				}
				for _, f := range []string{"WorktreeCreate", "MessageDisplay"} {
					if _, has := h[f]; has {
						t.Errorf("registered on %s", f)
					}
				}
			},
		},
		{
			name: "others' hooks are kept exactly", content: ptr(othersHooks), mode: 0o600, wantCode: 0,
			check: func(t *testing.T, e *testEnv, path string, before []byte, _, _ string) {
				after := readFile(t, path)
				bv, av := decode(t, before)["hooks"].(map[string]any), decode(t, after)["hooks"].(map[string]any)
				for _, ev := range []string{"PreToolUse", "Stop"} {
					first := av[ev].([]any)[0]
					if !reflect.DeepEqual(first, bv[ev].([]any)[0]) {
						t.Errorf("%s: others' group changed:\n got %v\nwant %v", ev, first, bv[ev].([]any)[0])
					}
					if n := len(av[ev].([]any)); n != 2 {
						t.Errorf("%s has %d groups, want theirs + ours", ev, n)
					}
				}
				fi, _ := os.Stat(path)
				if fi.Mode().Perm() != 0o600 {
					t.Errorf("mode changed to %v, want 0600", fi.Mode().Perm())
				}
				if b := readFile(t, path+fixedBackupSuffix); !bytes.Equal(b, before) {
					t.Errorf("backup differs from the old file")
				}
			},
		},
		{
			name: "unknown top-level and nested keys, order kept", content: ptr(unknownKeys), mode: 0o644, wantCode: 0,
			check: func(t *testing.T, e *testEnv, path string, before []byte, _, _ string) {
				after := readFile(t, path)
				if got, want := topKeys(t, after), []string{"zeta", "model", "futureFeature", "hooks", "alpha"}; !reflect.DeepEqual(got, want) {
					t.Errorf("top-level order %v, want %v", got, want)
				}
				bv, av := decode(t, before), decode(t, after)
				for _, k := range []string{"zeta", "model", "futureFeature", "alpha"} {
					if !reflect.DeepEqual(bv[k], av[k]) {
						t.Errorf("%s changed: %v -> %v", k, bv[k], av[k])
					}
				}
				if !bytes.Contains(after, []byte(`2.50`)) || !bytes.Contains(after, []byte(`"x<y"`)) {
					t.Errorf("number or string spelling changed:\n%s", after)
				}
				bh, ah := bv["hooks"].(map[string]any), av["hooks"].(map[string]any)
				if !reflect.DeepEqual(bh["SomeFutureEvent"], ah["SomeFutureEvent"]) {
					t.Errorf("unknown event changed")
				}
				// Their group with matcher "*" and unknown fields stays as it was.
				if !reflect.DeepEqual(bh["PreToolUse"].([]any)[0], ah["PreToolUse"].([]any)[0]) {
					t.Errorf("their PreToolUse group changed: %v", ah["PreToolUse"])
				}
			},
		},
		{
			name: "invalid JSON is refused and untouched", content: ptr("{\n  \"model\": \"opus\",\n  \"hooks\": {,\n}\n"), mode: 0o644, wantCode: 1,
			check: func(t *testing.T, e *testEnv, path string, before []byte, _, stderr string) {
				if !bytes.Equal(readFile(t, path), before) {
					t.Error("file changed")
				}
				if !strings.Contains(stderr, path+":3:13") || !strings.Contains(stderr, "untouched") {
					t.Errorf("error does not point at line 3 column 13 or say the file is untouched: %q", stderr)
				}
				if b := backups(t, filepath.Dir(path)); len(b) != 0 {
					t.Errorf("backups: %v", b)
				}
			},
		},
		{
			name: "top level not an object", content: ptr(`["a"]`), mode: 0o644, wantCode: 1,
			check: func(t *testing.T, e *testEnv, path string, before []byte, _, stderr string) {
				if !bytes.Equal(readFile(t, path), before) || !strings.Contains(stderr, "not a JSON object") {
					t.Errorf("file changed or unclear error %q", stderr)
				}
			},
		},
		{
			name: "hooks not an object", content: ptr(`{"hooks": ["x"]}`), mode: 0o644, wantCode: 1,
			check: func(t *testing.T, e *testEnv, path string, before []byte, _, stderr string) {
				if !bytes.Equal(readFile(t, path), before) || !strings.Contains(stderr, `"hooks" is an array`) {
					t.Errorf("file changed or unclear error %q", stderr)
				}
			},
		},
		{
			name: "read-only file is refused", content: ptr(`{"model":"opus"}`), mode: 0o444, wantCode: 1,
			check: func(t *testing.T, e *testEnv, path string, before []byte, _, stderr string) {
				if !bytes.Equal(readFile(t, path), before) {
					t.Error("file changed")
				}
				if !strings.Contains(stderr, "read-only") || !strings.Contains(stderr, "chmod u+w") {
					t.Errorf("unclear error %q", stderr)
				}
				if b := backups(t, filepath.Dir(path)); len(b) != 0 {
					t.Errorf("backups: %v", b)
				}
				if l := leftoverTemps(t, filepath.Dir(path)); len(l) != 0 {
					t.Errorf("temp files left: %v", l)
				}
			},
		},
		{
			name: "dry run prints a diff and writes nothing", content: ptr(othersHooks), mode: 0o644, args: []string{"--dry-run"}, wantCode: 0,
			check: func(t *testing.T, e *testEnv, path string, before []byte, stdout, _ string) {
				if !bytes.Equal(readFile(t, path), before) {
					t.Error("file changed")
				}
				if !strings.Contains(stdout, "+++ "+path) || !strings.Contains(stdout, `+            "command": "`+e.opts.Executable+`"`) {
					t.Errorf("no diff in output:\n%s", stdout)
				}
				if b := backups(t, filepath.Dir(path)); len(b) != 0 {
					t.Errorf("backups: %v", b)
				}
			},
		},
		{
			name: "events subset", content: ptr("{}"), mode: 0o644, args: []string{"--events", "PreToolUse, Stop"}, wantCode: 0,
			check: func(t *testing.T, e *testEnv, path string, _ []byte, _, _ string) {
				got := ours(t, readFile(t, path), e.opts.Executable)
				if len(got) != 2 || got["PreToolUse"] == nil || got["Stop"] == nil {
					t.Errorf("wired %v", got)
				}
			},
		},
		{
			name: "forbidden event refused", content: ptr("{}"), mode: 0o644, args: []string{"--events", "PreToolUse,WorktreeCreate"}, wantCode: 2,
			check: func(t *testing.T, e *testEnv, path string, before []byte, _, stderr string) {
				if !bytes.Equal(readFile(t, path), before) || !strings.Contains(stderr, "WorktreeCreate") {
					t.Errorf("file changed or unclear error %q", stderr)
				}
			},
		},
		{
			name: "unknown event refused", content: ptr("{}"), mode: 0o644, args: []string{"--events", "PreToolUze"}, wantCode: 2,
			check: func(t *testing.T, e *testEnv, path string, _ []byte, _, stderr string) {
				if !strings.Contains(stderr, "unknown hook event") {
					t.Errorf("unclear error %q", stderr)
				}
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			path := e.path(ScopeUser)
			var before []byte
			if tc.content != nil {
				e.write(ScopeUser, *tc.content, tc.mode)
				before = []byte(*tc.content)
			}
			code, stdout, stderr := e.run(append([]string{"install"}, tc.args...)...)
			if code != tc.wantCode {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.wantCode, stdout, stderr)
			}
			tc.check(t, e, path, before, stdout, stderr)
			if l := leftoverTemps(t, filepath.Dir(path)); len(l) != 0 {
				t.Errorf("temp files left: %v", l)
			}
		})
	}
}

func ptr(s string) *string { return &s }

func TestInstallIdempotent(t *testing.T) {
	e := newEnv(t)
	path := e.write(ScopeUser, othersHooks, 0o644)
	if code, out, errs := e.run("install"); code != 0 {
		t.Fatalf("first install: %d %s %s", code, out, errs)
	}
	first := readFile(t, path)
	code, out, _ := e.run("install")
	if code != 0 || !strings.Contains(out, "Nothing to change") {
		t.Fatalf("second install: %d %q", code, out)
	}
	if !bytes.Equal(readFile(t, path), first) {
		t.Error("second install changed the file")
	}
	if b := backups(t, filepath.Dir(path)); len(b) != 1 {
		t.Errorf("backups after two installs: %v, want one", b)
	}
	// --dry-run on a wired file says so too.
	if _, out, _ := e.run("install", "--dry-run"); !strings.Contains(out, "Nothing to change") {
		t.Errorf("dry run on a wired file: %q", out)
	}
}

func TestInstallModeSwitch(t *testing.T) {
	e := newEnv(t)
	path := e.write(ScopeLocal, othersHooks, 0o644)
	if code, _, errs := e.run("install", "--scope", "local"); code != 0 {
		t.Fatal(errs)
	}
	code, out, errs := e.run("install", "--scope", "local", "--mode", "http", "--addr", "127.0.0.1:9999")
	if code != 0 {
		t.Fatalf("%d %s %s", code, out, errs)
	}
	if !strings.Contains(out, "export MPM_TOKEN=") {
		t.Errorf("no token instructions:\n%s", out)
	}
	got := ours(t, readFile(t, path), e.opts.Executable)
	if len(got) != len(Events) {
		t.Fatalf("wired %d events", len(got))
	}
	for ev, es := range got {
		if len(es) != 1 {
			t.Errorf("%s has %d entries of ours after the switch, want 1", ev, len(es))
			continue
		}
		spec, _ := LookupEvent(ev)
		if spec.HTTP {
			want := map[string]any{
				"type": "http", "url": "http://127.0.0.1:9999/v1/events",
				"headers":        map[string]any{"Authorization": "Bearer $MPM_TOKEN"},
				"allowedEnvVars": []any{"MPM_TOKEN"}, "timeout": json.Number("5"),
			}
			if ev == "SessionEnd" {
				want["timeout"] = json.Number("1")
			}
			if !reflect.DeepEqual(es[0], want) {
				t.Errorf("%s = %v, want %v", ev, es[0], want)
			}
		} else if es[0]["type"] != "command" {
			t.Errorf("%s accepts no http hooks but got %v", ev, es[0])
		}
	}
	// And back: command mode replaces the http entries.
	if code, _, errs := e.run("install", "--scope", "local"); code != 0 {
		t.Fatal(errs)
	}
	for ev, es := range ours(t, readFile(t, path), e.opts.Executable) {
		if len(es) != 1 || es[0]["type"] != "command" {
			t.Errorf("%s after switching back: %v", ev, es)
		}
	}
}

func TestInstallSymlinkedFile(t *testing.T) {
	e := newEnv(t)
	dotfiles := filepath.Join(filepath.Dir(e.opts.HomeDir), "dotfiles")
	if err := os.MkdirAll(dotfiles, 0o755); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(dotfiles, "claude-settings.json")
	if err := os.WriteFile(target, []byte(othersHooks), 0o640); err != nil {
		t.Fatal(err)
	}
	link := e.path(ScopeUser)
	os.MkdirAll(filepath.Dir(link), 0o755)
	if err := os.Symlink(target, link); err != nil {
		t.Skipf("cannot make symlinks here: %v", err)
	}
	code, out, errs := e.run("install")
	if code != 0 {
		t.Fatalf("%d %s %s", code, out, errs)
	}
	li, err := os.Lstat(link)
	if err != nil || li.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("settings.json is no longer a symlink: %v %v", li.Mode(), err)
	}
	if got := ours(t, readFile(t, target), e.opts.Executable); len(got) != len(Events) {
		t.Errorf("target not updated: %v", got)
	}
	fi, _ := os.Stat(target)
	if fi.Mode().Perm() != 0o640 {
		t.Errorf("target mode %v, want 0640", fi.Mode().Perm())
	}
	if !bytes.Equal(readFile(t, target+fixedBackupSuffix), []byte(othersHooks)) {
		t.Error("no backup next to the target")
	}
	if !strings.Contains(out, "symlink") {
		t.Errorf("output does not mention the symlink: %s", out)
	}
}

func TestInstallBackupNameTaken(t *testing.T) {
	e := newEnv(t)
	path := e.write(ScopeUser, `{"a":1}`, 0o644)
	taken := path + fixedBackupSuffix
	if err := os.WriteFile(taken, []byte("older backup"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := e.run("install"); code != 0 {
		t.Fatal(errs)
	}
	if string(readFile(t, taken)) != "older backup" {
		t.Error("an existing backup was overwritten")
	}
	if string(readFile(t, taken+"-2")) != `{"a":1}` {
		t.Error("new backup not written as -2")
	}
}

func TestInstallFoldsDuplicatesAndNarrowMatchers(t *testing.T) {
	e := newEnv(t)
	self := e.opts.Executable
	src := `{"hooks":{"PreToolUse":[
	  {"matcher":"Bash","hooks":[{"type":"command","command":"lint"},{"type":"command","command":"/old/place/mpm-hook","async":true}]},
	  {"matcher":"*","hooks":[{"type":"command","command":"` + self + `","async":true,"timeout":5}]},
	  {"hooks":[{"type":"http","url":"http://127.0.0.1:8765/v1/events"}]}
	]}}`
	path := e.write(ScopeProject, src, 0o644)
	if code, _, errs := e.run("install", "--scope", "project", "--events", "PreToolUse"); code != 0 {
		t.Fatal(errs)
	}
	after := readFile(t, path)
	got := ours(t, after, self)["PreToolUse"]
	if len(got) != 1 {
		t.Fatalf("PreToolUse has %d of ours, want 1:\n%s", len(got), after)
	}
	groups := decode(t, after)["hooks"].(map[string]any)["PreToolUse"].([]any)
	if len(groups) != 2 {
		t.Fatalf("groups: %v", groups)
	}
	lint := groups[0].(map[string]any)
	if lint["matcher"] != "Bash" || len(lint["hooks"].([]any)) != 1 {
		t.Errorf("their group lost or kept the wrong entries: %v", lint)
	}
}

func TestUninstall(t *testing.T) {
	for _, src := range []string{othersHooks, unknownKeys, "{}", `{"model":"x","hooks":{}}`} {
		e := newEnv(t)
		path := e.write(ScopeUser, src, 0o644)
		if code, _, errs := e.run("install"); code != 0 {
			t.Fatal(errs)
		}
		code, out, errs := e.run("uninstall")
		if code != 0 {
			t.Fatalf("%d %s %s", code, out, errs)
		}
		after := readFile(t, path)
		if !sameMeaning(t, []byte(src), after) {
			t.Errorf("uninstall did not restore the meaning:\nbefore: %s\nafter: %s", src, after)
		}
		if code, out, _ := e.run("uninstall"); code != 0 || !strings.Contains(out, "Nothing to change") {
			t.Errorf("second uninstall: %d %q", code, out)
		}
	}
}

func TestUninstallKeepsOthersInSharedGroup(t *testing.T) {
	e := newEnv(t)
	src := `{"hooks":{"Stop":[{"hooks":[
	  {"type":"command","command":"notify"},
	  {"type":"command","command":"'/opt/my tools/mpm-hook'","async":true},
	  {"type":"http","url":"http://[::1]:8765/v1/events"},
	  {"type":"http","url":"https://example.com/v1/events"},
	  {"type":"command","command":"mpm-hook-helper"}
	]}],"Notification":[{"hooks":[{"type":"command","command":"MPM_ADDR=127.0.0.1:1 ~/bin/mpm-hook"}]}]}}`
	path := e.write(ScopeUser, src, 0o644)
	if code, _, errs := e.run("uninstall", "--scope", "all"); code != 0 {
		t.Fatal(errs)
	}
	want := `{"hooks":{"Stop":[{"hooks":[
	  {"type":"command","command":"notify"},
	  {"type":"http","url":"https://example.com/v1/events"},
	  {"type":"command","command":"mpm-hook-helper"}]}]}}`
	if after := readFile(t, path); !sameMeaning(t, []byte(want), after) {
		t.Errorf("after uninstall:\n%s\nwant the meaning of:\n%s", after, want)
	}
}

func TestUninstallRefusesInvalid(t *testing.T) {
	e := newEnv(t)
	path := e.write(ScopeUser, `{"hooks": {"Stop": [}`, 0o644)
	code, _, errs := e.run("uninstall")
	if code != 1 || !strings.Contains(errs, path+":1:") {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
	if string(readFile(t, path)) != `{"hooks": {"Stop": [}` {
		t.Error("file changed")
	}
}

// sameMeaning compares two settings documents by decoded value, treating
// empty event arrays and an empty hooks object as absent.
func sameMeaning(t testing.TB, a, b []byte) bool {
	t.Helper()
	return reflect.DeepEqual(normalise(decodeLoose(t, a)), normalise(decodeLoose(t, b)))
}

func decodeLoose(t testing.TB, b []byte) any {
	t.Helper()
	if len(bytes.TrimSpace(bytes.TrimPrefix(b, utf8BOM))) == 0 {
		return map[string]any{}
	}
	v, err := decodeAny(bytes.TrimPrefix(b, utf8BOM))
	if err != nil {
		t.Fatalf("not JSON: %v\n%s", err, b)
	}
	return v
}

func normalise(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	h, ok := m["hooks"].(map[string]any)
	if !ok {
		return v
	}
	for k, ev := range h {
		if arr, ok := ev.([]any); ok && len(arr) == 0 {
			delete(h, k)
		}
	}
	if len(h) == 0 {
		delete(m, "hooks")
	}
	return m
}

// TestInstallRemovesOursOutsidePlan: an mpm entry on an event outside the
// install plan (WorktreeCreate, which mpm must never use; an event Claude
// Code does not have; a known event left out of --events) is removed by
// install, other tools' hooks there stay, and status flags such an entry
// instead of calling it ok. Before the fix install exited 0 leaving
// WorktreeCreate wired and status printed "WorktreeCreate ... [ok]".
func TestInstallRemovesOursOutsidePlan(t *testing.T) {
	e := newEnv(t)
	self := e.opts.Executable
	src := `{"hooks":{
	  "WorktreeCreate":[{"hooks":[{"type":"command","command":"make-tree"},{"type":"command","command":"` + self + `","async":true}]}],
	  "NoSuchEvent":[{"hooks":[{"type":"http","url":"http://127.0.0.1:8765/v1/events"}]}],
	  "Stop":[{"hooks":[{"type":"command","command":"` + self + `","async":true,"timeout":5}]}]
	}}`
	path := e.write(ScopeUser, src, 0o644)

	r, err := Inspect(e.opts)
	if err != nil {
		t.Fatal(err)
	}
	var rep bytes.Buffer
	WriteReport(&rep, r)
	for _, want := range []string{"WorktreeCreate", "[FORBIDDEN EVENT]", "[UNKNOWN EVENT]", "NoSuchEvent"} {
		if !strings.Contains(rep.String(), want) {
			t.Errorf("status report lacks %q:\n%s", want, rep.String())
		}
	}
	for _, line := range strings.Split(rep.String(), "\n") {
		if (strings.Contains(line, "WorktreeCreate ") || strings.Contains(line, "NoSuchEvent ")) && strings.Contains(line, "[ok]") {
			t.Errorf("status calls an entry outside the plan ok: %s", line)
		}
	}
	kinds := map[ProblemKind]bool{}
	for _, p := range r.Scopes[0].Problems {
		kinds[p.Kind] = true
	}
	if !kinds[ProblemForbiddenEvent] || !kinds[ProblemUnknownEvent] {
		t.Errorf("problems %v lack forbidden-event and unknown-event", r.Scopes[0].Problems)
	}

	code, out, errs := e.run("install", "--events", "PreToolUse")
	if code != 0 {
		t.Fatalf("install: %d %s %s", code, out, errs)
	}
	after := readFile(t, path)
	got := ours(t, after, self)
	if len(got) != 1 || len(got["PreToolUse"]) != 1 {
		t.Fatalf("after install --events PreToolUse, ours are on %v, want PreToolUse only:\n%s", got, after)
	}
	if !strings.Contains(out, "removed:") || !strings.Contains(out, "WorktreeCreate") {
		t.Errorf("install did not say it removed WorktreeCreate:\n%s", out)
	}
	wc := decode(t, after)["hooks"].(map[string]any)["WorktreeCreate"].([]any)
	if len(wc) != 1 || len(wc[0].(map[string]any)["hooks"].([]any)) != 1 {
		t.Errorf("the other tool's WorktreeCreate hook was not kept alone: %v", wc)
	}
	r, _ = Inspect(e.opts)
	if ps := r.AllProblems(); len(ps) != 0 {
		t.Errorf("problems after install: %v", ps)
	}
}

// TestInstallUpgradesOlderInstall: an install from before session state
// (no StopFailure/PostCompact, SessionEnd async) is upgraded in place by
// installing again: the missing events added, SessionEnd made sync, one
// entry per event.
func TestInstallUpgradesOlderInstall(t *testing.T) {
	e := newEnv(t)
	hooks := map[string]any{}
	for _, ev := range Events {
		if ev.Name == "StopFailure" || ev.Name == "PostCompact" {
			continue
		}
		g := map[string]any{"hooks": []any{map[string]any{"type": "command", "command": e.opts.Executable, "async": true, "timeout": ev.Timeout}}}
		if ev.ToolMatcher {
			g["matcher"] = "*"
		}
		hooks[ev.Name] = []any{g}
	}
	old, _ := json.Marshal(map[string]any{"hooks": hooks})
	path := e.write(ScopeUser, string(old), 0o644)
	if code, out, errs := e.run("install"); code != 0 {
		t.Fatalf("install: %d %s %s", code, out, errs)
	}
	got := ours(t, readFile(t, path), e.opts.Executable)
	if len(got) != len(Events) {
		t.Fatalf("wired %d events, want %d", len(got), len(Events))
	}
	for _, ev := range Events {
		if len(got[ev.Name]) != 1 {
			t.Errorf("%s: %d entries, want 1", ev.Name, len(got[ev.Name]))
			continue
		}
		if async, _ := got[ev.Name][0]["async"].(bool); async == ev.Sync {
			t.Errorf("%s: async %v", ev.Name, async)
		}
	}
}
