package hookcfg

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// otherWriter is another program editing settings.json the way editors and
// Claude Code do: read, change one key, write a temporary file and rename
// it over the original. It runs in its own goroutine; each edit is asked
// for at the moment that hurts most (after mpm-hook read and edited the
// file, before it replaces it), through beforeReplace.
type otherWriter struct {
	t    *testing.T
	path string
	// edits is how many times to edit (the first calls of beforeReplace).
	edits int
	done  int
}

func (w *otherWriter) install(t *testing.T) {
	beforeReplace = w.maybeEdit
	t.Cleanup(func() { beforeReplace = nil })
}

func (w *otherWriter) maybeEdit() {
	if w.done >= w.edits {
		return
	}
	w.done++
	n := w.done
	errc := make(chan error, 1)
	go func() { errc <- w.edit(n) }()
	if err := <-errc; err != nil {
		w.t.Error(err)
	}
}

// edit adds "otherN": N at the top level of the file.
func (w *otherWriter) edit(n int) error {
	b, err := os.ReadFile(w.path)
	if err != nil {
		return err
	}
	o, err := parseObject(b)
	if err != nil {
		return err
	}
	o.set(fmt.Sprintf("other%d", n), []byte(fmt.Sprint(n)))
	tmp := w.path + ".other-tmp"
	if err := os.WriteFile(tmp, o.marshal(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, w.path)
}

// TestEditWithConcurrentWriter: another program changes settings.json while
// install or uninstall edits it. Before the fix the other program's change
// was lost (our rename replaced the file with an edit of the old content);
// now the file is read again and the edit redone on the new content, and
// when the other program never stops, nothing is written and we say so.
func TestEditWithConcurrentWriter(t *testing.T) {
	for _, tc := range []struct {
		name    string
		args    []string
		start   string
		edits   int
		wantErr string
	}{
		{name: "install, one change", args: []string{"install"}, start: `{"model":"opus"}`, edits: 1},
		{name: "install, changes 4 times", args: []string{"install"}, start: `{"model":"opus"}`, edits: editAttempts - 1},
		{name: "install, never stops changing", args: []string{"install"}, start: `{"model":"opus"}`, edits: editAttempts, wantErr: "kept changing"},
		{name: "uninstall, one change", args: []string{"uninstall"}, start: "", edits: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			path := e.path(ScopeUser)
			if tc.start != "" {
				e.write(ScopeUser, tc.start, 0o644)
			} else {
				if code, _, errs := e.run("install"); code != 0 {
					t.Fatal(errs)
				}
			}
			w := &otherWriter{t: t, path: path, edits: tc.edits}
			w.install(t)
			code, out, errs := e.run(tc.args...)
			after := readFile(t, path)
			v := decode(t, after)
			for i := 1; i <= w.done; i++ {
				if _, ok := v[fmt.Sprintf("other%d", i)]; !ok {
					t.Errorf("the other program's change other%d was lost:\n%s", i, after)
				}
			}
			if w.done != tc.edits {
				t.Errorf("the other program edited %d times, want %d", w.done, tc.edits)
			}
			if tc.wantErr != "" {
				if code != 1 || !strings.Contains(errs, tc.wantErr) {
					t.Fatalf("exit %d, stderr %q; want 1 and %q", code, errs, tc.wantErr)
				}
				if len(ours(t, after, e.opts.Executable)) != 0 {
					t.Errorf("a failed install wrote our entries:\n%s", after)
				}
				if b := backups(t, filepath.Dir(path)); len(b) != 0 {
					t.Errorf("a failed install left backups %v", b)
				}
				return
			}
			if code != 0 {
				t.Fatalf("exit %d: %s %s", code, out, errs)
			}
			want := len(Events)
			if tc.args[0] == "uninstall" {
				want = 0
			}
			if got := len(ours(t, after, e.opts.Executable)); got != want {
				t.Errorf("%d events of ours after %s, want %d:\n%s", got, tc.args[0], want, after)
			}
			if tl := leftoverTemps(t, filepath.Dir(path)); len(tl) != 0 {
				t.Errorf("temporary files left: %v", tl)
			}
		})
	}
}

// TestBackupsPruned: install and uninstall keep at most keepBackups of their
// backups per file (the oldest go), and leave other .bak files alone.
// Before the fix every run added one, forever.
func TestBackupsPruned(t *testing.T) {
	e := newEnv(t)
	path := e.write(ScopeUser, `{"model":"opus"}`, 0o644)
	dir := filepath.Dir(path)
	mine := []string{"settings.json.bak-mine", "settings.json.bak-20200101T000000Z.old", "other.json.bak-20200101T000000Z"}
	for _, n := range mine {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("keep"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	const runs = 12
	for i := 0; i < runs; i++ {
		verb := "install"
		if i%2 == 1 {
			verb = "uninstall"
		}
		if code, out, errs := e.run(verb); code != 0 {
			t.Fatalf("%s: %d %s %s", verb, code, out, errs)
		}
	}
	var got []string
	for _, b := range backups(t, dir) {
		if strings.HasPrefix(b, "settings.json.bak-2026") {
			got = append(got, b)
		}
	}
	// The fixed clock names them .bak-<stamp>, -2, ... -12: the newest
	// five are -8 to -12.
	want := []string{"-10", "-11", "-12", "-8", "-9"}
	if len(got) != keepBackups {
		t.Fatalf("%d backups kept, want %d: %v", len(got), keepBackups, got)
	}
	for i, g := range got {
		if !strings.HasSuffix(g, fixedBackupSuffix+want[i]) {
			t.Errorf("kept %v, want the newest five (suffixes %v)", got, want)
			break
		}
	}
	for _, n := range mine {
		if _, err := os.Stat(filepath.Join(dir, n)); err != nil {
			t.Errorf("%s, not one of our backups, was touched: %v", n, err)
		}
	}
}
