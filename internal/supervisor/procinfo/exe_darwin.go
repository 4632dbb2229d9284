package procinfo

import (
	"errors"
	"syscall"

	"golang.org/x/sys/unix"
)

// ExeName returns pid's command name from the kernel (at most 16 bytes,
// enough for "mpm-wsd" and "mpm-manager").
func ExeName(pid int) (string, error) {
	if pid <= 0 {
		return "", ErrNoProcess
	}
	kp, err := unix.SysctlKinfoProc("kern.proc.pid", pid)
	if err != nil {
		return "", err
	}
	if kp.Proc.P_pid != int32(pid) {
		return "", ErrNoProcess
	}
	b := kp.Proc.P_comm[:]
	for i, c := range b {
		if c == 0 {
			b = b[:i]
			break
		}
	}
	return string(b), nil
}

// Alive reports whether pid names a live process.
func Alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
