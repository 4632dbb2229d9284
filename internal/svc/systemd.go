package svc

import (
	"strconv"
	"strings"
)

// Systemd timings. The manager's own graceful stop is bounded by its
// --stop-timeout (10 s default) plus reaping, so TimeoutStopSec leaves room.
// There is no start limit (StartLimitIntervalSec=0): a unit that systemd
// puts in "failed" after a few quick crashes leaves mpm down for good, so
// systemd restarts the manager every RestartSec forever and the manager
// itself waits longer and longer after repeated crashes of its
// predecessors (see the supervisor's ManagerCrashes).
const (
	systemdRestartSec     = 2
	systemdTimeoutStopSec = 30
)

// systemdSandbox is the sandboxing every unit gets: options that need no
// mount namespace (seccomp filters and process flags), which a per-user
// systemd can apply too.
var systemdSandbox = []string{
	"UMask=0077",
	"NoNewPrivileges=yes",
	"LockPersonality=yes",
	"RestrictRealtime=yes",
	"RestrictSUIDSGID=yes",
	"RestrictNamespaces=yes",
	"MemoryDenyWriteExecute=yes",
	"SystemCallArchitectures=native",
	"SystemCallFilter=@system-service",
	"SystemCallErrorNumber=EPERM",
	"RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
}

// systemdSystemSandbox is what a system unit adds: a read-only file
// system except the data directory (and the log file's directory), home
// directories read-only (the daemon reads transcripts under the user's
// Claude directory, never writes there), private /tmp and /dev, and no
// access to kernel settings.
var systemdSystemSandbox = []string{
	"ProtectSystem=strict",
	"ProtectHome=read-only",
	"PrivateDevices=yes",
	"ProtectKernelTunables=yes",
	"ProtectKernelModules=yes",
	"ProtectKernelLogs=yes",
	"ProtectControlGroups=yes",
	"ProtectClock=yes",
	"ProtectHostname=yes",
	"ProtectProc=invisible",
}

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
	w("StartLimitIntervalSec=0",
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
		"TimeoutStopSec="+itoa(systemdTimeoutStopSec))
	w(systemdSandbox...)
	if !s.User {
		w(systemdSystemSandbox...)
		if !s.privateTmpHides() {
			w("PrivateTmp=yes")
		}
		if len(s.Writable) > 0 {
			rw := make([]string, len(s.Writable))
			for i, p := range s.Writable {
				// "-": a missing path is no error (install creates the
				// data directory before the first start).
				rw[i] = systemdQuoteWord("-"+p, false)
			}
			w("ReadWritePaths=" + strings.Join(rw, " "))
		}
		if s.RunAs != "" {
			// An unprivileged account has no capabilities to keep.
			w("CapabilityBoundingSet=", "AmbientCapabilities=")
		}
	}
	w("", "[Install]")
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
func systemdQuote(a string) string { return systemdQuoteWord(a, true) }

// systemdQuoteWord quotes a word of a unit setting; dollar escapes "$"
// (only ExecStart expands variables, every setting expands specifiers).
func systemdQuoteWord(a string, dollar bool) string {
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
			if dollar {
				b.WriteString("$$")
			} else {
				b.WriteByte('$')
			}
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

// privateTmpHides reports whether a writable path lies under /tmp or
// /var/tmp, which PrivateTmp would replace with an empty private one.
func (s Spec) privateTmpHides() bool {
	for _, p := range s.Writable {
		for _, t := range []string{"/tmp", "/var/tmp"} {
			if p == t || strings.HasPrefix(p, t+"/") {
				return true
			}
		}
	}
	return false
}

// systemdEscapeText escapes specifiers in free text.
func systemdEscapeText(s string) string { return strings.ReplaceAll(s, "%", "%%") }

// itoa is strconv.Itoa (kept short for the many call sites).
func itoa(n int) string { return strconv.Itoa(n) }
