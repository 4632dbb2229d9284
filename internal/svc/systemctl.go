package svc

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// On systemd, mpm-manager runs systemctl itself rather than through
// kardianos/service, which captures systemctl's stderr and never shows it
// ("exit status 1"), cannot tell a unit systemd gave up on ("failed"), and
// leaves a half-done install behind.

// systemctl runs systemctl for the system manager or, with user, for the
// calling user's manager.
type systemctl struct {
	user bool
	// name is the unit's name with ".service".
	name string
}

func newSystemctl(s Spec) systemctl { return systemctl{user: s.User, name: s.Name + ".service"} }

// journalHint is the command that shows the unit's recent log.
func (c systemctl) journalHint() string {
	if c.user {
		return "journalctl --user -u " + c.name + " -n 50"
	}
	return "journalctl -u " + c.name + " -n 50"
}

// run runs systemctl [--user] args; the error carries systemctl's own
// message and a hint that fits it.
func (c systemctl) run(args ...string) (string, error) {
	if c.user {
		args = append([]string{"--user"}, args...)
	}
	cmd := exec.Command("systemctl", args...)
	cmd.Env = c.env()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	text := strings.TrimSpace(out.String())
	if err != nil {
		msg := text
		if msg == "" {
			msg = err.Error()
		}
		return text, fmt.Errorf("systemctl %s: %s%s", strings.Join(args, " "), msg, c.hint(msg))
	}
	return text, nil
}

// env is systemctl's environment. A per-user systemctl finds the user's
// manager through XDG_RUNTIME_DIR, which su, sudo and cron sessions often
// lack: when it is unset but the user's runtime directory exists, it is
// filled in.
func (c systemctl) env() []string {
	env := os.Environ()
	if !c.user || os.Getenv("XDG_RUNTIME_DIR") != "" {
		return env
	}
	if d := userRuntimeDir(); d != "" {
		if _, err := os.Stat(filepath.Join(d, "systemd")); err == nil {
			env = append(env, "XDG_RUNTIME_DIR="+d)
		}
	}
	return env
}

// userRuntimeDir is /run/user/<uid>, "" where there is no uid.
func userRuntimeDir() string {
	uid := os.Getuid()
	if uid < 0 {
		return ""
	}
	return "/run/user/" + strconv.Itoa(uid)
}

// hint says what to do about a systemctl message.
func (c systemctl) hint(msg string) string {
	switch {
	case c.user && (strings.Contains(msg, "XDG_RUNTIME_DIR") || strings.Contains(msg, "Failed to connect to bus") || strings.Contains(msg, "No medium found")):
		who := os.Getenv("USER")
		if who == "" {
			who = "$USER"
		}
		return fmt.Sprintf(" (a --user service needs your own systemd user manager, which runs while you are logged in: "+
			"run this from your login session (ssh or console, not su or sudo), with XDG_RUNTIME_DIR=%s; "+
			"to keep it running without a login, first run: loginctl enable-linger %s)", userRuntimeDir(), who)
	case !c.user && (strings.Contains(msg, "Access denied") || strings.Contains(msg, "Interactive authentication required") || strings.Contains(msg, "ermission denied")):
		return " (a system service needs root: run it with sudo, or use --user for a per-user service)"
	case strings.Contains(msg, "see \"systemctl") || strings.Contains(msg, "journalctl"):
		return " (" + c.journalHint() + " shows why)"
	}
	return ""
}

// unitState is what systemctl show says about the unit.
type unitState struct {
	Load, Active, Sub, Result string
	MainPID                   int
	NRestarts                 int
}

// show reads the unit's state.
func (c systemctl) show() (unitState, error) {
	out, err := c.run("show", "--property=LoadState,ActiveState,SubState,Result,MainPID,NRestarts", c.name)
	if err != nil {
		return unitState{}, err
	}
	var u unitState
	for _, l := range strings.Split(out, "\n") {
		k, v, _ := strings.Cut(strings.TrimSpace(l), "=")
		switch k {
		case "LoadState":
			u.Load = v
		case "ActiveState":
			u.Active = v
		case "SubState":
			u.Sub = v
		case "Result":
			u.Result = v
		case "MainPID":
			u.MainPID, _ = strconv.Atoi(v)
		case "NRestarts":
			u.NRestarts, _ = strconv.Atoi(v)
		}
	}
	return u, nil
}

