package svc

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"

	"github.com/kardianos/service"
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
	// Unknown: the service manager could not say (see the error).
	Unknown State = "unknown"
)

// Platform is the service system kardianos detected ("linux-systemd",
// "darwin-launchd", "windows-service", …), "" when none.
func Platform() string { return service.Platform() }

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
	// Out receives progress lines.
	Out io.Writer
}

// Install registers s with the service manager and starts it.
func Install(s Spec, o InstallOptions) error {
	sv, err := newService(s)
	if err != nil {
		return err
	}
	st, _ := Status(s)
	if st != NotInstalled {
		if !o.Force {
			return fmt.Errorf("mpm is already installed as service %q (%s); run \"mpm-manager install --force ...\" to replace it with these options, or \"mpm-manager uninstall\" first", s.Name, st)
		}
		fmt.Fprintf(o.Out, "replacing the installed service %q (%s)\n", s.Name, st)
		if err := uninstall(sv, s, o.Out); err != nil {
			return fmt.Errorf("remove the old service: %w", err)
		}
	}
	if strings.HasPrefix(Platform(), "darwin") && s.User {
		// launchd does not create the directory of StandardErrorPath.
		os.MkdirAll(s.Home+"/Library/Logs", 0o755)
	}
	if err := sv.Install(); err != nil {
		return fmt.Errorf("install service %q: %w (a system service needs root/Administrator; use --user for a per-user one)", s.Name, err)
	}
	fmt.Fprintf(o.Out, "installed service %q on %s\n", s.Name, Platform())
	if o.NoStart {
		return nil
	}
	if err := sv.Start(); err != nil {
		return fmt.Errorf("the service is installed but did not start: %w; see the logs (deploy/INSTALL.md)", err)
	}
	fmt.Fprintf(o.Out, "started service %q\n", s.Name)
	return nil
}

// Uninstall stops the service (if it runs) and removes it.
func Uninstall(s Spec, out io.Writer) error {
	sv, err := newService(s)
	if err != nil {
		return err
	}
	if st, _ := Status(s); st == NotInstalled {
		return fmt.Errorf("no service %q is installed%s", s.Name, userHint(s))
	}
	return uninstall(sv, s, out)
}

func uninstall(sv service.Service, s Spec, out io.Writer) error {
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

// Control runs "start", "stop" or "restart" on the installed service.
func Control(s Spec, action string) error {
	sv, err := newService(s)
	if err != nil {
		return err
	}
	if st, _ := Status(s); st == NotInstalled {
		return fmt.Errorf("no service %q is installed%s: run \"mpm-manager install\" first", s.Name, userHint(s))
	}
	switch action {
	case "start":
		err = sv.Start()
	case "stop":
		err = sv.Stop()
	case "restart":
		err = sv.Restart()
	default:
		return fmt.Errorf("unknown action %q", action)
	}
	if err != nil {
		return fmt.Errorf("%s service %q: %w", action, s.Name, err)
	}
	return nil
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
