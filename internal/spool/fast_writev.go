//go:build linux || darwin

package spool

import (
	"io/fs"
	"time"

	"golang.org/x/sys/unix"
)

// appendFast appends the record made of parts (size bytes in all) to the
// live segment at path, in one writev(2), with plain system calls when
// nothing unusual is going on: the directory exists, "live" is not being
// renamed, and the record fits within segLimit. It reports whether it handled the
// append (err is then its outcome); when it did not, nothing was written and
// the caller takes the general path. It exists because os.OpenFile starts
// the runtime's network poller (an epoll set, an eventfd, a thread), which
// is most of what a spooling mpm-hook would otherwise spend. It waits for
// the lock until deadline at most (then the general path decides).
func appendFast(path string, parts [][]byte, size, segLimit int64, deadline time.Time) (handled bool, err error) {
	fd, err := unix.Open(path, unix.O_WRONLY|unix.O_APPEND|unix.O_CREAT|unix.O_CLOEXEC|unix.O_NONBLOCK, 0o600)
	if err != nil {
		return false, nil
	}
	handled, err = appendLocked(fd, path, parts, size, segLimit, deadline)
	if cerr := unix.Close(fd); handled && err == nil && cerr != nil {
		err = &fs.PathError{Op: "close", Path: path, Err: cerr} // also released the lock
	}
	return handled, err
}

// appendLocked is appendFast once path is open as fd.
func appendLocked(fd int, path string, parts [][]byte, size, segLimit int64, deadline time.Time) (bool, error) {
	if !flockUntil(fd, path, deadline) {
		return false, nil
	}
	var open, named unix.Stat_t
	if unix.Fstat(fd, &open) != nil || open.Mode&unix.S_IFMT != unix.S_IFREG ||
		unix.Stat(path, &named) != nil || open.Dev != named.Dev || open.Ino != named.Ino {
		return false, nil // renamed under us, or not a regular file: the general path decides
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

// flockUntil takes the exclusive flock on fd, trying until deadline (at
// least once) with short pauses taken by select(2) itself (no runtime
// timer): it reports whether it got the lock. It gives up early when fd is
// no longer the file at path (a drainer renamed it and holds it while it
// delivers: the general path then opens the new one).
func flockUntil(fd int, path string, deadline time.Time) bool {
	pause := time.Millisecond
	for {
		err := unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB)
		switch err {
		case nil:
			return true
		case unix.EINTR:
			continue
		case unix.EWOULDBLOCK:
		default:
			return false
		}
		var open, named unix.Stat_t
		if unix.Fstat(fd, &open) != nil || unix.Stat(path, &named) != nil || open.Dev != named.Dev || open.Ino != named.Ino {
			return false
		}
		left := time.Until(deadline)
		if left <= 0 {
			return false
		}
		tv := unix.NsecToTimeval(int64(min(pause, left)))
		unix.Select(0, nil, nil, nil, &tv) // a plain sleep (an EINTR just shortens it)
		pause = min(2*pause, 10*time.Millisecond)
	}
}
