package verify

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mpm-dev/mpm/internal/paths"
	"github.com/mpm-dev/mpm/internal/spool"
	"github.com/mpm-dev/mpm/internal/testutil"
)

func spoolOld(t *testing.T, dir string, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		rec := spool.Record{Key: "old" + string(rune('a'+i)), SentAt: time.Now().Add(-time.Hour), Payload: []byte(`{"session_id":"s","hook_event_name":"Stop"}`)}
		if err := spool.Append(dir, rec); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSpoolStrandedWithAnotherToken: mpm-hook with another data directory's
// token gets 401 and spools into a spool the running daemon never drains.
// Before, mpm-verify called that "draining ... shortly"; now the token
// check says the hook's events are refused, and the spool check fails as
// stranded with the fix.
func TestSpoolStrandedWithAnotherToken(t *testing.T) {
	d := testutil.StartDaemon(t)
	other := t.TempDir()
	if err := os.WriteFile(paths.Token(other), []byte(strings.Repeat("cd", 32)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	spoolOld(t, paths.Spool(other), 2)
	e := newEnv(t, d.Addr, other)
	r := e.run()
	want(t, r, "token", Fail, "mpm-hook sends this token too", "")
	want(t, r, "spool", Fail, "stranded: 2 events", paths.EnvDataDir)
	want(t, r, "spool", Fail, "uses another data directory", "")
}

// TestSpoolStrangersAndOldRecords: a directory named like a segment is
// named, with the command that removes it, beside the records waiting.
func TestSpoolStrangersAndOldRecords(t *testing.T) {
	e := newEnv(t, testutil.FreeAddr(t), "")
	dir := paths.Spool(e.dataDir)
	spoolOld(t, dir, 1)
	if err := os.Mkdir(filepath.Join(dir, "seg-00000000000000000001-1"), 0o700); err != nil {
		t.Fatal(err)
	}
	r := e.run()
	c := want(t, r, "spool", Warn, "seg-00000000000000000001-1 in it are not spool files", "")
	if !strings.Contains(c.Detail, "1 events") {
		t.Errorf("detail %q lacks the waiting record", c.Detail)
	}
}

// TestTokenEnvDiffers: MPM_TOKEN (what http hooks send) differs from the
// token file: a warning with the export line.
func TestTokenEnvDiffers(t *testing.T) {
	d := testutil.StartDaemon(t)
	t.Setenv("MPM_TOKEN", strings.Repeat("e", 64))
	e := newEnv(t, d.Addr, d.DataDir)
	r := e.run()
	want(t, r, "token", Warn, "MPM_TOKEN in this environment differs", "export MPM_TOKEN=")
}

// TestSpoolNotWritable: a spool left by mpm-hook run as root makes every
// later hook of the user lose its events while the daemon is down, and the
// daemon warned every 2 s; mpm-verify now fails the spool check with the
// chown command. Run as a user who does not own the spool: as root, the
// real mpm-verify runs as nobody on a data directory of nobody's holding a
// root-owned spool; otherwise the spool is made read-only.
func TestSpoolNotWritable(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no unix owners")
	}
	if os.Geteuid() != 0 {
		e := newEnv(t, testutil.FreeAddr(t), "")
		dir := paths.Spool(e.dataDir)
		spoolOld(t, dir, 1)
		os.Chmod(dir, 0o500)
		t.Cleanup(func() { os.Chmod(dir, 0o700) })
		r := e.run()
		want(t, r, "spool", Fail, "cannot be used", `sudo chown -R "$(id -un)" '`+dir+"'")
		return
	}
	const nobody = 65534
	root := t.TempDir()
	for _, p := range []string{filepath.Dir(root), root} {
		os.Chmod(p, 0o755)
	}
	bin := filepath.Join(root, "mpm-verify")
	data, err := os.ReadFile(testutil.Binary(t, "mpm-verify"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	dataDir, home := filepath.Join(root, "data"), filepath.Join(root, "home")
	for _, p := range []string{dataDir, home} {
		if err := os.Mkdir(p, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(p, nobody, nobody); err != nil {
			t.Fatal(err)
		}
	}
	spoolOld(t, paths.Spool(dataDir), 1) // made by root, 0700
	cmd := exec.Command(bin, "--addr", testutil.FreeAddr(t), "--data-dir", dataDir, "--project", home, "--json")
	cmd.Env = []string{"HOME=" + home, "PATH=/usr/bin:/bin"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	out, _ := cmd.Output()
	var r Report
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("mpm-verify --json as nobody: %v\n%s", err, out)
	}
	want(t, r, "spool", Fail, "belongs to uid 0", "sudo chown -R")
}
