package spool

import (
	"errors"
	"io/fs"
	"os"
	"time"
)

// LockWait bounds how long Append waits for the lock on the live segment
// (held by another appender, or by a rotation) before it writes the record
// to a segment of its own instead: a hook must never wait long.
const LockWait = 80 * time.Millisecond

// drainLockWait bounds how long a drain waits for a segment's lock (an
// appender finishing its write); past it the drain stops and is retried
// later, so that neither drains nor the daemon's shutdown can hang.
const drainLockWait = time.Second

// lockWait is LockWait; the tests' helper processes may raise it.
var lockWait = LockWait

// errLockTimeout is returned by lockUntil when the deadline passed.
var errLockTimeout = errors.New("spool: lock held by another process for too long")

// errNotRegular is the error of openRegular for a directory, FIFO, device
// or socket.
var errNotRegular = errors.New("not a regular file (left alone: only regular files are spool files)")

// openRegular opens path with flag, never waiting on a FIFO, and returns
// it only when it is a regular file.
func openRegular(path string, flag int, perm fs.FileMode) (*os.File, error) {
	f, err := os.OpenFile(path, flag|nonblock, perm)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, &fs.PathError{Op: "open", Path: path, Err: errNotRegular}
	}
	return f, nil
}

// readRegular is os.ReadFile for a spool file: regular files only.
func readRegular(path string) ([]byte, error) {
	f, err := openRegular(path, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	return readAll(f, fi.Size())
}

// lockUntil takes the exclusive lock on f, trying until deadline (at least
// once), with short pauses. It gives up early, with errLockTimeout too,
// when gone is set and says the file is no longer worth the wait.
func lockUntil(f *os.File, deadline time.Time, gone ...func() bool) error {
	for pause := time.Millisecond; ; pause = min(2*pause, 10*time.Millisecond) {
		ok, err := tryLock(f)
		if err != nil || ok {
			return err
		}
		if len(gone) > 0 && gone[0]() {
			return errLockTimeout
		}
		left := time.Until(deadline)
		if left <= 0 {
			return errLockTimeout
		}
		time.Sleep(min(pause, left))
	}
}

// replaceFile atomically replaces path's content with data, through the
// temporary file tmp (created afresh, mode 0600: a leftover, or a FIFO
// planted there, is removed rather than written through).
func replaceFile(path, tmp string, data []byte) error {
	os.Remove(tmp)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL|nonblock, 0o600)
	if err != nil {
		return err
	}
	_, werr := f.Write(data)
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		os.Remove(tmp)
		return werr
	}
	return os.Rename(tmp, path)
}
