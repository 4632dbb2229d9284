package procinfo

import (
	"errors"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// ExeName returns the base name of pid's executable (from /proc/<pid>/exe,
// or /proc/<pid>/comm when the link may not be read).
func ExeName(pid int) (string, error) {
	if pid <= 0 {
		return "", ErrNoProcess
	}
	dir := "/proc/" + strconv.Itoa(pid)
	target, err := os.Readlink(dir + "/exe")
	if err == nil {
		return baseName(target), nil
	}
	if errors.Is(err, fs.ErrNotExist) {
		if _, serr := os.Stat(dir); errors.Is(serr, fs.ErrNotExist) {
			return "", ErrNoProcess
		}
	}
	comm, cerr := os.ReadFile(dir + "/comm")
	if cerr != nil {
		if errors.Is(cerr, fs.ErrNotExist) {
			return "", ErrNoProcess
		}
		return "", err
	}
	return strings.TrimSpace(string(comm)), nil
}

// Alive reports whether pid names a live process (a zombie is not alive).
func Alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return !errors.Is(err, fs.ErrNotExist)
	}
	// The state letter follows the command, which is in parentheses and
	// may itself contain parentheses: take the last ')'.
	s := string(stat)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2] != 'Z' && s[i+2] != 'X'
	}
	return true
}
