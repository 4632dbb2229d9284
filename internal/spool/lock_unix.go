//go:build unix

package spool

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// nonblock is added to every open of a spool file: opening a FIFO planted
// under a spool name then fails or returns at once instead of waiting for
// a peer (openRegular then refuses it).
const nonblock = unix.O_NONBLOCK

// lockFile takes an exclusive advisory lock (flock) on f, waiting for it when
// wait is true, else failing at once if someone else holds it. Closing f
// releases it.
func lockFile(f *os.File, wait bool) error {
	how := unix.LOCK_EX
	if !wait {
		how |= unix.LOCK_NB
	}
	for {
		err := unix.Flock(int(f.Fd()), how)
		if err != unix.EINTR {
			return err
		}
	}
}

// tryLock takes the exclusive lock on f if no one holds it; ok is false
// when someone does.
func tryLock(f *os.File) (ok bool, err error) {
	err = lockFile(f, false)
	if err == unix.EWOULDBLOCK {
		return false, nil
	}
	return err == nil, err
}

// removeOpen removes path, which f (locked) has open, keeping the lock until
// the name is gone.
func removeOpen(f *os.File, path string) error {
	return os.Remove(path)
}

// NotWritableError says the spool (or a file in it) cannot be written by
// this user: typically a spool made by mpm-hook run as root.
type NotWritableError struct {
	// Path is the directory or file.
	Path string
	// Owner is its owner's uid; Self is ours.
	Owner, Self int
}

func (e *NotWritableError) Error() string {
	return e.Path + " belongs to uid " + strconv.Itoa(e.Owner) + ", not to this user (uid " + strconv.Itoa(e.Self) +
		"), and cannot be written: mpm-hook run as another user (root?) made it"
}

// Writable reports, as a *NotWritableError, a spool directory (or a file in
// it) that this user cannot write; nil when the directory is missing (it
// is created on the first append) or all is writable.
func Writable(dir string) error {
	self := os.Geteuid()
	check := func(path string) error {
		fi, err := os.Lstat(path)
		if err != nil {
			return nil // missing: made when needed
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok || unix.Access(path, unix.W_OK) == nil {
			return nil
		}
		return &NotWritableError{Path: path, Owner: int(st.Uid), Self: self}
	}
	if err := check(dir); err != nil {
		return err
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	for _, e := range ents {
		if !e.Type().IsRegular() {
			continue
		}
		if err := check(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}
