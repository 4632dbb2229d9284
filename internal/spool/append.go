package spool

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/mpm-dev/mpm/internal/spool/recscan"
)

// DefaultMaxBytes bounds the spool directory's size.
const DefaultMaxBytes int64 = 64 << 20

// SegmentBytes is the size at which the live segment is sealed (or half
// the bound, when that is smaller). It keeps what an appender may have to
// do rare but bounded: dropping the oldest segment reads it through to
// count its records, which for a 32 MiB segment took a hook ~200 ms.
const SegmentBytes int64 = 1 << 20

// DropSlackSegments is how many segments more than needed a full spool
// drops when it must drop: its oldest segments go until the sealed ones take
// the bound less this many segments more (less an eighth of it, for a small
// bound). Dropping reads a segment through and unlinks it; in a long outage
// at 256 KiB events, one hook run in four paid for it (~0.65 ms more, the
// median run 1.67-1.74x an empty program against 1.52x with room); now one
// in sixteen does, for four segments at once.
const DropSlackSegments = 3

// File names inside the spool directory (see the package documentation).
const (
	liveName      = "live"
	segPrefix     = "seg-"
	droppedName   = "dropped"
	lockName      = "lock"
	drainLockName = "drain.lock"
	tmpSuffix     = ".tmp"
)

// maxReopen bounds how often an appender reopens "live" after finding it was
// renamed under it; each round means someone else made progress.
const maxReopen = 32

// ErrTooLarge is returned by Append for a record larger than half the bound;
// it is counted in "dropped".
var ErrTooLarge = errors.New("spool: record larger than half the spool's bound; dropped")

// Append adds rec to the spool in dir (created, mode 0700, when missing) with
// the default bound, in one write.
func Append(dir string, rec Record) error { return AppendLimit(dir, rec, DefaultMaxBytes) }

// AppendLimit is Append with the bound maxBytes.
//
// It waits at most LockWait for the live segment's lock; when another
// process holds it longer (or "live" is not a regular file, or cannot be
// opened), the record goes to a new sealed segment of its own instead,
// so that nothing is lost and the hook never waits long.
func AppendLimit(dir string, rec Record, maxBytes int64) error {
	head, err := encodeHead(rec)
	if err != nil {
		return err
	}
	size := int64(len(head) + len(rec.Payload) + 1)
	if size > maxBytes/2 {
		addDropped(dir, 1)
		return ErrTooLarge
	}
	deadline := time.Now().Add(lockWait)
	segLimit := min(SegmentBytes, maxBytes/2)
	live := filepath.Join(dir, liveName)
	if handled, err := appendFast(live, [][]byte{head, rec.Payload, {'\n'}}, size, segLimit, deadline); handled {
		return err
	}
	return appendGeneral(dir, live, head, rec.Payload, size, segLimit, maxBytes, deadline)
}

// appendGeneral is AppendLimit when appendFast did not handle the record:
// the directory is missing, "live" must be sealed, is not a regular file,
// or is held too long. It is a function of its own so that the usual
// append runs in a small stack frame (a hook run whose stack must grow
// pays for a copy).
func appendGeneral(dir, live string, head, payload []byte, size, segLimit, maxBytes int64, deadline time.Time) error {
	b := make([]byte, 0, size)
	b = append(append(append(b, head...), payload...), '\n')
	for attempt := 0; attempt < maxReopen; attempt++ {
		f, err := openRegular(live, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if errors.Is(err, fs.ErrNotExist) {
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return err
			}
			f, err = openRegular(live, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		}
		if err != nil {
			// "live" is a directory, a FIFO, someone else's file...: the
			// record goes beside it.
			return appendAside(dir, b)
		}
		fi, err := f.Stat()
		if err != nil {
			f.Close()
			return err
		}
		renamed := func() bool {
			pi, err := os.Stat(live)
			return err == nil && !os.SameFile(fi, pi)
		}
		if err := lockUntil(f, deadline, renamed); err != nil {
			f.Close()
			if !errors.Is(err, errLockTimeout) {
				return err
			}
			if renamed() {
				continue // renamed by a drainer: the new "live" is free
			}
			return appendAside(dir, b)
		}
		if pi, err := os.Stat(live); err != nil || !os.SameFile(fi, pi) {
			// Renamed by a drainer or a rotating appender: the new "live" is
			// the one to write to.
			f.Close()
			continue
		}
		if fi, err = f.Stat(); err != nil {
			f.Close()
			return err
		}
		if fi.Size() > 0 && fi.Size()+int64(len(b)) > segLimit {
			if rotate(dir, maxBytes-segLimit, segLimit, deadline) == nil {
				f.Close()
				continue
			}
			// Could not seal it (on Windows, renaming a file another
			// process holds open fails; or the rotation lock was busy):
			// keep appending up to the whole bound rather than lose this
			// event.
			if fi.Size()+int64(len(b)) > maxBytes {
				f.Close()
				addDropped(dir, 1)
				return errors.New("spool: full and the live segment cannot be sealed; event dropped")
			}
		}
		_, werr := f.Write(b)
		cerr := f.Close() // also releases the lock
		if werr != nil {
			return werr
		}
		return cerr
	}
	return appendAside(dir, b)
}

// asideSeq tells apart the segments one process writes aside.
var asideSeq atomic.Uint64

// appendAside writes record b as a sealed segment of its own (written
// under a temporary name, then renamed, so that a drainer sees all of it or
// nothing). Such a segment is drained like any other; the bound counts it
// at the next rotation.
func appendAside(dir string, b []byte) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	name := filepath.Join(dir, segName()+"-a"+strconv.FormatUint(asideSeq.Add(1), 10))
	f, err := os.OpenFile(name+tmpSuffix, os.O_WRONLY|os.O_CREATE|os.O_EXCL|nonblock, 0o600)
	if err != nil {
		return err
	}
	_, werr := f.Write(b)
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(name+tmpSuffix, name)
	}
	if werr != nil {
		os.Remove(name + tmpSuffix)
	}
	return werr
}

