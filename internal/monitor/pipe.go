package monitor

import (
	"errors"
	"runtime"
	"syscall"
)

// isBrokenPipe reports whether a write failed because the reader is gone.
func isBrokenPipe(err error) bool {
	if errors.Is(err, syscall.EPIPE) {
		return true
	}
	var en syscall.Errno
	// ERROR_BROKEN_PIPE (109) and ERROR_NO_DATA (232) on Windows.
	return runtime.GOOS == "windows" && errors.As(err, &en) && (en == 109 || en == 232)
}
