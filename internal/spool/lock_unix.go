//go:build unix

package spool

import (
	"os"

	"golang.org/x/sys/unix"
)

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

// removeOpen removes path, which f (locked) has open, keeping the lock until
// the name is gone.
func removeOpen(f *os.File, path string) error {
	return os.Remove(path)
}
