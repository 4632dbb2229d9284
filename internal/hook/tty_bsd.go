//go:build darwin || freebsd || netbsd || openbsd || dragonfly

package hook

import "golang.org/x/sys/unix"

// StdinIsTerminal reports whether stdin is a terminal: a person ran
// mpm-hook by hand, not Claude Code (which pipes the event's JSON).
func StdinIsTerminal() bool {
	_, err := unix.IoctlGetTermios(0, unix.TIOCGETA)
	return err == nil
}
