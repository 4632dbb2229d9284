// Package lean is mpm-hook's forwarding path on Linux with the syscall
// package alone: no os, time, strconv, fmt, net or golang.org/x/sys/unix,
// whose initialisation and size every hook run would pay for (~0.07x an
// empty Go program with the daemon down, ~0.03x up: docs/benchmarks.md).
// It reads the event on stdin, posts it on the daemon's Unix socket, then
// over TCP with the token, and else appends it to the spool, exactly as
// internal/hook's Forward does on other systems. What is rare is handed to
// mpm-hookctl, which links internal/hook: a subcommand (as on every
// system), a PermissionRequest that waits for a decision, and a spool
// append the usual path cannot do ("live" not a regular file, the spool's
// "lock" not to be had).
//
// Its portable files hold what internal/hook shares with it: the JSON
// object scanner, the HTTP request and status line, address parsing, the
// idempotency key and the texts mpm-hook prints.
package lean

// CtlName is the binary that carries out mpm-hook's subcommands (install,
// uninstall, status, help), looked for beside mpm-hook, then on PATH.
const CtlName = "mpm-hookctl"

// Hidden first arguments of mpm-hookctl with which mpm-hook hands it work
// on Linux (cmd/mpm-hookctl): ForwardArg, the whole forwarding path with
// stdin untouched (a PermissionRequest that waits for a decision);
// SpoolArg, one spool record on stdin to append to the spool directory
// named by the next argument.
const (
	ForwardArg = "__mpm-hook-forward"
	SpoolArg   = "__mpm-hook-spool"
)

// AtTerminal is what mpm-hook says when a person runs it at a terminal
// (stdin is a terminal, not Claude Code's pipe), instead of waiting for
// an event that will not come.
const AtTerminal = "mpm-hook is the hook Claude Code runs with each event's JSON on stdin; to wire it into Claude Code run: mpm-hook install (more: mpm-hook --help)\n"

// ShortUsage is what `mpm-hook help` prints when mpm-hookctl is missing.
const ShortUsage = `mpm-hook: Claude Code's hook for mpm. With no arguments it forwards the
event on stdin to mpm-wsd. Its subcommands (install, uninstall, status,
help, version) are carried out by ` + CtlName + `, which is not installed beside it.
`

// IsHelp reports whether a is a request for help.
func IsHelp(a string) bool {
	switch a {
	case "help", "-h", "-help", "--help":
		return true
	}
	return false
}

// CtlMissing is mpm-hook's message when args cannot be handed to
// mpm-hookctl, which is neither beside self nor on PATH.
func CtlMissing(args []string, self string) string {
	s := "mpm-hook:"
	for _, a := range args {
		s += " " + a
	}
	return s + ": this is carried out by " + CtlName +
		", which is neither beside " + self + " nor on PATH; install both binaries together (go install ./cmd/... or make build, see README)\n"
}

// The hook's bounds (internal/hook's DefaultTimeout, DefaultStdinTimeout,
// MaxInput are these), in nanoseconds and bytes.
const (
	// DefaultTimeout bounds the wait for the daemon: connecting, sending
	// and reading the status line together.
	DefaultTimeout = 300e6
	// DefaultStdinTimeout bounds the wait for one whole JSON object on
	// stdin.
	DefaultStdinTimeout = 2e9
	// MaxInput is the most of stdin the hook keeps.
	MaxInput = 32 << 20
	// FirstGrowth is the size of mpm-hook's static stdin buffer, and the
	// capacity a heap buffer first jumps to.
	FirstGrowth = 1 << 20
)
