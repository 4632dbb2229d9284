package svc

import (
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mpm-dev/mpm/internal/managerstate"
)

// TestSystemctlHints: systemctl's own message is kept and the hint fits
// it (a --user failure never says "use --user").
func TestSystemctlHints(t *testing.T) {
	for _, tc := range []struct {
		user bool
		msg  string
		want string
		not  string
	}{
		{true, "Failed to connect to bus: $DBUS_SESSION_BUS_ADDRESS and $XDG_RUNTIME_DIR not defined", "loginctl enable-linger", "use --user"},
		{true, "Failed to connect to bus: No medium found", "XDG_RUNTIME_DIR=/run/user/", "use --user"},
		{false, "Failed to enable unit: Access denied", "needs root", ""},
		{false, "Job for mpm.service failed because the control process exited with error code.\nSee \"systemctl status mpm.service\" and \"journalctl -xeu mpm.service\" for details.", "journalctl -u mpm.service -n 50", ""},
		{false, "Unit mpm.service not loaded.", "", "loginctl"},
	} {
		h := systemctl{user: tc.user, name: "mpm.service"}.hint(tc.msg)
		if tc.want != "" && !strings.Contains(h, tc.want) || tc.want == "" && h != "" {
			t.Errorf("hint(user=%v, %q) = %q, want %q", tc.user, tc.msg, h, tc.want)
		}
		if tc.not != "" && strings.Contains(h, tc.not) {
			t.Errorf("hint(user=%v, %q) = %q has %q", tc.user, tc.msg, h, tc.not)
		}
	}
}

// TestInstallHint: the install command suggested fits who runs it and
// where (README recommends --user for a person).
func TestInstallHint(t *testing.T) {
	for _, tc := range []struct {
		platform string
		euid     int
		want     string
	}{
		{"linux-systemd", 1000, "mpm-manager install --user"},
		{"darwin-launchd", 501, "mpm-manager install --user"},
		{"linux-systemd", 0, "--run-as YOURNAME"},
		{"windows-service", -1, "Administrator"},
		{"unix-systemv", 1000, "from your login script"},
	} {
		if got := installHint(tc.platform, tc.euid); !strings.Contains(got, tc.want) {
			t.Errorf("installHint(%s, %d) = %q, want %q in it", tc.platform, tc.euid, got, tc.want)
		}
	}
}

// TestReportExitCode: status's exit codes are LSB's (0 running, 3 not
// running, 4 unknown).
func TestReportExitCode(t *testing.T) {
	running := &managerstate.State{DaemonPID: 42, Phase: managerstate.PhaseRunning}
	waiting := &managerstate.State{Phase: managerstate.PhaseCrashLoop}
	for _, tc := range []struct {
		name string
		r    Report
		want int
	}{
		{"daemon runs", Report{Service: Running, ManagerRunning: true, Manager: running}, ExitRunning},
		{"foreground run, no service", Report{Service: NotInstalled, ManagerRunning: true, Manager: running}, ExitRunning},
		{"manager waits out a crash loop", Report{Service: Running, ManagerRunning: true, Manager: waiting}, ExitNotRunning},
		{"never ran", Report{Service: NotInstalled}, ExitNotRunning},
		{"stopped", Report{Service: Stopped, Manager: waiting}, ExitNotRunning},
		{"failed", Report{Service: Failed, Manager: running}, ExitNotRunning},
		{"service manager does not answer", Report{Service: Unknown}, ExitUnknown},
		{"service runs, no state for this data dir", Report{Service: Running}, ExitUnknown},
	} {
		if got := tc.r.ExitCode(); got != tc.want {
			t.Errorf("%s: exit %d, want %d", tc.name, got, tc.want)
		}
	}
}

// TestPrepareDataDir: install creates the data directory and its missing
// parents 0700, for the --run-as account, and says what it created (a
// failed install removes them again).
func TestPrepareDataDir(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "home", ".local", "state", "mpm")
	runAs, wantUID := "", os.Getuid()
	if os.Geteuid() == 0 {
		if u, err := user.Lookup("daemon"); err == nil {
			runAs = "daemon"
			wantUID = atoiOr(u.Uid)
		}
	}
	created, err := PrepareDataDir(dir, runAs)
	if err != nil {
		t.Fatal(err)
	}
	if len(created) != 4 || created[0] != filepath.Join(base, "home") || created[3] != dir {
		t.Errorf("created %q", created)
	}
	for _, d := range created {
		fi, err := os.Stat(d)
		if err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("%s: %v %v", d, fi.Mode(), err)
		}
		if owner, ok := fileOwner(d); ok && owner != wantUID {
			t.Errorf("%s belongs to uid %d, want %d", d, owner, wantUID)
		}
	}
	if again, err := PrepareDataDir(dir, runAs); err != nil || len(again) != 0 {
		t.Errorf("second call: created %q, %v", again, err)
	}
	if runAs != "" {
		other := t.TempDir() // root's
		if _, err := PrepareDataDir(other, runAs); err == nil || !strings.Contains(err.Error(), "chown") {
			t.Errorf("a data dir owned by another account was accepted: %v", err)
		}
	}
}

func atoiOr(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}
