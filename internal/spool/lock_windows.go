//go:build windows

package spool

import (
	"errors"
	"os"

	"golang.org/x/sys/windows"
)

// nonblock is 0 on Windows: there are no FIFOs to wait on.
const nonblock = 0

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

// tryLock takes the exclusive lock on f if no one holds it; ok is false
// when someone does.
func tryLock(f *os.File) (ok bool, err error) {
	err = lockFile(f, false)
	if errors.Is(err, windows.ERROR_LOCK_VIOLATION) || errors.Is(err, windows.ERROR_IO_PENDING) {
		return false, nil
	}
	return err == nil, err
}

// removeOpen removes path, which f has open: Windows cannot delete an open
// file, so f is closed (and its lock released) first.
func removeOpen(f *os.File, path string) error {
	f.Close()
	return os.Remove(path)
}

// NotWritableError says the spool (or a file in it) cannot be written by
// this user. Windows ACLs are not checked: Writable always returns nil.
type NotWritableError struct {
	Path        string
	Owner, Self int
}

func (e *NotWritableError) Error() string { return e.Path + " cannot be written by this user" }

// Writable returns nil on Windows (see NotWritableError).
func Writable(dir string) error { return nil }
