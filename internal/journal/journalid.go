package journal

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
)

// loadID reads the journal's identity, creating it on the journal's first
// open: 64 random bits kept in meta (k = 'journal_id'), which never change
// for the life of the file. A journal that is replaced (a reinstall, a
// damaged file moved aside) gets a new one, so fleet mode tells its seqs
// from the old journal's (fleet.Edge's message ids).
func (j *Journal) loadID(ctx context.Context) error {
	var raw [8]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return fmt.Errorf("journal: make its id: %w", err)
	}
	// The column is a signed 64-bit integer: keep the bits, show them unsigned.
	if _, err := j.w.ExecContext(ctx, "INSERT OR IGNORE INTO meta(k, v) VALUES ('journal_id', ?)", int64(binary.BigEndian.Uint64(raw[:]))); err != nil {
		return fmt.Errorf("journal: record its id: %w", err)
	}
	var v int64
	if err := j.w.QueryRowContext(ctx, "SELECT v FROM meta WHERE k = 'journal_id'").Scan(&v); err != nil {
		return fmt.Errorf("journal: read its id: %w", err)
	}
	j.id = fmt.Sprintf("%016x", uint64(v))
	return nil
}

// ID is the journal's identity: 16 hex digits made when the file was
// created, the same after every restart, different for every new journal.
func (j *Journal) ID() string { return j.id }