// systemdStatus maps the unit's state to ours.
func systemdStatus(s Spec) (State, error) {
	c := newSystemctl(s)
	u, err := c.show()
	if err != nil {
		if _, serr := os.Stat(s.SystemdUnitPath()); errors.Is(serr, os.ErrNotExist) {
			return NotInstalled, nil
		}
		return Unknown, err
	}
	switch {
	case u.Load == "not-found":
		return NotInstalled, nil
	case u.Active == "failed":
		return Failed, fmt.Errorf("systemd stopped restarting it (result %s): run \"mpm-manager start%s\", which resets it; %s shows why", u.Result, userArg(s), c.journalHint())
	case u.Active == "active" || u.Active == "activating" || u.Active == "reloading":
		return Running, nil
	case u.Active == "inactive" || u.Active == "deactivating":
		return Stopped, nil
	}
	return Unknown, fmt.Errorf("systemd says %s/%s", u.Active, u.Sub)
}

func userArg(s Spec) string {
	if s.User {
		return " --user"
	}
	return ""
}

// systemdInstall writes the unit, enables and (unless noStart) starts it.
// When a step fails, what was done is undone, so that a retry starts
// clean.
func systemdInstall(s Spec, noStart bool, out io.Writer) error {
	unit, err := SystemdUnit(s)
	if err != nil {
		return err
	}
	c := newSystemctl(s)
	path := s.SystemdUnitPath()
	var created []string // directories made for the unit file, deepest last
	for d := filepath.Dir(path); ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil || d == filepath.Dir(d) {
			break
		}
		created = append([]string{d}, created...)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("create %s: %w%s", filepath.Dir(path), err, rootHint(s))
	}
	if err := os.WriteFile(path, []byte(unit), 0o644); err != nil {
		return fmt.Errorf("write %s: %w%s", path, err, rootHint(s))
	}
	rollback := func(cause error) error {
		c.run("disable", c.name)
		os.Remove(path)
		for i := len(created) - 1; i >= 0; i-- {
			os.Remove(created[i]) // only if empty
		}
		c.run("daemon-reload")
		return fmt.Errorf("%w\nnothing is installed: %s was removed again", cause, path)
	}
	fmt.Fprintf(out, "wrote %s\n", path)
	if _, err := c.run("daemon-reload"); err != nil {
		return rollback(err)
	}
	if _, err := c.run("enable", c.name); err != nil {
		return rollback(err)
	}
	if noStart {
		return nil
	}
	if _, err := c.run("start", c.name); err != nil {
		return rollback(err)
	}
	return nil
}

// rootHint is added to a failed write of a system unit.
func rootHint(s Spec) string {
	if s.User || os.Geteuid() == 0 {
		return ""
	}
	return " (a system service needs root: use sudo, or --user for a per-user service)"
}

// systemdUninstall stops, disables and removes the unit.
func systemdUninstall(s Spec, out io.Writer) error {
	c := newSystemctl(s)
	if st, _ := systemdStatus(s); st == Running {
		if _, err := c.run("stop", c.name); err != nil {
			fmt.Fprintf(out, "warning: %v\n", err)
		} else {
			fmt.Fprintf(out, "stopped service %q\n", s.Name)
		}
	}
	if _, err := c.run("disable", c.name); err != nil {
		fmt.Fprintf(out, "warning: %v\n", err)
	}
	path := s.SystemdUnitPath()
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove %s: %w%s", path, err, rootHint(s))
	}
	c.run("daemon-reload")
	c.run("reset-failed", c.name) // forget a "failed" state; fails when there is none
	fmt.Fprintf(out, "removed service %q (%s)\n", s.Name, path)
	return nil
}

// systemdControl starts, stops or restarts the unit. A unit systemd put in
// "failed" is reset first, so start and restart bring it back.
func systemdControl(s Spec, action string, out io.Writer) error {
	c := newSystemctl(s)
	if action != "stop" {
		if st, _ := systemdStatus(s); st == Failed {
			if _, err := c.run("reset-failed", c.name); err != nil {
				return err
			}
			fmt.Fprintf(out, "service %q was in systemd's failed state; reset it\n", s.Name)
		}
	}
	_, err := c.run(action, c.name)
	return err
}
