package svc

import (
	"strconv"
	"strings"
)

// Systemd timings. The manager's own graceful stop is bounded by its
// --stop-timeout (10 s default) plus reaping, so TimeoutStopSec leaves room.
const (
	systemdRestartSec     = 2
	systemdStartLimitSecs = 120
	systemdStartLimit     = 5
	systemdTimeoutStopSec = 30
)

// SystemdUnit renders the unit file for s. Not kardianos' default: that one
// hard-codes RestartSec=120 and puts the start limits in [Service].
// KillMode=mixed sends SIGTERM to mpm-manager alone (it stops mpm-wsd
// itself, gracefully) and SIGKILL to whatever is left after the timeout.
func SystemdUnit(s Spec) (string, error) {
	if err := s.check(); err != nil {
		return "", err
	}
	var b strings.Builder
	w := func(l ...string) {
		for _, x := range l {
			b.WriteString(x)
			b.WriteByte('\n')
		}
	}
	w("# Written by \"mpm-manager install\". Change it with \"mpm-manager install --force ...\",",
		"# remove it with \"mpm-manager uninstall\".",
		"[Unit]",
		"Description="+systemdEscapeText(Description),
		"Documentation=https://github.com/mpm-dev/mpm/blob/main/deploy/INSTALL.md")
	if !s.User {
		w("After=network.target")
	}
	w("StartLimitIntervalSec="+itoa(systemdStartLimitSecs),
		"StartLimitBurst="+itoa(systemdStartLimit),
		"",
		"[Service]",
		"Type=simple")
	exec := []string{systemdQuote(s.Exe)}
	for _, a := range s.Args() {
		exec = append(exec, systemdQuote(a))
	}
	w("ExecStart=" + strings.Join(exec, " "))
	if s.RunAs != "" {
		w("User=" + s.RunAs)
	}
	w("Restart=always",
		"RestartSec="+itoa(systemdRestartSec),
		"KillMode=mixed",
		"KillSignal=SIGTERM",
		"TimeoutStopSec="+itoa(systemdTimeoutStopSec),
		"",
		"[Install]")
	if s.User {
		w("WantedBy=default.target")
	} else {
		w("WantedBy=multi-user.target")
	}
	return b.String(), nil
}

// systemdQuote quotes one command-line word for ExecStart: specifiers (%)
// and variables ($) are escaped, and words with anything beyond a safe set
// are put in double quotes with C-style escapes.
func systemdQuote(a string) string {
	safe := a != ""
	for _, r := range a {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=,+@", r)) {
			safe = false
			break
		}
	}
	if safe {
		return a
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range a {
		switch r {
		case '\\':
			b.WriteString(`\\`)
		case '"':
			b.WriteString(`\"`)
		case '$':
			b.WriteString("$$")
		case '%':
			b.WriteString("%%")
		case '\t':
			b.WriteString(`\t`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// systemdEscapeText escapes specifiers in free text.
func systemdEscapeText(s string) string { return strings.ReplaceAll(s, "%", "%%") }

// itoa is strconv.Itoa (kept short for the many call sites).
func itoa(n int) string { return strconv.Itoa(n) }
