package svc

import "strings"

// Launchd timings: ExitTimeOut is how long launchd waits after SIGTERM
// before SIGKILL (its default, stated explicitly: the manager's own stop is
// bounded well inside it); ThrottleInterval spaces respawns of a manager
// that exits.
const (
	launchdExitTimeOut      = 20
	launchdThrottleInterval = 5
)

var plistEscaper = strings.NewReplacer(`&`, "&amp;", `<`, "&lt;", `>`, "&gt;", `"`, "&quot;", `'`, "&apos;")

// LaunchdPlist renders the launchd plist for s: RunAtLoad (start at login
// for an agent, at boot for a daemon) and KeepAlive (respawn the manager).
func LaunchdPlist(s Spec) (string, error) {
	if err := s.check(); err != nil {
		return "", err
	}
	e := plistEscaper.Replace
	var b strings.Builder
	w := func(l ...string) {
		for _, x := range l {
			b.WriteString(x)
			b.WriteByte('\n')
		}
	}
	w(`<?xml version="1.0" encoding="UTF-8"?>`,
		`<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">`,
		`<!-- Written by "mpm-manager install"; remove it with "mpm-manager uninstall". -->`,
		`<plist version="1.0">`,
		`<dict>`,
		"\t<key>Label</key>",
		"\t<string>"+e(s.Name)+"</string>",
		"\t<key>ProgramArguments</key>",
		"\t<array>",
		"\t\t<string>"+e(s.Exe)+"</string>")
	for _, a := range s.Args() {
		w("\t\t<string>" + e(a) + "</string>")
	}
	w("\t</array>",
		"\t<key>RunAtLoad</key>",
		"\t<true/>",
		"\t<key>KeepAlive</key>",
		"\t<true/>",
		"\t<key>ThrottleInterval</key>",
		"\t<integer>"+itoa(launchdThrottleInterval)+"</integer>",
		"\t<key>ExitTimeOut</key>",
		"\t<integer>"+itoa(launchdExitTimeOut)+"</integer>",
		"\t<key>ProcessType</key>",
		"\t<string>Background</string>",
		"\t<key>StandardOutPath</key>",
		"\t<string>"+e(s.LaunchdLogPath())+"</string>",
		"\t<key>StandardErrorPath</key>",
		"\t<string>"+e(s.LaunchdLogPath())+"</string>")
	if s.RunAs != "" {
		w("\t<key>UserName</key>", "\t<string>"+e(s.RunAs)+"</string>")
	}
	w(`</dict>`, `</plist>`)
	return b.String(), nil
}
