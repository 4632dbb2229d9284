package svc

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/kardianos/service"

	"github.com/mpm-dev/mpm/internal/managerstate"
	"github.com/mpm-dev/mpm/internal/paths"
)

// Windows recovery: restart the service 2 s after a failure; the failure
// count resets after a day without failures.
const (
	windowsRestartDelay = "2s"
	windowsResetPeriod  = 86400
)

// State is a service's installation state.
type State string

const (
	// NotInstalled: no service of that name is registered.
	NotInstalled State = "not installed"
	// Stopped: installed, not running.
	Stopped State = "stopped"
	// Running: installed and running.
	Running State = "running"
	// Failed: installed, and the service manager gave up restarting it
	// (systemd's "failed"); start resets it.
	Failed State = "failed"
	// Unknown: the service manager could not say (see the error).
	Unknown State = "unknown"
)

// Platform is the service system kardianos detected ("linux-systemd",
// "darwin-launchd", "windows-service", …), "" when none.
func Platform() string { return service.Platform() }

// Supported reports whether mpm-manager installs into platform: systemd,
// launchd and the Windows service manager. Others (SysV init, upstart,
// OpenRC, …) are not: the manager is then run from login scripts.
func Supported(platform string) bool {
	return platform == "linux-systemd" || strings.HasPrefix(platform, "darwin") || strings.HasPrefix(platform, "windows")
}

// NoServiceManager is the error of install on a system without a
// supported service manager: it says so and gives the command to run
// instead.
func NoServiceManager(s Spec) error {
	init := ""
	if b, err := os.ReadFile("/proc/1/comm"); err == nil && len(bytes.TrimSpace(b)) > 0 {
		init = fmt.Sprintf(" (process 1 here is %q)", string(bytes.TrimSpace(b)))
	}
	args := []string{shellQuote(s.Exe)}
	hasLog := false
	for _, a := range s.Args() {
		args = append(args, shellQuote(a))
		hasLog = hasLog || a == "--log-file" || strings.HasPrefix(a, "--log-file=")
	}
	if !hasLog && s.DataDir != "" {
		args = append(args, "--log-file", shellQuote(filepath.Join(s.DataDir, "mpm-manager.log")))
	}
	return fmt.Errorf("this system has no service manager that mpm-manager can install into%s: it supports systemd, launchd and Windows services.\n"+
		"Run the manager yourself instead, for example from your login script (~/.profile):\n\n"+
		"  pgrep -u \"$USER\" -x mpm-manager >/dev/null || nohup %s >/dev/null 2>&1 &\n\n"+
		"It keeps mpm-wsd running while it runs; \"mpm-manager status\" shows how it is doing", init, strings.Join(args, " "))
}

// InstallHint is the install command that fits the user running it: a
// per-user service for an ordinary user (what README recommends), a system
// service run as a named account for root, the login-script route where
// there is no supported service manager.
func InstallHint() string { return installHint(Platform(), os.Geteuid()) }

func installHint(platform string, euid int) string {
	switch {
	case !Supported(platform):
		return "this system has no service manager mpm-manager installs into: start \"mpm-manager run\" from your login script (mpm-manager install --dry-run prints the line)"
	case strings.HasPrefix(platform, "windows"):
		return "mpm-manager install (from an Administrator prompt)"
	case euid == 0:
		return "mpm-manager install --user as your own user (no sudo), or as root: mpm-manager install --run-as YOURNAME"
	}
	return "mpm-manager install --user"
}

// Resolve picks the service that s means when --user was not given: the
// caller's per-user service when one is installed and the caller is not
// root (who cannot mean anyone else's), or when no system service is
// installed; else the system service. So "mpm-manager start" works after
// "mpm-manager install --user".
func Resolve(s Spec) Spec {
	p := Platform()
	if s.User || !(p == "linux-systemd" || strings.HasPrefix(p, "darwin")) {
		return s
	}
	if os.Geteuid() == 0 {
		if st, _ := Status(s); st != NotInstalled {
			return s
		}
	}
	u := s
	u.User = true
	switch st, _ := Status(u); st {
	case Running, Stopped, Failed:
		return u
	}
	return s
}

// nop satisfies service.Interface for control-only use.
type nop struct{}

func (nop) Start(service.Service) error { return nil }
func (nop) Stop(service.Service) error  { return nil }

