package hookcfg

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// fixedNow is the clock of every test install: backups are named for it.
var fixedNow = time.Date(2026, 11, 25, 21, 0, 0, 0, time.UTC)

const fixedBackupSuffix = ".bak-20261125T210000Z"

// testEnv is a temp home, project and mpm-hook binary.
type testEnv struct {
	t    *testing.T
	opts Options
}

func newEnv(t *testing.T) *testEnv {
	t.Helper()
	root := t.TempDir()
	home := filepath.Join(root, "home")
	proj := filepath.Join(root, "proj")
	bin := filepath.Join(root, "bin", "mpm-hook")
	for _, d := range []string{home, proj, filepath.Dir(bin)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(bin, []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return &testEnv{t: t, opts: Options{
		HomeDir:    home,
		ConfigDir:  filepath.Join(home, ".claude"),
		ProjectDir: proj,
		Executable: bin,
		Addr:       "127.0.0.1:8765",
		DataDir:    filepath.Join(root, "data"),
		Now:        func() time.Time { return fixedNow },
	}}
}

// run runs the command line and returns exit code, stdout, stderr.
func (e *testEnv) run(args ...string) (int, string, string) {
	e.t.Helper()
	var out, errb bytes.Buffer
	code := Run(args, &out, &errb, e.opts)
	return code, out.String(), errb.String()
}

func (e *testEnv) path(s Scope) string { return e.opts.SettingsPath(s) }

func (e *testEnv) write(s Scope, content string, mode os.FileMode) string {
	e.t.Helper()
	p := e.path(s)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		e.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		e.t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		e.t.Fatal(err)
	}
	return p
}

func readFile(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func decode(t testing.TB, b []byte) map[string]any {
	t.Helper()
	var v map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("output is not a JSON object: %v\n%s", err, b)
	}
	return v
}

// ours returns, per event, our entries in a settings document.
func ours(t testing.TB, b []byte, self string) map[string][]map[string]any {
	t.Helper()
	out := map[string][]map[string]any{}
	var v map[string]any
	dec := json.NewDecoder(bytes.NewReader(bytes.TrimPrefix(b, utf8BOM)))
	dec.UseNumber()
	if dec.Decode(&v) != nil {
		return out // not an object: nothing of ours in it
	}
	hooks, _ := v["hooks"].(map[string]any)
	for ev, arr := range hooks {
		groups, _ := arr.([]any)
		for _, g := range groups {
			gm, _ := g.(map[string]any)
			hs, _ := gm["hooks"].([]any)
			for _, h := range hs {
				raw, _ := json.Marshal(h)
				if isOurs(raw, self) {
					out[ev] = append(out[ev], h.(map[string]any))
				}
			}
		}
	}
	return out
}

// topKeys returns the top-level keys of a JSON object in file order.
func topKeys(t *testing.T, b []byte) []string {
	t.Helper()
	o, err := parseObject(b)
	if err != nil {
		t.Fatal(err)
	}
	var k []string
	for _, m := range o.members {
		k = append(k, m.key)
	}
	return k
}

func backups(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if strings.Contains(e.Name(), ".bak-") {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out
}

func leftoverTemps(t *testing.T, dir string) []string {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	var out []string
	for _, e := range ents {
		if strings.Contains(e.Name(), ".tmp-") {
			out = append(out, e.Name())
		}
	}
	return out
}
