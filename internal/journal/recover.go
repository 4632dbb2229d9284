package journal

import (
	"bytes"
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
