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
	// Notes are other effects (Windows registry settings).
	Notes []string
}

// PlanInstall describes Install(s) on platform without touching anything.
func PlanInstall(s Spec, platform string, noStart bool) (Plan, error) {
	p := Plan{Platform: platform}
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
			"systemctl enable" + user + " " + s.Name + ".service",
			"systemctl daemon-reload" + user,
		}
		if !noStart {
			p.Commands = append(p.Commands, "systemctl start"+user+" "+s.Name+".service")
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
	default:
		p.File = s.configFile(platform)
		p.Notes = []string{"the service file is kardianos/service's built-in script for " + platform + ", running: " +
			s.Exe + " " + strings.Join(s.Args(), " ")}
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
	for _, n := range p.Notes {
		fmt.Fprintf(&b, "would %s\n", n)
	}
	if len(p.Commands) > 0 {
		b.WriteString("would run:\n")
		for _, c := range p.Commands {
			fmt.Fprintf(&b, "  %s\n", c)
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
