package svc

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mpm-dev/mpm/internal/testutil"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// goldenSpec has fixed paths so the golden files do not depend on the
// machine; its arguments exercise quoting (space, %, $, quote).
func goldenSpec(user bool) Spec {
	return Spec{
		Name: "mpm", User: user, Exe: "/usr/local/bin/mpm-manager", Home: "/home/alice",
		RunArgs: []string{"--addr", "127.0.0.1:8765", "--data-dir", "/home/alice/.local/state/mpm",
			"--wsd", "/usr/local/bin/mpm-wsd", "--health-interval=10s", `--wsd-arg=--note=50% "$HOME" & <x>`},
	}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test -run Golden -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (rerun with -update if the change is intended)\n--- got ---\n%s\n--- want ---\n%s", name, got, want)
	}
}

func TestGoldenSystemdUnits(t *testing.T) {
	for _, user := range []bool{false, true} {
		s := goldenSpec(user)
		s.Writable = []string{"/home/alice/.local/state/mpm", "/var/log/mpm 50% $x"}
		if !user {
			s.RunAs = "alice"
		}
		u, err := SystemdUnit(s)
		if err != nil {
			t.Fatal(err)
		}
		name := "mpm.system.service"
		if user {
			name = "mpm.user.service"
		}
		golden(t, name, u)
	}
}

func TestGoldenLaunchdPlists(t *testing.T) {
	for _, user := range []bool{false, true} {
		s := goldenSpec(user)
		s.Name = "dev.mpm.manager"
		p, err := LaunchdPlist(s)
		if err != nil {
			t.Fatal(err)
		}
		name := "dev.mpm.manager.daemon.plist"
		if user {
			name = "dev.mpm.manager.agent.plist"
		}
		golden(t, name, p)
		if _, err := exec.LookPath("plutil"); err == nil {
			f := filepath.Join(t.TempDir(), name)
			os.WriteFile(f, []byte(p), 0o644)
			if out, err := exec.Command("plutil", "-lint", f).CombinedOutput(); err != nil {
				t.Errorf("plutil -lint: %v\n%s", err, out)
			}
		}
	}
}

