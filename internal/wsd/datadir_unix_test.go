//go:build unix

package wsd

import (
	"bytes"
	"errors"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/mpm-dev/mpm/internal/paths"
	"github.com/mpm-dev/mpm/internal/testutil"
)

func mode(t *testing.T, p string) fs.FileMode {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

// TestJournalAndDataDirPrivate: the real daemon with its journal, on a data
// directory that already existed world-readable with a world-readable
// journal (before the fix both stayed so, and SQLite made new journal files
// 0644): the directory becomes 0700 and journal.db, -wal, -shm and the token
// 0600.
func TestJournalAndDataDirPrivate(t *testing.T) {
	d := testutil.StartDaemon(t)
	d.Stop()
	for _, p := range []string{d.DataDir, paths.Journal(d.DataDir), paths.Token(d.DataDir)} {
		if err := os.Chmod(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	d.Start()
	// A first event makes SQLite create the -wal and -shm files.
	if code := postWithToken(t, d.Addr, d.Token()); code != 202 {
		t.Fatalf("post: %d", code)
	}
	if m := mode(t, d.DataDir); m != 0o700 {
		t.Errorf("data directory mode %04o, want 0700", m)
	}
	ents, err := os.ReadDir(d.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
		p := filepath.Join(d.DataDir, e.Name())
		if m := mode(t, p); e.Type().IsRegular() && m != 0o600 {
			t.Errorf("%s mode %04o, want 0600", e.Name(), m)
		}
	}
	if !strings.Contains(strings.Join(names, " "), paths.JournalFile+"-wal") {
		t.Errorf("no WAL file to check among %v", names)
	}
}

// TestDataDirOthersCanWrite: a data directory that other users can write
// to, or that lies in a directory of ours that they can write to, is
// refused with a message saying what to do; a sticky world-writable parent
// (/tmp) is fine, and a directory of ours that is too open is tightened.
func TestDataDirOthersCanWrite(t *testing.T) {
	for _, tc := range []struct {
		name    string
		setup   func(t *testing.T, root string) string // returns the data dir
		refused string                                 // "" when accepted
	}{
		{"ours, too open: tightened", func(t *testing.T, root string) string {
			d := filepath.Join(root, "data")
			mkdir(t, d, 0o777)
			return d
		}, ""},
		{"parent of ours writable by others", func(t *testing.T, root string) string {
			p := filepath.Join(root, "shared")
			mkdir(t, p, 0o777)
			return filepath.Join(p, "data")
		}, "which other users can write to"},
		{"parent of ours writable by the group", func(t *testing.T, root string) string {
			p := filepath.Join(root, "group")
			mkdir(t, p, 0o775)
			return filepath.Join(p, "data")
		}, "which other users can write to"},
		{"sticky world-writable parent, like /tmp", func(t *testing.T, root string) string {
			p := filepath.Join(root, "tmp")
			mkdir(t, p, 0o777|fs.ModeSticky)
			return filepath.Join(p, "data")
		}, ""},
		{"someone else's, writable by all", func(t *testing.T, root string) string {
			if os.Geteuid() != 0 {
				t.Skip("needs root to give a directory away")
			}
			d := filepath.Join(root, "theirs")
			mkdir(t, d, 0o777)
			if err := os.Chown(d, 65534, 65534); err != nil {
				t.Fatal(err)
			}
			return d
		}, "can be written by other users"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			dir := tc.setup(t, root)
			cfg := DefaultConfig()
			cfg.Addr, cfg.DataDir, cfg.StraySpools = "127.0.0.1:0", dir, nil
			srv, err := New(cfg, Options{})
			if tc.refused == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				srv.store.Close()
				if m := mode(t, dir); m != 0o700 {
					t.Errorf("data directory mode %04o, want 0700", m)
				}
				return
			}
			if err == nil {
				srv.store.Close()
				t.Fatalf("accepted a data directory %s", tc.name)
			}
			if !strings.Contains(err.Error(), tc.refused) || !strings.Contains(err.Error(), dir) {
				t.Errorf("error %q, want it to name %s and say %q", err, dir, tc.refused)
			}
			if _, err := os.Stat(paths.Token(dir)); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("a token was written into the refused directory")
			}
		})
	}
}

func mkdir(t *testing.T, p string, m fs.FileMode) {
	t.Helper()
	if err := os.Mkdir(p, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, m); err != nil {
		t.Fatal(err)
	}
}

// TestTokenFileWarnings: a token file others can read is tightened and
// reported, a short token and a symlinked token are reported, and a FIFO in
// the token's place is refused at once (before the fix the daemon and the
// hook hung reading it).
func TestTokenFileWarnings(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, dir string)
		warn  string // in the log
		err   string // New's error
	}{
		{"readable by others", func(t *testing.T, dir string) {
			writeToken(t, paths.Token(dir), strings.Repeat("a", 64), 0o644)
		}, "can be read by other users", ""},
		{"short", func(t *testing.T, dir string) {
			writeToken(t, paths.Token(dir), "short", 0o600)
		}, "short enough to guess", ""},
		{"symlink", func(t *testing.T, dir string) {
			real := filepath.Join(t.TempDir(), "real-token")
			writeToken(t, real, strings.Repeat("b", 64), 0o600)
			if err := os.Symlink(real, paths.Token(dir)); err != nil {
				t.Fatal(err)
			}
		}, "is a symlink", ""},
		{"fifo", func(t *testing.T, dir string) {
			if err := syscall.Mkfifo(paths.Token(dir), 0o600); err != nil {
				t.Fatal(err)
			}
		}, "", "not a regular file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			tc.setup(t, dir)
			var logb testutil.SyncBuffer
			cfg := DefaultConfig()
			cfg.Addr, cfg.DataDir, cfg.StraySpools = "127.0.0.1:0", dir, nil
			cfg.Logger = hclog.New(&hclog.LoggerOptions{Output: &logb, Level: hclog.Info})
			var srv *Server
			var err error
			done := make(chan struct{})
			go func() { srv, err = New(cfg, Options{}); close(done) }()
			select {
			case <-done:
			case <-time.After(time.Minute):
				t.Fatal("New hung on the token file")
			}
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("New = %v, want an error saying %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			srv.store.Close()
			if !strings.Contains(logb.String(), tc.warn) {
				t.Errorf("log lacks %q:\n%s", tc.warn, logb.String())
			}
			if tc.name == "readable by others" {
				if m := mode(t, paths.Token(dir)); m != 0o600 {
					t.Errorf("token mode %04o, want 0600", m)
				}
			}
		})
	}
}

func writeToken(t *testing.T, p, tok string, m fs.FileMode) {
	t.Helper()
	if err := os.WriteFile(p, []byte(tok+"\n"), m); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, m); err != nil {
		t.Fatal(err)
	}
}

// postWithToken posts one event to the daemon at addr and returns the status.
func postWithToken(t *testing.T, addr, tok string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/v1/events", bytes.NewReader(payload("s", "Stop", "")))
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
