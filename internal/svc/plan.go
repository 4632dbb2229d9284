package svc

import (
	"fmt"
	"strings"
)

// Plan is what Install would do: the file it writes and the commands it
// runs. install --dry-run prints it.
type Plan struct {
	// Platform is the service system ("linux-systemd", ...).
	Platform string
	// File is the path of the service file, "" when there is none.
	File string
	// Content is the file's exact content.
	Content string
	// Commands are the commands install runs, in order, as shell text.
	Commands []string
	// Notes are other effects (Windows registry settings, the data
	// directory, the wait for the daemon) and warnings.
	Notes []string
}

// PlanInstall describes Install(s) on platform without touching anything.
func PlanInstall(s Spec, platform string, noStart bool) (Plan, error) {
	p := Plan{Platform: platform}
	if !Supported(platform) {
		return p, NoServiceManager(s)
	}
	if _, err := kardianosConfig(s, platform); err != nil {
		return p, err
	}
	user := ""
	if s.User {
		user = " --user"
	}
	switch {
	case platform == "linux-systemd":
		unit, err := SystemdUnit(s)
		if err != nil {
			return p, err
		}
		p.File, p.Content = s.SystemdUnitPath(), unit
		p.Commands = []string{
			"systemctl" + user + " daemon-reload",
			"systemctl" + user + " enable " + s.Name + ".service",
		}
		if !noStart {
			p.Commands = append(p.Commands, "systemctl"+user+" start "+s.Name+".service")
		}
	case strings.HasPrefix(platform, "darwin"):
		plist, err := LaunchdPlist(s)
		if err != nil {
			return p, err
		}
		p.File, p.Content = s.LaunchdPlistPath(), plist
		if !noStart {
			p.Commands = []string{"launchctl load " + shellQuote(p.File)}
		}
	case strings.HasPrefix(platform, "windows"):
		args := []string{shellQuote(s.Exe)}
		for _, a := range s.Args() {
			args = append(args, shellQuote(a))
		}
		p.Notes = []string{
			fmt.Sprintf("register Windows service %q (start type automatic) running: %s", s.Name, strings.Join(args, " ")),
			fmt.Sprintf("recovery actions: restart after %s on every failure; failure count reset after %d s", windowsRestartDelay, windowsResetPeriod),
			"register an event log source named " + s.Name,
		}
		if !noStart {
			p.Commands = []string{"sc.exe start " + s.Name}
		}
	}
	if s.DataDir != "" {
		owner := ""
		if s.RunAs != "" {
			owner = ", owned by " + s.RunAs
		}
		p.Notes = append(p.Notes, "create the data directory "+s.DataDir+" if it is missing (mode 0700"+owner+")")
	}
	if !noStart {
		p.Notes = append(p.Notes, "wait until the manager reports that mpm-wsd answers on its address")
	}
	if n := RootNote(s); n != "" {
		p.Notes = append(p.Notes, n)
	}
	return p, nil
}

// String renders the plan for a human.
func (p Plan) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "service system: %s\n", p.Platform)
	if p.File != "" && p.Content != "" {
		fmt.Fprintf(&b, "\nwould write %s:\n\n%s\n", p.File, p.Content)
	} else if p.File != "" {
		fmt.Fprintf(&b, "\nwould write %s\n", p.File)
	}
	if len(p.Commands) > 0 {
		b.WriteString("would run:\n")
		for _, c := range p.Commands {
			fmt.Fprintf(&b, "  %s\n", c)
		}
	}
	for _, n := range p.Notes {
		if strings.HasPrefix(n, "note:") {
			fmt.Fprintf(&b, "%s\n", n)
		} else {
			fmt.Fprintf(&b, "would %s\n", n)
		}
	}
	b.WriteString("(dry run: nothing was changed)\n")
	return b.String()
}

// shellQuote quotes a word for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\n'\"\\$`&|;<>()*?[]{}!#~") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
