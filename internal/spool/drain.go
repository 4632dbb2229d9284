package spool

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
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
	lf, err := os.OpenFile(filepath.Join(dir, drainLockName), os.O_RDWR|os.O_CREATE, 0o600)
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

	if err := sealLive(dir); err != nil {
		return 0, err
	}
	segs, err := listSegments(dir)
	if err != nil {
		return 0, err
	}
	for _, s := range segs {
		n, err := drainSegment(dir, filepath.Join(dir, s.name), deliver)
		delivered += n
		if err != nil {
			return delivered, err
		}
	}
	return delivered, nil
}

// sealLive renames a non-empty "live" to a sealed segment, then waits until
// no appender still writes to it.
func sealLive(dir string) error {
	live := filepath.Join(dir, liveName)
	fi, err := os.Stat(live)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if fi.Size() == 0 {
		return nil
	}
	seg := filepath.Join(dir, segName())
	if err := os.Rename(live, seg); err != nil {
		return err
	}
	f, err := os.Open(seg)
	if err != nil {
		return err
	}
	defer f.Close()
	return lockFile(f, true) // an appender that locked it before the rename finishes first
}

// drainSegment delivers one sealed segment's records and removes it.
func drainSegment(dir, path string, deliver func(Record) error) (int, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil // dropped for space meanwhile
	}
	if err != nil {
		return 0, err
	}
	defer f.Close()
	if err := lockFile(f, true); err != nil {
		return 0, err
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
	tmp := path + tmpSuffix
	if err := os.WriteFile(tmp, rest, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// Stats describes the spool in dir for mpm-verify: the records and bytes
// waiting in it (live and sealed segments), and the records lost so far
// (the "dropped" counter). A missing directory is an empty spool.
func Stats(dir string) (records int, bytes int64, dropped int64, err error) {
	dropped = readDropped(dir)
	names := []string{liveName}
	segs, err := listSegments(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, 0, dropped, nil
	}
	if err != nil {
		return 0, 0, dropped, err
	}
	for _, s := range segs {
		names = append(names, s.name)
	}
	for _, n := range names {
		data, err := os.ReadFile(filepath.Join(dir, n))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return records, bytes, dropped, err
		}
		bytes += int64(len(data))
		ReadRecords(data, func(Record, int) error { records++; return nil })
	}
	return records, bytes, dropped, nil
}
