// Package svc installs, removes and controls mpm-manager as an OS service
// (systemd system or user unit, launchd daemon or agent, Windows service)
// on top of github.com/kardianos/service. It renders the systemd unit and
// the launchd plist itself, so that `install --dry-run` prints exactly the
// file that install writes, and hands the rendered text to kardianos as its
// custom template (a text without "{{" renders to itself).
package svc

import (
	"fmt"
	"path/filepath"
	"strings"
)

// Spec describes the service to install.
type Spec struct {
	// Name is the service name: the systemd unit's base name, the launchd
	// label, the Windows service name.
	Name string
	// User installs a per-user service (systemd --user, launchd agent).
	User bool
	// RunAs is the account a system service runs as ("" = root/system).
	RunAs string
	// Exe is the absolute path of mpm-manager.
	Exe string
	// RunArgs follow "run" on the service's command line: the recorded
	// options (address, data dir, daemon path and flags, health settings).
	RunArgs []string
	// Home is the installing user's home directory (user unit/agent paths,
	// launchd log path).
	Home string
	// DataDir is the data directory the service runs with: install
	// creates it (owned by RunAs) and waits for the manager's state there.
	DataDir string
	// Writable are the absolute paths a sandboxed system service may write
	// (the data directory, a log file's directory); the rest of the file
	// system is read-only for it.
	Writable []string
}

// DefaultName is the service name on goos.
func DefaultName(goos string) string {
	if goos == "darwin" {
		return "dev.mpm.manager"
	}
	return "mpm"
}

// Args is the service's full argument list after the executable.
func (s Spec) Args() []string { return append([]string{"run"}, s.RunArgs...) }

// Description is the service's one-line description.
const Description = "mpm: live view of Claude Code sessions (mpm-manager keeps mpm-wsd running)"

// SystemdUnitPath is where kardianos writes the unit.
func (s Spec) SystemdUnitPath() string {
	if s.User {
		return filepath.Join(s.Home, ".config", "systemd", "user", s.Name+".service")
	}
	return "/etc/systemd/system/" + s.Name + ".service"
}

// LaunchdPlistPath is where kardianos writes the plist.
func (s Spec) LaunchdPlistPath() string {
	if s.User {
		return s.Home + "/Library/LaunchAgents/" + s.Name + ".plist"
	}
	return "/Library/LaunchDaemons/" + s.Name + ".plist"
}

// LaunchdLogPath is where launchd sends the manager's stdout and stderr.
func (s Spec) LaunchdLogPath() string {
	if s.User {
		return s.Home + "/Library/Logs/mpm-manager.log"
	}
	return "/Library/Logs/mpm-manager.log"
}

func (s Spec) check() error {
	if s.Name == "" || strings.ContainsAny(s.Name, "/\\ \t\n{}") {
		return fmt.Errorf("service name %q is not usable: letters, digits, '.', '-' only", s.Name)
	}
	if s.Exe == "" {
		return fmt.Errorf("the mpm-manager path is empty")
	}
	for _, a := range append(append([]string{s.Exe, s.RunAs, s.Home, s.DataDir}, s.RunArgs...), s.Writable...) {
		if strings.Contains(a, "{{") || strings.ContainsAny(a, "\n\r\x00") {
			return fmt.Errorf("argument %q contains a newline, NUL or \"{{\", which a service file cannot carry", a)
		}
	}
	if s.User && s.RunAs != "" {
		return fmt.Errorf("--run-as is for system services; a --user service runs as you")
	}
	return nil
}
