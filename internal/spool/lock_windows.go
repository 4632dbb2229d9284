//go:build windows

package spool

import (
	"os"

	"golang.org/x/sys/windows"
)

// lockFile takes an exclusive lock (LockFileEx on the first byte range) on
// f, waiting for it when wait is true, else failing at once if someone else
// holds it. Closing f releases it.
func lockFile(f *os.File, wait bool) error {
	flags := uint32(windows.LOCKFILE_EXCLUSIVE_LOCK)
	if !wait {
		flags |= windows.LOCKFILE_FAIL_IMMEDIATELY
	}
	ol := new(windows.Overlapped)
	return windows.LockFileEx(windows.Handle(f.Fd()), flags, 0, 1, 0, ol)
}

// removeOpen removes path, which f has open: Windows cannot delete an open
// file, so f is closed (and its lock released) first.
func removeOpen(f *os.File, path string) error {
	f.Close()
	return os.Remove(path)
}
