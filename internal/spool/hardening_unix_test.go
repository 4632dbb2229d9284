//go:build unix

package spool

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
)

// TestStrangersNamedLikeSpoolFiles: a directory or FIFO named seg-*, a
// FIFO named "live", "dropped" or "lock" stopped every drain (a FIFO hung
// it, and with it the daemon's shutdown) and hung the hook and mpm-verify.
// Now they are skipped (a non-regular "live" is moved aside), records are
// appended and drained, and Inspect names the strangers.
func TestStrangersNamedLikeSpoolFiles(t *testing.T) {
	for _, strangers := range [][]string{
		{"seg-00000000000000000001-1/", "seg-00000000000000000002-1|"},
		{"live|"},
		{"live/"},
		{"dropped|", "lock|", "drain.lock|"},
	} {
		t.Run(strings.Join(strangers, ","), func(t *testing.T) {
			dir := t.TempDir()
			if err := Append(dir, rec("before", `{"n":0}`)); err != nil {
				t.Fatal(err)
			}
			drainAll(t, dir) // leaves an empty spool whose files the strangers replace
			for _, s := range strangers {
				p := filepath.Join(dir, strings.TrimRight(s, "/|"))
				os.Remove(p)
				var err error
				if strings.HasSuffix(s, "/") {
					err = os.Mkdir(p, 0o700)
				} else {
					err = syscall.Mkfifo(p, 0o600)
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			var aerr error
			hangGuard(t, "Append", func() {
				for _, k := range []string{"a", "b"} {
					if err := Append(dir, rec(k, `{}`)); err != nil {
						aerr = err
					}
				}
			})
			if aerr != nil {
				t.Fatalf("Append: %v", aerr)
			}
			var info Info
			hangGuard(t, "Inspect", func() { info, _ = Inspect(dir) })
			var got []Record
			var derr error
			hangGuard(t, "Drain", func() {
				_, derr = Drain(dir, func(r Record) error { got = append(got, r); return nil })
			})
			if derr != nil {
				t.Fatalf("Drain: %v", derr)
			}
			ks := keys(got)
			sort.Strings(ks)
			if strings.Join(ks, ",") != "a,b" {
				t.Errorf("drained %v, want a and b", ks)
			}
			if strings.HasPrefix(strangers[0], "seg-") && len(info.Foreign) != 2 {
				t.Errorf("Inspect named %v as foreign, want the two seg- strangers", info.Foreign)
			}
		})
	}
}
