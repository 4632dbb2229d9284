// Package procinfo answers small questions about other processes, best
// effort and per platform: is a pid alive, what is its executable's name, and
// which pid listens on a TCP address. The supervisor uses the answers to tell
// its own daemon from a stranger and never to kill a process it cannot name.
package procinfo

import (
	"errors"
	"path/filepath"
	"strconv"
	"strings"
)

// ErrUnsupported means the platform cannot answer the question.
var ErrUnsupported = errors.New("not supported on this platform")

// ErrNoProcess means no process has the pid.
var ErrNoProcess = errors.New("no such process")

// baseName strips directories, a Windows ".exe" suffix and Linux's
// " (deleted)" marker (the binary was replaced on disk while running).
func baseName(p string) string {
	p = strings.TrimSuffix(p, " (deleted)")
	p = filepath.Base(strings.ReplaceAll(p, `\`, "/"))
	return strings.TrimSuffix(strings.TrimSuffix(p, ".exe"), ".EXE")
}

// Describe returns "pid N (name)" or "pid N" when the name is unknown.
func Describe(pid int) string {
	if name, err := ExeName(pid); err == nil && name != "" {
		return "pid " + itoa(pid) + " (" + name + ")"
	}
	return "pid " + itoa(pid)
}

// itoa is strconv.Itoa (kept short for the many call sites).
func itoa(n int) string { return strconv.Itoa(n) }