// segName returns a new sealed segment's name; names sort by age.
func segName() string {
	ns := strconv.FormatInt(time.Now().UnixNano(), 10)
	for len(ns) < 20 {
		ns = "0" + ns
	}
	return segPrefix + ns + "-" + strconv.Itoa(os.Getpid())
}

// rotate seals "live" (whose lock the caller holds); when the sealed
// segments then take more than keep bytes, it drops the oldest until they
// take at most dropTo(keep, segLimit).
func rotate(dir string, keep, segLimit int64, deadline time.Time) error {
	return withDirLock(dir, deadline, func() error {
		if err := os.Rename(filepath.Join(dir, liveName), filepath.Join(dir, segName())); err != nil {
			return err
		}
		segs, err := listSegments(dir)
		if err != nil {
			return err
		}
		var total int64
		for _, s := range segs {
			total += s.size
		}
		if total <= keep {
			return nil
		}
		keep = dropTo(keep, segLimit)
		var lost int64
		for _, s := range segs {
			if total <= keep {
				break
			}
			n, ok := dropSegment(filepath.Join(dir, s.name))
			if ok {
				total -= s.size
				lost += n
			}
		}
		if lost > 0 {
			return addDroppedLocked(dir, lost)
		}
		return nil
	})
}

// dropTo is what a spool over keep bytes of sealed segments drops down to:
// DropSlackSegments segments less, or an eighth less for a small bound.
func dropTo(keep, segLimit int64) int64 {
	return keep - min(DropSlackSegments*segLimit, keep/8)
}

// dropSegment deletes a sealed segment unless a drainer holds it, and returns
// how many records it held.
func dropSegment(path string) (int64, bool) {
	f, err := openRegular(path, os.O_RDONLY, 0)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	if err := lockFile(f, false); err != nil {
		return 0, false // a drainer is delivering it
	}
	fi, err := f.Stat()
	if err != nil {
		return 0, false
	}
	if pi, err := os.Stat(path); err != nil || !os.SameFile(fi, pi) {
		return 0, false
	}
	data, err := readAll(f, fi.Size())
	if err != nil {
		return 0, false
	}
	var n int64
	damaged, _ := ReadRecords(data, func(Record, int) error { n++; return nil })
	if err := os.Remove(path); err != nil {
		return 0, false
	}
	return n + int64(damaged), true
}

type segment struct {
	name string
	size int64
}

// listSegments returns the sealed segments, oldest first.
func listSegments(dir string) ([]segment, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var segs []segment
	for _, e := range ents { // ReadDir sorts by name: oldest first
		n := e.Name()
		if len(n) <= len(segPrefix) || n[:len(segPrefix)] != segPrefix || filepath.Ext(n) == tmpSuffix {
			continue
		}
		if !e.Type().IsRegular() {
			continue // a directory or FIFO named like a segment: never ours
		}
		info, err := e.Info()
		if err != nil {
			continue // removed meanwhile
		}
		segs = append(segs, segment{name: n, size: info.Size()})
	}
	return segs, nil
}

// withDirLock runs fn holding the exclusive lock on the spool's "lock" file,
// waiting for it until deadline.
func withDirLock(dir string, deadline time.Time, fn func() error) error {
	f, err := openRegular(filepath.Join(dir, lockName), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := lockUntil(f, deadline); err != nil {
		return err
	}
	return fn()
}

// addDropped adds n to the "dropped" counter, best effort.
func addDropped(dir string, n int64) {
	if os.MkdirAll(dir, 0o700) != nil {
		return
	}
	withDirLock(dir, time.Now().Add(drainLockWait), func() error { return addDroppedLocked(dir, n) })
}

// addDroppedLocked adds n to "dropped"; the caller holds the dir lock.
func addDroppedLocked(dir string, n int64) error {
	path := filepath.Join(dir, droppedName)
	cur := readDropped(dir)
	tmp := path + "." + strconv.Itoa(os.Getpid()) + tmpSuffix
	return replaceFile(path, tmp, []byte(strconv.FormatInt(cur+n, 10)+"\n"))
}

// readDropped returns the "dropped" counter, 0 when absent or unreadable.
func readDropped(dir string) int64 {
	b, err := readRegular(filepath.Join(dir, droppedName))
	if err != nil {
		return 0
	}
	return recscan.ParseDropped(b)
}

// readAll reads the whole of f, whose size was size a moment ago.
func readAll(f *os.File, size int64) ([]byte, error) {
	buf := make([]byte, 0, size+512)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := f.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err != nil {
			if errors.Is(err, io.EOF) {
				return buf, nil
			}
			return buf, err
		}
	}
}
