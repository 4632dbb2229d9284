//go:build unix

package monitor

import (
	"os"

	"golang.org/x/sys/unix"
)

// IsTerminal reports whether f is a terminal.
func IsTerminal(f *os.File) bool {
	_, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ)
	return err == nil
}

// TermWidth returns f's terminal width in columns, 0 when unknown.
func TermWidth(f *os.File) int {
	ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ)
	if err != nil {
		return 0
	}
	return int(ws.Col)
}

// EnableColor prepares f for ANSI colours; terminals on Unix need nothing.
func EnableColor(f *os.File) bool { return true }
