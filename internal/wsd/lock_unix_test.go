//go:build unix

package wsd

import (
	"os"
	"syscall"
)

// lockForTest takes the exclusive flock the spool's drainer waits for.
func lockForTest(f *os.File) error { return syscall.Flock(int(f.Fd()), syscall.LOCK_EX) }
