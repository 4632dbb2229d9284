//go:build linux || darwin

package spool

import (
	"io/fs"

	"golang.org/x/sys/unix"
)

// appendFast appends the record made of parts (size bytes in all) to the
// live segment at path, in one writev(2), with plain system calls when
// nothing unusual is going on: the directory exists, "live" is not being
// renamed, and the record fits within segLimit. It reports whether it handled the
// append (err is then its outcome); when it did not, nothing was written and
// the caller takes the general path. It exists because os.OpenFile starts
// the runtime's network poller (an epoll set, an eventfd, a thread), which
// is most of what a spooling mpm-hook would otherwise spend.
func appendFast(path string, parts [][]byte, size, segLimit int64) (handled bool, err error) {
	fd, err := unix.Open(path, unix.O_WRONLY|unix.O_APPEND|unix.O_CREAT|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return false, nil
	}
	handled, err = appendLocked(fd, path, parts, size, segLimit)
	if cerr := unix.Close(fd); handled && err == nil && cerr != nil {
		err = &fs.PathError{Op: "close", Path: path, Err: cerr} // also released the lock
	}
	return handled, err
}

// appendLocked is appendFast once path is open as fd.
func appendLocked(fd int, path string, parts [][]byte, size, segLimit int64) (bool, error) {
	var err error
	for {
		err = unix.Flock(fd, unix.LOCK_EX)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return false, nil
	}
	var open, named unix.Stat_t
	if unix.Fstat(fd, &open) != nil || unix.Stat(path, &named) != nil ||
		open.Dev != named.Dev || open.Ino != named.Ino {
		return false, nil // renamed under us: the general path reopens
	}
	if open.Size > 0 && open.Size+size > segLimit {
		return false, nil // rotation: the general path seals it
	}
	for len(parts) > 0 {
		n, err := unix.Writev(fd, parts)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return true, &fs.PathError{Op: "write", Path: path, Err: err}
		}
		for n > 0 && len(parts) > 0 { // a short write: go on after it
			if n < len(parts[0]) {
				parts[0] = parts[0][n:]
				break
			}
			n -= len(parts[0])
			parts = parts[1:]
		}
		for len(parts) > 0 && len(parts[0]) == 0 {
			parts = parts[1:]
		}
	}
	return true, nil
}