// kardianosConfig builds the kardianos configuration for s on platform,
// with our rendered unit or plist as the custom template.
func kardianosConfig(s Spec, platform string) (*service.Config, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	c := &service.Config{
		Name:        s.Name,
		DisplayName: "mpm manager",
		Description: Description,
		Executable:  s.Exe,
		Arguments:   s.Args(),
		UserName:    s.RunAs,
		Option:      service.KeyValue{},
	}
	if s.User {
		c.Option["UserService"] = true
	}
	switch {
	case platform == "linux-systemd":
		unit, err := SystemdUnit(s)
		if err != nil {
			return nil, err
		}
		c.Option["SystemdScript"] = unit
	case strings.HasPrefix(platform, "darwin"):
		plist, err := LaunchdPlist(s)
		if err != nil {
			return nil, err
		}
		c.Option["LaunchdConfig"] = plist
		c.Option["RunAtLoad"] = true
		c.Option["KeepAlive"] = true
	case strings.HasPrefix(platform, "windows"):
		c.Option["StartType"] = "automatic"
		c.Option["OnFailure"] = "restart"
		c.Option["OnFailureDelayDuration"] = windowsRestartDelay
		c.Option["OnFailureResetPeriod"] = windowsResetPeriod
	default:
		if s.User {
			return nil, fmt.Errorf("per-user services need systemd or launchd; this system uses %q: install without --user, or run \"mpm-manager run\" from your login scripts", platform)
		}
	}
	return c, nil
}

func newService(s Spec) (service.Service, error) {
	p := Platform()
	if p == "" {
		return nil, errors.New("no service manager found on this system: run \"mpm-manager run\" yourself (e.g. from your login scripts)")
	}
	c, err := kardianosConfig(s, p)
	if err != nil {
		return nil, err
	}
	return service.New(nop{}, c)
}

// configFile is the file the platform's service uses, "" when it has none
// we know of (Windows keeps services in the registry).
func (s Spec) configFile(platform string) string {
	switch {
	case platform == "linux-systemd":
		return s.SystemdUnitPath()
	case strings.HasPrefix(platform, "darwin"):
		return s.LaunchdPlistPath()
	case strings.HasPrefix(platform, "linux") || platform == "unix-systemv":
		return "/etc/init.d/" + s.Name
	}
	return ""
}

// Status reports whether the service is installed and running.
func Status(s Spec) (State, error) {
	switch p := Platform(); {
	case p == "linux-systemd":
		return systemdStatus(s)
	case !Supported(p):
		return NotInstalled, nil
	}
	sv, err := newService(s)
	if err != nil {
		return Unknown, err
	}
	st, err := sv.Status()
	switch {
	case err == nil && st == service.StatusRunning:
		return Running, nil
	case err == nil && st == service.StatusStopped:
		return Stopped, nil
	case errors.Is(err, service.ErrNotInstalled):
		return NotInstalled, nil
	}
	if f := s.configFile(Platform()); f != "" {
		if _, serr := os.Stat(f); errors.Is(serr, os.ErrNotExist) {
			return NotInstalled, nil
		}
	}
	if err == nil {
		err = errors.New("the service manager gave no state")
	}
	return Unknown, err
}

// InstallOptions tune Install.
type InstallOptions struct {
	// Force replaces an existing installation.
	Force bool
	// NoStart leaves the service stopped after installing it.
	NoStart bool
	// ReadyTimeout bounds the wait for the daemon's first answer after
	// the start (default 45 s).
	ReadyTimeout time.Duration
	// Out receives progress lines.
	Out io.Writer
}

// Install registers s with the service manager, starts it and waits until
// the manager reports that mpm-wsd answers. A failed registration or start
// is undone; a daemon that does not come up is an error that says why and
// leaves the service installed for a look at its log.
func Install(s Spec, o InstallOptions) error {
	p := Platform()
	if !Supported(p) {
		return NoServiceManager(s)
	}
	st, _ := Status(s)
	if st != NotInstalled {
		if !o.Force {
			return fmt.Errorf("mpm is already installed as service %q (%s); run \"mpm-manager install --force ...\" to replace it with these options, or \"mpm-manager uninstall%s\" first", s.Name, st, userArg(s))
		}
		fmt.Fprintf(o.Out, "replacing the installed service %q (%s)\n", s.Name, st)
		if err := uninstallAny(s, o.Out); err != nil {
			return fmt.Errorf("remove the old service: %w", err)
		}
	}
	if note := RootNote(s); note != "" {
		fmt.Fprintln(o.Out, note)
	}
	created, err := PrepareDataDir(s.DataDir, s.RunAs)
	if err != nil {
		return err
	}
	since := time.Now()
	if p == "linux-systemd" {
		err = systemdInstall(s, o.NoStart, o.Out)
	} else {
		err = kardianosInstall(s, o.NoStart)
	}
	if err != nil {
		for i := len(created) - 1; i >= 0; i-- {
			os.Remove(created[i]) // only while empty
		}
		return err
	}
	fmt.Fprintf(o.Out, "installed service %q on %s\n", s.Name, p)
	if o.NoStart {
		return nil
	}
	if o.ReadyTimeout <= 0 {
		o.ReadyTimeout = 45 * time.Second
	}
	return WaitReady(s, since, o.ReadyTimeout, o.Out)
}

