// Package spool is the hook's fallback when mpm-wsd does not answer: a
// size-bounded directory of append-only segment files that mpm-hook writes
// one record to per event, and that mpm-wsd drains, oldest first, when it
// starts and from time to time.
//
// # Record format
//
// Every record is one header line followed by the payload, byte for byte,
// and a newline:
//
//	MPM1 <key> <sent_unix_nano> <len> <crc32c-hex>\n<payload: len bytes>\n
//
// key is the event's Idempotency-Key (1 to 128 printable ASCII characters,
// no space), sent_unix_nano the hook's clock when it first tried to send,
// len the payload's length in decimal, crc32c-hex the payload's CRC-32
// (Castagnoli) as 8 lower-case hex digits. A payload may contain anything,
// newlines included. The checksum lets a reader tell a complete record from
// one that was torn by a crash (or a kill) in the middle of its write and then
// had another record appended behind it: the reader skips damaged bytes up to
// the next header that checks out, and counts each damaged stretch as one
// lost record.
//
// # Files in the spool directory
//
//	live                    the segment appenders write to (O_APPEND, one write per record)
//	seg-<unixnano>-<pid>    sealed segments, drained in name (= age) order
//	seg-<unixnano>-<pid>-aN a record written aside (see Concurrency), a sealed segment too
//	dropped                 decimal count of records lost: oldest segments dropped
//	                        for space, records too large to keep, damaged records skipped
//	lock                    serialises rotation and updates of "dropped"
//	drain.lock              held by the one process draining
//
// # Bound
//
// The live segment is sealed (renamed to a seg- name) when a record would
// make it larger than SegmentBytes (1 MiB, or half the bound if smaller);
// then the oldest sealed segments are deleted, their records added to
// "dropped", until the sealed segments take at most the bound less one
// segment. So the spool never holds much more than the bound
// (DefaultMaxBytes, 64 MiB), and when it must lose something it loses the
// oldest events first. A record larger than half the bound is refused and
// counted.
//
// # Concurrency
//
// Appenders open "live", take an exclusive advisory lock on it, and check
// that the path still names the file they locked (a drainer or a rotating
// appender may have renamed it meanwhile); if not they reopen. A drainer
// renames "live" to a seg- name and then takes the lock on it, which waits
// for any appender still writing to it: after that no one writes to the
// segment again, so no record appended during a drain is lost. A segment is
// removed only after every record in it was delivered.
//
// No one waits long: an appender waits at most LockWait (80 ms) for the
// live segment's lock; when someone holds it longer (a stuck process), or
// "live" is not a regular file or cannot be opened, the record is written
// aside, to a sealed segment of its own (temporary name, then renamed), so
// nothing is lost; such a record may be delivered before records appended
// to "live" just before it. A drainer waits at most a second for a segment's
// lock, then stops and tries again later. Every spool file is opened with
// O_NONBLOCK and used only when it is a regular file: a directory or FIFO
// named like a segment is skipped (a non-regular "live" is moved aside to
// live.bad-<time>), so neither drains nor the daemon's shutdown can hang on
// one. On Windows the lock is
// LockFileEx; renaming a file another process holds open may fail there, and
// the drain is then retried later.
package spool

import (
	"errors"
	"strconv"
	"time"

	"github.com/mpm-dev/mpm/internal/protocol"
	"github.com/mpm-dev/mpm/internal/spool/crc32c"
	"github.com/mpm-dev/mpm/internal/spool/recscan"
)

// Magic starts every record header.
const Magic = recscan.Magic

// MaxKeyLen is the longest Idempotency-Key a record may carry (the daemon's
// limit too).
const MaxKeyLen = protocol.MaxKeyLen

// maxHeaderLen bounds a header line: magic, key, two 20-digit numbers, a
// checksum and separators.
const maxHeaderLen = len(Magic) + MaxKeyLen + 1 + 20 + 1 + 20 + 1 + 8 + 1

// MaxPayload is the largest payload a record may carry; a header claiming
// more is treated as damage.
const MaxPayload = recscan.MaxPayload

// checksum is the payload's CRC-32C (package crc32c: without hash/crc32's
// start-up cost).
func checksum(p []byte) uint32 { return crc32c.Checksum(p) }

// Record is one spooled event.
type Record struct {
	// Key is the event's Idempotency-Key, made up by the hook; the daemon
	// uses it to ignore a second delivery of the same event.
	Key string
	// SentAt is when the hook first tried to send the event (Mpm-Sent-At).
	SentAt time.Time
	// Payload is the hook's stdin JSON, byte for byte.
	Payload []byte
}

// ErrBadKey is returned for a key that is empty, too long, or holds a
// character outside printable ASCII or a space.
var ErrBadKey = errors.New("spool: idempotency key must be 1-128 printable ASCII characters without spaces")

// Encode returns rec in the spool's record format, ready for a single write.
func Encode(rec Record) ([]byte, error) {
	head, err := encodeHead(rec)
	if err != nil {
		return nil, err
	}
	b := make([]byte, 0, len(head)+len(rec.Payload)+1)
	b = append(b, head...)
	b = append(b, rec.Payload...)
	return append(b, '\n'), nil
}

// encodeHead returns rec's header line; the record is the header, the
// payload and a newline.
func encodeHead(rec Record) ([]byte, error) {
	if !protocol.ValidKey(rec.Key) {
		return nil, ErrBadKey
	}
	if len(rec.Payload) > MaxPayload {
		return nil, errors.New("spool: payload larger than 1 GiB")
	}
	b := make([]byte, 0, maxHeaderLen)
	b = append(b, Magic...)
	b = append(b, rec.Key...)
	b = append(b, ' ')
	var ns int64
	if !rec.SentAt.IsZero() {
		ns = rec.SentAt.UnixNano()
	}
	b = strconv.AppendInt(b, ns, 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(len(rec.Payload)), 10)
	b = append(b, ' ')
	b = appendHex32(b, checksum(rec.Payload))
	return append(b, '\n'), nil
}

func appendHex32(b []byte, v uint32) []byte {
	const digits = "0123456789abcdef"
	for shift := 28; shift >= 0; shift -= 4 {
		b = append(b, digits[(v>>uint(shift))&0xf])
	}
	return b
}

// ReadRecords parses the records in data, a segment's bytes, in order. For
// each complete record it calls fn with the record and the offset just past
// it; rec.Payload aliases data. If fn returns an error, ReadRecords stops and
// returns it. Damaged bytes (a torn record, a bad header, a checksum that does
// not match, a torn tail) are skipped up to the next record that checks out;
// damaged counts the damaged stretches, each one lost record. The parsing is
// package recscan's, which mpm-hook's Linux path shares.
func ReadRecords(data []byte, fn func(rec Record, end int) error) (damaged int, err error) {
	return recscan.Scan(data, func(r recscan.Record, end int) error {
		rec := Record{Key: string(r.Key), Payload: r.Payload}
		if r.SentNano != 0 {
			rec.SentAt = time.Unix(0, r.SentNano)
		}
		return fn(rec, end)
	})
}
