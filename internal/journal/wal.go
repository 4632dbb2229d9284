package journal

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"
)

// SQLite's recovery of a WAL stops at the first frame whose checksum or salt
// does not match and silently drops everything after it, committed
// transactions included: a few damaged bytes in the middle of the log lose
// every acknowledged event after them without an error. walDamage reads the
// log before SQLite opens it and reports that case (format:
// https://www.sqlite.org/fileformat2.html#walformat).

// walHeaderSize and walFrameHeaderSize are fixed by the WAL format.
const (
	walHeaderSize      = 32
	walFrameHeaderSize = 24
)

// walScan is what walDamage found.
type walScan struct {
	// frames is the number of frames SQLite will use (up to the last commit
	// of the valid prefix).
	frames int
	// badFrame is the index of the first frame that fails, -1 for none.
	badFrame int
	// lostCommits counts the commit frames of the current log after
	// badFrame: committed transactions SQLite will drop.
	lostCommits int
	// badHeader is set when the header itself fails (SQLite ignores the
	// whole log).
	badHeader bool
}

// scanWAL reads the WAL at walPath. A missing or empty log is no damage.
func scanWAL(walPath string) (walScan, error) {
	sc := walScan{badFrame: -1}
	f, err := os.Open(walPath)
	if errors.Is(err, fs.ErrNotExist) {
		return sc, nil
	}
	if err != nil {
		return sc, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return sc, err
	}
	if fi.Size() <= walHeaderSize {
		return sc, nil
	}
	return scanWALFrom(bufio.NewReaderSize(f, 1<<16))
}

// scanWALFrom is scanWAL on the log's bytes.
func scanWALFrom(r io.Reader) (walScan, error) {
	sc := walScan{badFrame: -1}
	hdr := make([]byte, walHeaderSize)
	if _, err := io.ReadFull(r, hdr); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return sc, nil
		}
		return sc, err
	}
	be := binary.BigEndian
	magic := be.Uint32(hdr[0:])
	if magic&^1 != 0x377f0682 {
		sc.badHeader = true
		return sc, nil
	}
	var order binary.ByteOrder = binary.LittleEndian
	if magic&1 == 1 {
		order = binary.BigEndian
	}
	s0, s1 := walChecksum(order, hdr[:24], 0, 0)
	raw := be.Uint32(hdr[8:])
	pageSize := int(raw&0xfe00) + int(raw&1)<<16
	if s0 != be.Uint32(hdr[24:]) || s1 != be.Uint32(hdr[28:]) || pageSize < 512 || pageSize&(pageSize-1) != 0 {
		sc.badHeader = true
		return sc, nil
	}
	salt := hdr[16:24]
	frame := make([]byte, walFrameHeaderSize+pageSize)
	for i := 0; ; i++ {
		if _, err := io.ReadFull(r, frame); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return sc, nil
			}
			return sc, err
		}
		sameLog := string(frame[8:16]) == string(salt)
		commit := be.Uint32(frame[4:]) != 0
		if sc.badFrame >= 0 {
			if sameLog && commit {
				sc.lostCommits++
			}
			continue
		}
		c0, c1 := walChecksum(order, frame[:8], s0, s1)
		c0, c1 = walChecksum(order, frame[walFrameHeaderSize:], c0, c1)
		if !sameLog || be.Uint32(frame[0:]) == 0 || c0 != be.Uint32(frame[16:]) || c1 != be.Uint32(frame[20:]) {
			sc.badFrame = i
			continue
		}
		s0, s1 = c0, c1
		if commit {
			sc.frames = i + 1
		}
	}
}

// walChecksum is SQLite's WAL checksum of b (a multiple of 8 bytes) from
// s0, s1, reading 32-bit words in order.
func walChecksum(order binary.ByteOrder, b []byte, s0, s1 uint32) (uint32, uint32) {
	for i := 0; i+8 <= len(b); i += 8 {
		s0 += order.Uint32(b[i:]) + s1
		s1 += order.Uint32(b[i+4:]) + s0
	}
	return s0, s1
}

// checkWAL runs scanWAL on the journal at path. When SQLite would drop
// committed transactions it copies the log to <path>-wal.damaged-<time>
// (SQLite rewrites the log once it writes again) and returns a note; ""
// when the log is whole.
func checkWAL(path string, now time.Time) (string, error) {
	walPath := path + "-wal"
	sc, err := scanWAL(walPath)
	if err != nil {
		return "", fmt.Errorf("read the journal's write-ahead log %s: %w", walPath, err)
	}
	var what string
	switch {
	case sc.badHeader:
		what = "its header is damaged, so SQLite ignores the whole log"
	case sc.lostCommits > 0:
		what = fmt.Sprintf("frame %d is damaged, so SQLite drops it and the %d committed transactions after it", sc.badFrame+1, sc.lostCommits)
	default:
		return "", nil
	}
	kept := walPath + ".damaged-" + now.UTC().Format("20060102T150405.000Z")
	if err := copyFile(walPath, kept); err != nil {
		kept = "(could not keep a copy: " + err.Error() + ")"
	}
	return fmt.Sprintf("the journal's write-ahead log %s was damaged (%s): acknowledged events may be lost; the damaged log was copied to %s", walPath, what, kept), nil
}

// copyFile copies src to a new file dst (mode 0600) and fsyncs it.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(dst)
	}
	return err
}