// kardianosInstall installs through kardianos (launchd, Windows).
func kardianosInstall(s Spec, noStart bool) error {
	sv, err := newService(s)
	if err != nil {
		return err
	}
	if strings.HasPrefix(Platform(), "darwin") && s.User {
		// launchd does not create the directory of StandardErrorPath.
		os.MkdirAll(s.Home+"/Library/Logs", 0o755)
	}
	if err := sv.Install(); err != nil {
		return fmt.Errorf("install service %q: %w%s", s.Name, err, rootHint(s))
	}
	if noStart {
		return nil
	}
	if err := sv.Start(); err != nil {
		sv.Uninstall()
		return fmt.Errorf("the service did not start: %w; it was removed again, nothing is installed", err)
	}
	return nil
}

// RootNote warns when a system service would run mpm-wsd as root: its data
// and token then live in root's home, out of reach of hooks run as a user.
func RootNote(s Spec) string {
	if s.User || s.RunAs != "" || isWindows || os.Geteuid() != 0 {
		return ""
	}
	return fmt.Sprintf("note: this system service runs mpm-wsd as root, with its data and token in %s. "+
		"Claude Code's hooks run as you: install as your own user instead (mpm-manager install --user, without sudo), "+
		"or run it as your account: sudo mpm-manager install --run-as YOURNAME", s.DataDir)
}

// LogHint says where the service's log is.
func LogHint(s Spec) string {
	switch p := Platform(); {
	case p == "linux-systemd":
		return newSystemctl(s).journalHint()
	case strings.HasPrefix(p, "darwin"):
		return s.LaunchdLogPath()
	case s.DataDir != "":
		return filepath.Join(s.DataDir, "mpm-manager.log")
	}
	return "the service's log (deploy/INSTALL.md)"
}

