package spool

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// ErrBusy is returned by Drain when another process is draining the spool.
var ErrBusy = errors.New("spool: another process is draining this spool; try again later")

// Drain delivers every spooled record, in order (oldest segment first, and
// within a segment in append order), to deliver. It first seals the live
// segment, waiting for appenders still writing to it; records appended after
// that go to a new live segment and wait for the next drain.
//
// A segment file is removed only after deliver returned nil for all its
// records. When deliver returns an error, Drain stops: that record and every
// later one stay in the spool for the next drain (the segment is rewritten
// to start at that record), and the error is returned. After a crash in the
// middle a record may be delivered twice; the daemon ignores the second by its
// Key. Damaged records are skipped and added to the "dropped" counter.
//
// deliver may keep rec.Payload. A missing spool directory is an empty spool.
func Drain(dir string, deliver func(Record) error) (delivered int, err error) {
	lockPath := filepath.Join(dir, drainLockName)
	lf, err := openRegular(lockPath, os.O_RDWR|os.O_CREATE, 0o600)
	if errors.Is(err, errNotRegular) {
		// A stranger (a FIFO, a directory) took the lock's name: move it
		// aside rather than stop every drain.
		if err := os.Rename(lockPath, lockPath+".bad-"+strconv.FormatInt(time.Now().UnixNano(), 10)); err != nil {
			return 0, err
		}
		lf, err = openRegular(lockPath, os.O_RDWR|os.O_CREATE, 0o600)
	}
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	defer lf.Close()
	if lockFile(lf, false) != nil {
		return 0, ErrBusy
	}

	// A segment this user may not read (written by mpm-hook run as another
	// user) cannot be drained until its owner is fixed: it is skipped, so
	// that it does not hold back the others, and its error returned.
	var denied error
	if err := sealLive(dir); errors.Is(err, fs.ErrPermission) {
		denied = err
	} else if err != nil {
		return 0, err
	}
	segs, err := listSegments(dir)
	if err != nil {
		return 0, err
	}
	for _, s := range segs {
		n, err := drainSegment(dir, filepath.Join(dir, s.name), deliver)
		delivered += n
		if errors.Is(err, fs.ErrPermission) && n == 0 {
			denied = err
			continue
		}
		if err != nil {
			return delivered, err
		}
	}
	return delivered, denied
}

// sealLive renames a non-empty "live" to a sealed segment, then waits
// (drainLockWait at most) until no appender still writes to it. A "live"
// that is not a regular file is moved aside (to live.bad-<time>), so that
// appenders can make a fresh one.
func sealLive(dir string) error {
	live := filepath.Join(dir, liveName)
	fi, err := os.Lstat(live)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return os.Rename(live, live+".bad-"+strconv.FormatInt(time.Now().UnixNano(), 10))
	}
	if fi.Size() == 0 {
		return nil
	}
	seg := filepath.Join(dir, segName())
	if err := os.Rename(live, seg); err != nil {
		return err
	}
	f, err := openRegular(seg, os.O_RDONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	// An appender that locked it before the rename finishes first.
	return lockUntil(f, time.Now().Add(drainLockWait))
}

// drainSegment delivers one sealed segment's records and removes it.
func drainSegment(dir, path string, deliver func(Record) error) (int, error) {
	f, err := openRegular(path, os.O_RDONLY, 0)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, errNotRegular) {
		return 0, nil // dropped for space meanwhile, or replaced by a stranger
	}
	if err != nil {
		return 0, err
	}
	defer f.Close()
	if err := lockUntil(f, time.Now().Add(drainLockWait)); err != nil {
		return 0, &fs.PathError{Op: "lock (the drain is retried later)", Path: path, Err: err}
	}
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	if pi, err := os.Stat(path); err != nil || !os.SameFile(fi, pi) {
		return 0, nil // dropped for space between open and lock
	}
	data, err := readAll(f, fi.Size())
	if err != nil {
		return 0, err
	}
	delivered := 0
	start := 0 // offset of the first record not yet delivered
	var failed error
	damaged, _ := ReadRecords(data, func(rec Record, end int) error {
		if err := deliver(rec); err != nil {
			failed = err
			return err
		}
		delivered++
		start = end
		return nil
	})
	if damaged > 0 {
		// A retry after a failure may count the same damage again; it is
		// a rough count of records lost, and damage is rare.
		addDropped(dir, int64(damaged))
	}
	if failed != nil {
		if start > 0 {
			if err := rewrite(path, data[start:]); err != nil {
				return delivered, errors.Join(failed, err)
			}
		}
		return delivered, failed
	}
	if err := removeOpen(f, path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return delivered, err
	}
	return delivered, nil
}

// rewrite atomically replaces path's content with rest.
func rewrite(path string, rest []byte) error {
	return replaceFile(path, path+tmpSuffix, rest)
}

// Info describes a spool, for mpm-verify.
type Info struct {
	// Records and Bytes are what waits in it (live and sealed segments).
	Records int
	Bytes   int64
	// Dropped is the count of records lost so far (the "dropped" file).
	Dropped int64
	// Oldest is when the oldest waiting record was first sent (zero when
	// none waits).
	Oldest time.Time
	// Foreign names the entries that look like spool files but are not
	// regular files (directories, FIFOs...), and those moved aside to a
	// .bad-<time> name for that reason; they are left alone.
	Foreign []string
}

// Inspect describes the spool in dir. A missing directory is an empty
// spool.
func Inspect(dir string) (Info, error) {
	info := Info{Dropped: readDropped(dir)}
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return info, nil
	}
	if err != nil {
		return info, err
	}
	for _, e := range ents { // sorted by name: live, then segments oldest first
		n := e.Name()
		isSeg := strings.HasPrefix(n, segPrefix) && filepath.Ext(n) != tmpSuffix
		bad := strings.Contains(n, ".bad-")
		if n != liveName && !isSeg && !bad {
			continue
		}
		if !e.Type().IsRegular() || bad {
			info.Foreign = append(info.Foreign, n)
			continue
		}
		data, err := readRegular(filepath.Join(dir, n))
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, errNotRegular) {
			continue
		}
		if err != nil {
			return info, err
		}
		info.Bytes += int64(len(data))
		ReadRecords(data, func(r Record, _ int) error {
			info.Records++
			if info.Oldest.IsZero() || r.SentAt.Before(info.Oldest) {
				info.Oldest = r.SentAt
			}
			return nil
		})
	}
	return info, nil
}

// Stats describes the spool in dir: the records and bytes waiting in it
// (live and sealed segments), and the records lost so far (the "dropped"
// counter). A missing directory is an empty spool.
func Stats(dir string) (records int, bytes int64, dropped int64, err error) {
	info, err := Inspect(dir)
	return info.Records, info.Bytes, info.Dropped, err
}
