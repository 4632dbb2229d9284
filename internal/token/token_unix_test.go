//go:build unix

package token

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestReadFIFO: a FIFO in the token's place made every reader (the daemon,
// the hook, mpm-verify) wait for a writer forever; now Read refuses it at
// once.
func TestReadFIFO(t *testing.T) {
	p := filepath.Join(t.TempDir(), "token")
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := Read(p); done <- err }()
	select {
	case err := <-done:
		if !errors.Is(err, ErrNotRegular) {
			t.Errorf("Read(FIFO) = %v, want ErrNotRegular", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("Read hung on a FIFO")
	}
	if ps := Problems(p); len(ps) != 1 || !strings.Contains(ps[0].String(), "not a regular file") {
		t.Errorf("Problems(FIFO) = %q", ps)
	}
}

// TestProblems: what is unsafe about a token file, each with the fix.
func TestProblems(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good")
	os.WriteFile(good, []byte(strings.Repeat("a", 64)+"\n"), 0o600)
	if ps := Problems(good); len(ps) != 0 {
		t.Errorf("a good token file: %q", ps)
	}
	open := filepath.Join(dir, "open")
	os.WriteFile(open, []byte(strings.Repeat("a", 64)), 0o600)
	os.Chmod(open, 0o644)
	short := filepath.Join(dir, "short")
	os.WriteFile(short, []byte("abc"), 0o600)
	link := filepath.Join(dir, "link")
	os.Symlink(good, link)
	for p, want := range map[string]string{open: "chmod 600 " + open, short: "is 3 characters", link: "is a symlink (to " + good} {
		if ps := Problems(p); len(ps) != 1 || !strings.Contains(ps[0].String(), want) {
			t.Errorf("Problems(%s) = %q, want one saying %q", filepath.Base(p), ps, want)
		}
	}
	if ps := Problems(filepath.Join(dir, "missing")); ps != nil {
		t.Errorf("a missing file: %q", ps)
	}
}