// WaitReady waits until a manager started after since reports that its
// mpm-wsd answers (phase running), and says so on out. It fails early when
// the manager reports a crash loop or a busy port, or the service stops.
func WaitReady(s Spec, since time.Time, timeout time.Duration, out io.Writer) error {
	deadline := time.Now().Add(timeout)
	since = since.Add(-time.Second) // clock granularity of the state file
	var last *managerstate.State
	nextSvc := time.Now().Add(2 * time.Second)
	for {
		if ms, err := managerstate.Read(s.DataDir); err == nil && !ms.ManagerStarted.Before(since) {
			last = &ms
			switch ms.Phase {
			case managerstate.PhaseRunning:
				fmt.Fprintf(out, "started service %q: mpm-wsd (pid %d) answers on %s\n", s.Name, ms.DaemonPID, ms.Addr)
				return nil
			case managerstate.PhaseCrashLoop, managerstate.PhasePortBusy:
				return notReady(s, last, "")
			}
		}
		if time.Now().After(nextSvc) {
			nextSvc = time.Now().Add(2 * time.Second)
			if st, err := Status(s); st == Failed || st == Stopped {
				why := string(st)
				if err != nil {
					why += ": " + err.Error()
				}
				return notReady(s, last, "the service is "+why)
			}
		}
		if time.Now().After(deadline) {
			return notReady(s, last, fmt.Sprintf("no answer within %s", timeout))
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// notReady is WaitReady's error: what the manager last said, where the
// log is, and what to run next.
func notReady(s Spec, ms *managerstate.State, why string) error {
	var parts []string
	if why != "" {
		parts = append(parts, why)
	}
	if ms == nil {
		parts = append(parts, fmt.Sprintf("the manager has written no state to %s yet", s.DataDir))
	} else {
		parts = append(parts, "the manager says: "+string(ms.Phase))
		if ms.Message != "" {
			parts = append(parts, ms.Message)
		}
		if ms.LastExit != "" {
			parts = append(parts, "last exit of mpm-wsd: "+ms.LastExit)
		}
	}
	return fmt.Errorf("service %q is installed but mpm-wsd does not answer (%s).\nSee why in: %s\nThen fix it and run \"mpm-manager restart%s\", or remove the service with \"mpm-manager uninstall%s\"",
		s.Name, strings.Join(parts, "; "), LogHint(s), userArg(s), userArg(s))
}

// DataDirOf is the default data directory of account (for --run-as).
func DataDirOf(account string) (string, error) {
	u, err := user.Lookup(account)
	if err != nil {
		return "", fmt.Errorf("--run-as %s: %v: name an existing account", account, err)
	}
	if u.HomeDir == "" || u.HomeDir == "/" || u.HomeDir == "/nonexistent" {
		return "", fmt.Errorf("--run-as %s: the account has no home directory for its data: pass --data-dir DIR (a directory it owns)", account)
	}
	return paths.HomeDataDir(u.HomeDir), nil
}

// PrepareDataDir creates dir (0700) with any missing parents and returns
// the directories it created, outermost first; with runAs, each is given
// to that account, so that the service (and the account's own tools) can
// write there. An existing dir owned by another account is an error.
func PrepareDataDir(dir, runAs string) ([]string, error) {
	if dir == "" {
		return nil, nil
	}
	uid, gid := -1, -1
	if runAs != "" && !isWindows {
		u, err := user.Lookup(runAs)
		if err != nil {
			return nil, fmt.Errorf("--run-as %s: %v: name an existing account", runAs, err)
		}
		uid, _ = strconv.Atoi(u.Uid)
		gid, _ = strconv.Atoi(u.Gid)
	}
	var missing []string
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil || d == filepath.Dir(d) {
			break
		}
		missing = append([]string{d}, missing...)
	}
	for _, d := range missing {
		if err := os.Mkdir(d, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
			return missing, fmt.Errorf("create the data directory %s: %w", d, err)
		}
		if uid >= 0 {
			if err := os.Chown(d, uid, gid); err != nil {
				return missing, fmt.Errorf("give %s to %s: %w", d, runAs, err)
			}
		}
	}
	if uid >= 0 && len(missing) == 0 {
		if owner, ok := fileOwner(dir); ok && owner != uid {
			return nil, fmt.Errorf("the data directory %s belongs to uid %d, not to %s, who runs the service: pass another --data-dir, or chown -R %s %s", dir, owner, runAs, runAs, dir)
		}
	}
	return missing, nil
}

// Uninstall stops the service (if it runs) and removes it.
func Uninstall(s Spec, out io.Writer) error {
	if !Supported(Platform()) {
		return fmt.Errorf("no service %q is installed: this system has no service manager that mpm-manager installs into", s.Name)
	}
	s = Resolve(s)
	if st, _ := Status(s); st == NotInstalled {
		return fmt.Errorf("no service %q is installed%s", s.Name, userHint(s))
	}
	return uninstallAny(s, out)
}

func uninstallAny(s Spec, out io.Writer) error {
	if Platform() == "linux-systemd" {
		return systemdUninstall(s, out)
	}
	sv, err := newService(s)
	if err != nil {
		return err
	}
	if st, _ := Status(s); st == Running {
		if err := sv.Stop(); err != nil {
			fmt.Fprintf(out, "warning: stopping service %q: %v\n", s.Name, err)
		} else {
			fmt.Fprintf(out, "stopped service %q\n", s.Name)
		}
	}
	if err := sv.Uninstall(); err != nil {
		return fmt.Errorf("uninstall service %q: %w", s.Name, err)
	}
	fmt.Fprintf(out, "removed service %q\n", s.Name)
	return nil
}

// Control runs "start", "stop" or "restart" on the installed service (the
// per-user one when only that is installed) and returns the spec it acted
// on. A service the service manager gave up on is reset first.
func Control(s Spec, action string, out io.Writer) (Spec, error) {
	if !Supported(Platform()) {
		return s, fmt.Errorf("no service %q is installed: this system has no service manager that mpm-manager installs into; run \"mpm-manager run\" yourself (mpm-manager install --dry-run shows how)", s.Name)
	}
	s = Resolve(s)
	if st, _ := Status(s); st == NotInstalled {
		return s, fmt.Errorf("no service %q is installed%s: run \"mpm-manager install%s\" first", s.Name, userHint(s), userArg(s))
	}
	switch action {
	case "start", "stop", "restart":
	default:
		return s, fmt.Errorf("unknown action %q", action)
	}
	if Platform() == "linux-systemd" {
		return s, systemdControl(s, action, out)
	}
	sv, err := newService(s)
	if err != nil {
		return s, err
	}
	switch action {
	case "start":
		err = sv.Start()
	case "stop":
		err = sv.Stop()
	case "restart":
		err = sv.Restart()
	}
	if err != nil {
		return s, fmt.Errorf("%s service %q: %w; see %s", action, s.Name, err, LogHint(s))
	}
	return s, nil
}

func userHint(s Spec) string {
	if s.User {
		return " for this user (without --user, the system service is meant)"
	}
	if runtime.GOOS != "windows" {
		return " system-wide (with --user, the per-user service is meant)"
	}
	return ""
}
