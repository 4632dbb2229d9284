//go:build !linux && !darwin && !freebsd && !netbsd && !openbsd && !dragonfly

package hook

import "os"

// StdinIsTerminal reports whether stdin is a character device (a console):
// a person ran mpm-hook by hand, not Claude Code (which pipes the event's
// JSON).
func StdinIsTerminal() bool {
	fi, err := os.Stdin.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
