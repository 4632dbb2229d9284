package journal

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"
)

// sqliteMagic starts every SQLite database file.
var sqliteMagic = []byte("SQLite format 3\x00")

// checkHeader reports a file that is not a SQLite database before SQLite
// opens it: SQLite may discard a -wal file it finds next to such a file,
// and a damaged journal's files must be kept whole. A missing or empty file
// is fine (a new journal).
func checkHeader(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("open journal %s: %w (check the data directory's permissions)", path, err)
	}
	defer f.Close()
	head := make([]byte, 100)
	n, err := io.ReadFull(f, head)
	if n == 0 && err == io.EOF {
		return nil
	}
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("read journal %s: %w", path, err)
	}
	if n < len(head) || !bytes.Equal(head[:len(sqliteMagic)], sqliteMagic) {
		return &corruptError{msg: "not a SQLite database (bad header)"}
	}
	return nil
}

// moveAside renames a damaged journal and its -wal and -shm files to
// <path>.corrupt-<UTC time>[-wal|-shm]; nothing is deleted. It then tries to
// read the highest seq the damaged copy still knows, so that a fresh journal
// can continue after it (0 when unreadable).
func moveAside(path string, now time.Time) (moved string, lastSeq uint64, err error) {
	moved = path + ".corrupt-" + now.UTC().Format("20060102T150405.000Z")
	if err := os.Rename(path, moved); err != nil {
		return "", 0, err
	}
	for _, suffix := range []string{"-wal", "-shm"} {
		if err := os.Rename(path+suffix, moved+suffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return moved, 0, fmt.Errorf("moved %s but not its %s file: %w", path, suffix, err)
		}
	}
	return moved, salvageLastSeq(moved), nil
}

// salvageLastSeq reads the largest seq recorded in a damaged journal, or 0.
func salvageLastSeq(path string) uint64 {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		return 0
	}
	defer db.Close()
	var best uint64
	for _, q := range []string{"SELECT v FROM meta WHERE k = 'last_seq'", "SELECT MAX(seq) FROM events"} {
		var v sql.NullInt64
		if db.QueryRow(q).Scan(&v) == nil && v.Valid && uint64(v.Int64) > best {
			best = uint64(v.Int64)
		}
	}
	return best
}

// markerSuffix names the file the background integrity check leaves next to
// a damaged journal, so that the next start moves it aside.
const markerSuffix = ".damaged"

// checkMarker reports a journal that the background check found damaged.
func checkMarker(path string) error {
	b, err := os.ReadFile(path + markerSuffix)
	if err != nil {
		return nil
	}
	os.Remove(path + markerSuffix)
	return &corruptError{msg: "the integrity check of the previous run found damage: " + string(b)}
}

// checkGate, when not nil, holds the background check until it is closed
// (a test telling what Open found from what the check finds).
var checkGate chan struct{}

// backgroundCheck runs PRAGMA quick_check on a journal too large to check
// before start-up. On damage it logs an error, says so in Note and leaves a
// marker so that the next start moves the file aside; the daemon keeps
// running on what is readable.
func (j *Journal) backgroundCheck() {
	defer j.done.Done()
	if g := checkGate; g != nil {
		select {
		case <-g:
		case <-j.stop:
			return
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-j.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	start := time.Now()
	err := quickCheck(ctx, j.r)
	switch {
	case err == nil:
		j.log.Debug("journal integrity check passed", "took", time.Since(start))
	case isCorrupt(err):
		os.WriteFile(j.opts.Path+markerSuffix, []byte(err.Error()), 0o600)
		j.note.Store(fmt.Sprintf("journal %s is damaged (%v); restart mpm-wsd to move it aside and start a fresh one", j.opts.Path, err))
		j.log.Error("journal integrity check found damage; restart mpm-wsd to move it aside and start a fresh one", "path", j.opts.Path, "error", err)
	case ctx.Err() == nil:
		j.log.Warn("journal integrity check did not run to the end", "error", err)
	}
}
