//go:build !unix

package wsd

import (
	"os"

	"golang.org/x/sys/windows"
)

// lockForTest takes the exclusive lock the spool's drainer waits for.
func lockForTest(f *os.File) error {
	return windows.LockFileEx(windows.Handle(f.Fd()), windows.LOCKFILE_EXCLUSIVE_LOCK, 0, 1, 0, new(windows.Overlapped))
}
