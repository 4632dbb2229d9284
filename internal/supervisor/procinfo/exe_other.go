//go:build !linux && !darwin && !windows

package procinfo

import (
	"errors"
	"syscall"
)

// ExeName is not known on this platform.
func ExeName(pid int) (string, error) { return "", ErrUnsupported }

// Alive reports whether pid names a live process.
func Alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
