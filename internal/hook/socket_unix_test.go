//go:build unix

package hook_test

import (
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/mpm-dev/mpm/internal/paths"
	"github.com/mpm-dev/mpm/internal/spool"
	"github.com/mpm-dev/mpm/internal/testutil"
)

// staleSocket leaves a socket file at path that nothing listens on, as a
// daemon killed hard leaves it.
func staleSocket(t *testing.T, path string) {
	t.Helper()
	os.Remove(path)
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()
	if fi, err := os.Lstat(path); err != nil || fi.Mode().Type() != fs.ModeSocket {
		t.Fatalf("no stale socket at %s: %v", path, err)
	}
}

// TestHookDeliversOverSocketWithoutToken: with the daemon's socket in the
// data directory, the hook posts there and needs no token file.
func TestHookDeliversOverSocketWithoutToken(t *testing.T) {
	d := testutil.StartDaemon(t)
	sock := paths.Socket(d.DataDir)
	fi, err := os.Lstat(sock)
	if err != nil {
		t.Fatalf("the daemon made no socket: %v\n%s", err, d.Log.String())
	}
	if fi.Mode().Type() != fs.ModeSocket || fi.Mode().Perm() != 0o600 {
		t.Errorf("%s: mode %v, want a socket with 0600", sock, fi.Mode())
	}
	// No token to read: only the socket can take the event.
	tokPath := paths.Token(d.DataDir)
	tok := d.Token()
	if err := os.Remove(tokPath); err != nil {
		t.Fatal(err)
	}
	r := runHook(t, d.Addr, d.DataDir, payload("s-sock", "PreToolUse", "x"))
	os.WriteFile(tokPath, []byte(tok+"\n"), 0o600)
	wantNeutral(t, r)
	if !strings.Contains(r.stderr, "mpm-hook: accepted") || !strings.Contains(r.stderr, "via=socket") {
		t.Fatalf("debug line %q, want accepted via=socket", r.stderr)
	}
	if got := waitEvents(t, d, "s-sock", 1); len(got) != 1 {
		t.Fatalf("got %d events, want 1", len(got))
	}
	d.Stop()
	if _, err := os.Lstat(sock); !os.IsNotExist(err) {
		t.Errorf("the socket file is still there after a clean shutdown (%v)", err)
	}
}

// TestHookFallsBackToTCP: with the socket file gone or stale (nothing
// listens on it), the hook posts over TCP with the token; with TCP down
// too, it spools.
func TestHookFallsBackToTCP(t *testing.T) {
	d := testutil.StartDaemon(t)
	sock := paths.Socket(d.DataDir)
	for _, tt := range []struct {
		name  string
		setup func(t *testing.T)
	}{
		{"missing", func(t *testing.T) { os.Remove(sock) }},
		{"stale", func(t *testing.T) { staleSocket(t, sock) }},
		{"not-a-socket", func(t *testing.T) {
			os.Remove(sock)
			if err := os.WriteFile(sock, nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.setup(t)
			session := "s-fallback-" + tt.name
			r := runHook(t, d.Addr, d.DataDir, payload(session, "PreToolUse", "x"))
			wantNeutral(t, r)
			if !strings.Contains(r.stderr, "mpm-hook: accepted") || !strings.Contains(r.stderr, "via=tcp") {
				t.Fatalf("debug line %q, want accepted via=tcp", r.stderr)
			}
			if got := waitEvents(t, d, session, 1); len(got) != 1 {
				t.Fatalf("got %d events, want 1", len(got))
			}
		})
	}

	// The daemon's shutdown removes its own socket file only: not the
	// file put in its place above.
	d.Stop()
	if fi, err := os.Lstat(sock); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("the shutdown removed a file that was not the daemon's socket: %v", err)
	}
	// Both down: a stale socket and nothing on the TCP port.
	staleSocket(t, sock)
	r := runHook(t, d.Addr, d.DataDir, payload("s-both-down", "PreToolUse", "x"))
	wantNeutral(t, r)
	if !strings.Contains(r.stderr, "mpm-hook: spooled") || !strings.Contains(r.stderr, "via=tcp") {
		t.Fatalf("debug line %q, want spooled after trying TCP", r.stderr)
	}
	if recs, _, _, err := spool.Stats(paths.Spool(d.DataDir)); recs != 1 || err != nil {
		t.Fatalf("spool holds %d records (%v), want 1", recs, err)
	}
	// A restart replaces the stale socket, drains the spool, and serves
	// the socket again.
	d.Start()
	if got := waitEvents(t, d, "s-both-down", 1); len(got) != 1 {
		t.Fatalf("the spooled event did not arrive: %d events", len(got))
	}
	r = runHook(t, d.Addr, d.DataDir, payload("s-after-restart", "PreToolUse", "x"))
	if !strings.Contains(r.stderr, "mpm-hook: accepted") || !strings.Contains(r.stderr, "via=socket") {
		t.Fatalf("after a restart over a stale socket: %q, want accepted via=socket\n%s", r.stderr, d.Log.String())
	}
}

// TestSocketRefusesAnotherUser: a process of another uid that can open the
// socket (its modes loosened on purpose) is refused with 403 (SO_PEERCRED),
// and its hook falls back to TCP, which wants the token it cannot read.
func TestSocketRefusesAnotherUser(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the peer uid check is Linux's SO_PEERCRED")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root to run a process as another uid")
	}
	d := testutil.StartDaemon(t)
	sock := paths.Socket(d.DataDir)
	// Let uid 65534 reach the socket: traverse the directories, write the
	// socket, run a copy of mpm-hook.
	binDir := t.TempDir()
	hookBin := filepath.Join(binDir, "mpm-hook")
	b, err := os.ReadFile(testutil.Binary(t, "mpm-hook"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(hookBin, b, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{binDir, filepath.Dir(binDir), d.DataDir, filepath.Dir(d.DataDir)} {
		if err := os.Chmod(p, 0o711); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(sock, 0o666); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(hookBin)
	cmd.Env = append(os.Environ(), paths.EnvAddr+"="+d.Addr, paths.EnvDataDir+"="+d.DataDir, "MPM_HOOK_DEBUG=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	cmd.Stdin = strings.NewReader(string(payload("s-foreign", "PreToolUse", "x")))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("mpm-hook as uid 65534: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "status=403") || strings.Contains(string(out), "mpm-hook: accepted") {
		t.Errorf("mpm-hook as uid 65534: %q, want the socket's 403 and no delivery", out)
	}
	if !strings.Contains(d.Log.String(), "refused a connection on the Unix socket from another user") {
		t.Errorf("the daemon did not log the refusal:\n%s", d.Log.String())
	}
	for _, e := range events(t, d) {
		if e.SessionID == "s-foreign" {
			t.Fatalf("an event from another uid was stored: %+v", e)
		}
	}
}