func TestSystemdQuote(t *testing.T) {
	for in, want := range map[string]string{
		"--addr":              "--addr",
		"/a b/c":              `"/a b/c"`,
		`50%`:                 `"50%%"`,
		`$HOME`:               `"$$HOME"`,
		`say "hi" \ there`:    `"say \"hi\" \\ there"`,
		"":                    `""`,
		"127.0.0.1:8765":      "127.0.0.1:8765",
		"--health-failures=3": "--health-failures=3",
	} {
		if got := systemdQuote(in); got != want {
			t.Errorf("systemdQuote(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestSpecRejectsTemplateAndNewlines(t *testing.T) {
	s := goldenSpec(false)
	s.RunArgs = append(s.RunArgs, "{{Name}}")
	if _, err := SystemdUnit(s); err == nil {
		t.Error("an argument with {{ was accepted: kardianos would expand it")
	}
	s = goldenSpec(false)
	s.RunArgs = append(s.RunArgs, "a\nExecStartPre=/bin/evil")
	if _, err := SystemdUnit(s); err == nil {
		t.Error("an argument with a newline was accepted")
	}
	s = goldenSpec(true)
	s.RunAs = "bob"
	if _, err := SystemdUnit(s); err == nil {
		t.Error("--run-as with --user was accepted")
	}
}

// TestSystemdAnalyzeVerify renders the system and user units with real
// paths (systemd-analyze checks that ExecStart's binary exists) and wants
// systemd-analyze verify to print nothing at all on stderr.
func TestSystemdAnalyzeVerify(t *testing.T) {
	tool, err := exec.LookPath("systemd-analyze")
	if err != nil {
		if os.Getenv("MPM_REQUIRE_SYSTEMD_ANALYZE") != "" {
			t.Fatal("systemd-analyze is missing and MPM_REQUIRE_SYSTEMD_ANALYZE is set (apt-get install systemd)")
		}
		t.Skip("systemd-analyze not installed (apt-get install systemd); set MPM_REQUIRE_SYSTEMD_ANALYZE=1 to fail instead")
	}
	mgr := testutil.Binary(t, "mpm-manager")
	dir := t.TempDir()
	for _, user := range []bool{false, true} {
		s := Spec{Name: "mpm", User: user, Exe: mgr, Home: dir,
			RunArgs: []string{"--addr", "127.0.0.1:8765", "--data-dir", filepath.Join(dir, "data dir"), "--wsd", mgr,
				"--health-interval=10s", "--wsd-arg=--history=5000"},
			Writable: []string{filepath.Join(dir, "data dir"), filepath.Join(dir, "logs 50%")}}
		if !user {
			s.RunAs = "daemon"
		}
		unit, err := SystemdUnit(s)
		if err != nil {
			t.Fatal(err)
		}
		sub := filepath.Join(dir, map[bool]string{false: "system", true: "user"}[user])
		os.MkdirAll(sub, 0o755)
		f := filepath.Join(sub, "mpm.service")
		if err := os.WriteFile(f, []byte(unit), 0o644); err != nil {
			t.Fatal(err)
		}
		args := []string{"verify", f}
		runtimeDir := filepath.Join(dir, "runtime")
		os.MkdirAll(runtimeDir, 0o700)
		if user {
			args = []string{"--user", "verify", f}
		}
		cmd := exec.Command(tool, args...)
		cmd.Env = append(os.Environ(), "XDG_RUNTIME_DIR="+runtimeDir, "SYSTEMD_LOG_LEVEL=notice")
		var stderr, stdout bytes.Buffer
		cmd.Stderr, cmd.Stdout = &stderr, &stdout
		err = cmd.Run()
		if err != nil || strings.TrimSpace(stderr.String()) != "" {
			t.Errorf("systemd-analyze %s: %v\nstderr:\n%s\nstdout:\n%s\nunit:\n%s", strings.Join(args, " "), err, stderr.String(), stdout.String(), unit)
		}
	}
}

func TestPlanInstall(t *testing.T) {
	s := goldenSpec(true)
	p, err := PlanInstall(s, "linux-systemd", false)
	if err != nil {
		t.Fatal(err)
	}
	unit, _ := SystemdUnit(s)
	if p.File != "/home/alice/.config/systemd/user/mpm.service" || p.Content != unit {
		t.Errorf("plan file %q or content differs from the rendered unit", p.File)
	}
	want := []string{"systemctl --user daemon-reload", "systemctl --user enable mpm.service", "systemctl --user start mpm.service"}
	if strings.Join(p.Commands, "|") != strings.Join(want, "|") {
		t.Errorf("commands %q, want %q", p.Commands, want)
	}
	if !strings.Contains(p.String(), "nothing was changed") {
		t.Error("plan text does not say it changed nothing")
	}
	w, err := PlanInstall(goldenSpec(false), "windows-service", true)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(w.Notes, "\n"), "restart after 2s") || len(w.Commands) != 0 {
		t.Errorf("windows plan: %+v", w)
	}
	// No supported service manager: say so plainly, and what to run
	// instead (with the recorded flags), naming no library.
	for _, user := range []bool{false, true} {
		s := goldenSpec(user)
		s.DataDir = "/home/alice/.local/state/mpm"
		_, err := PlanInstall(s, "unix-systemv", false)
		if err == nil {
			t.Fatal("install on sysv was accepted")
		}
		msg := err.Error()
		for _, w := range []string{"no service manager that mpm-manager can install into", "systemd, launchd and Windows",
			"/usr/local/bin/mpm-manager run --addr 127.0.0.1:8765", "--health-interval=10s", "--log-file /home/alice/.local/state/mpm/mpm-manager.log", "~/.profile"} {
			if !strings.Contains(msg, w) {
				t.Errorf("message lacks %q:\n%s", w, msg)
			}
		}
		if strings.Contains(msg, "kardianos") || strings.Contains(msg, "would the") {
			t.Errorf("message names a library or is garbled:\n%s", msg)
		}
	}
	c, err := kardianosConfig(goldenSpec(false), "windows-service")
	if err != nil || c.Option["OnFailure"] != "restart" {
		t.Errorf("windows recovery option not set: %v %v", c, err)
	}
}

func TestLogFileRotates(t *testing.T) {
	p := filepath.Join(t.TempDir(), "m.log")
	l, err := OpenLogFile(p, 100)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		l.Write(bytes.Repeat([]byte("x"), 40))
	}
	l.Close()
	a, _ := os.ReadFile(p)
	b, _ := os.ReadFile(p + ".1")
	if len(a) > 100 || len(b) == 0 || len(b) > 100 {
		t.Fatalf("rotation: current %d bytes, previous %d bytes", len(a), len(b))
	}
}
